package transport_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"polyconnect.dev/protocol/transport"
)

func TestDialAddr(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{Port: 80}, "127.0.0.1:80"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 443}, "[::1]:443"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 9}, "192.0.2.7:9"},
		{&net.UDPAddr{IP: net.IPv4zero, Port: 4433}, "127.0.0.1:4433"},
		{&net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 4433}, "[2001:db8::1]:4433"},
		{&net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, "/run/app.sock"},
	}
	for _, tt := range tests {
		if got := transport.DialAddr(tt.addr); got != tt.want {
			t.Errorf("DialAddr(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8080", ":8080", "localhost:0", "[::1]:443", "example.com:65535"} {
		if err := transport.CheckAddr(ok); err != nil {
			t.Errorf("CheckAddr(%q) = %v", ok, err)
		}
	}
	tests := map[string]string{
		"http://127.0.0.1:8080":   `has a scheme: give host:port, such as "127.0.0.1:8080"`,
		"https://api.test:443/v1": `has a scheme: give host:port, such as "api.test:443"`,
		"127.0.0.1:8080/api":      `has a path: give host:port, such as "127.0.0.1:8080"`,
		"localhost":               `has no port: give host:port, such as "localhost:8080", or "localhost:0"`,
		"::1":                     "is not host:port: too many colons",
		"localhost:http":          `the port "http" is not a number`,
		"localhost:70000":         `the port "70000" is not a number`,
		"localhost:":              `the port "" is not a number`,
		"local host:80":           "the host has spaces",
		"[::1]":                   `has no port: give host:port, such as "[::1]:8080"`,
	}
	for addr, want := range tests {
		err := transport.CheckAddr(addr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAddr(%q) = %v, want an error with %q", addr, err, want)
			continue
		}
		if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "transport: addr ") {
			t.Errorf("CheckAddr(%q) = %q, want one line naming the setting", addr, err)
		}
	}
}

func TestServerErrorLog(t *testing.T) {
	var buf bytes.Buffer
	cfg := transport.Config{Name: "h2c", Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	l := cfg.ServerErrorLog()
	l.Printf("http2: server connection error from 127.0.0.1:1234: connection error: PROTOCOL_ERROR")
	l.Printf("http: panic serving 127.0.0.1:1234: boom")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q", buf.String())
	}
	for i, want := range []string{
		`level=WARN msg="http2: server connection error from 127.0.0.1:1234: connection error: PROTOCOL_ERROR" transport=h2c`,
		`level=ERROR msg="http: panic serving 127.0.0.1:1234: boom" transport=h2c`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
}

func TestServerErrorLogDefaultsToSlogDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	defer slog.SetDefault(old)
	l := transport.Config{Name: "h2"}.ServerErrorLog() // before SetDefault: resolved per line
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	l.Print("http: TLS handshake error from 127.0.0.1:1234: EOF")
	if !strings.Contains(buf.String(), `msg="http: TLS handshake error from 127.0.0.1:1234: EOF" transport=h2`) {
		t.Errorf("default logger got %q", buf.String())
	}
}
