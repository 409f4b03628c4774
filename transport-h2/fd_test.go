//go:build unix

package h2

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/protocol/transport/transporttest"
)

// TestServerSurvivesDescriptorExhaustion: the accept loop used to return
// on any error but a timeout, so a moment of "too many open files" stopped
// the server for good.
func TestServerSurvivesDescriptorExhaustion(t *testing.T) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			transporttest.DescriptorExhaustion(t, func(t testing.TB, logger *slog.Logger) string {
				cfg := serverConfig(t, name)
				cfg.Logger = logger
				return startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, "ok")
				})).URL()
			}, func(url string) error {
				// The child made its own certificates: what is under test is
				// whether it serves, not whom the client trusts.
				cfg := transport.Config{Name: name}
				if name == NameH2 {
					cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true}
				}
				c, err := NewClient(cfg)
				if err != nil {
					return err
				}
				defer c.CloseIdleConnections()
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					return err
				}
				res, err := c.Do(req)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				_, err = io.ReadAll(res.Body)
				return err
			})
		})
	}
}

func TestPortInUse(t *testing.T) {
	srv := startServer(t, serverConfig(t, NameH2C), http.NotFoundHandler())
	cfg := serverConfig(t, NameH2C)
	cfg.Addr = srv.Addr().String()
	other, err := NewServer(cfg, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	err = other.Start()
	want := "h2: h2c-rpc server cannot listen on " + cfg.Addr + ": address already in use (another program"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Start = %v, want %q…", err, want)
	}
}
