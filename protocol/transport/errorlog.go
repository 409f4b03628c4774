package transport

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// ServerErrorLog returns a *log.Logger, for http.Server.ErrorLog and
// servers like it, that forwards each line to c.Logger ([slog.Default] if
// nil) as a structured record: the line is the message, the attribute
// "transport" is c.Name, and the level is LevelError for panics and
// LevelWarn for the rest, which are mostly clients misbehaving (failed TLS
// handshakes, HTTP/2 protocol errors, malformed requests). Transports use
// it so that these lines go where the program's logs go, and can be
// filtered there, rather than straight to standard error.
func (c Config) ServerErrorLog() *log.Logger {
	return log.New(slogWriter{logger: c.Logger, name: c.Name}, "", 0)
}

// slogWriter turns the lines a *log.Logger writes into slog records.
type slogWriter struct {
	logger *slog.Logger // nil: slog.Default() at each line
	name   string
}

func (w slogWriter) Write(p []byte) (int, error) {
	l := w.logger
	if l == nil {
		l = slog.Default()
	}
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.Contains(msg, "panic") {
		level = slog.LevelError
	}
	l.Log(context.Background(), level, msg, "transport", w.name)
	return len(p), nil
}
