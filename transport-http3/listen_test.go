package h3_test

import (
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"

	h3 "polyconnect.dev/transport-http3"
)

func TestPortInUse(t *testing.T) {
	srv := startServer(t, serverConfig(t), http.NotFoundHandler())
	cfg := serverConfig(t)
	cfg.Addr = srv.Addr().String()
	other, err := h3.NewServer(cfg, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	err = other.Start()
	want := "h3: h3 server cannot listen on " + cfg.Addr + ": address already in use (another program"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Start = %v, want %q…", err, want)
	}
}
