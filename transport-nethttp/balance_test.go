package nethttp_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/transport-nethttp/certs"
)

// TestBalancedClient builds a client for three replicas through
// transport.NewClient with a Balance section, on every transport: calls
// reach every replica with the logical Host, TLS verifies the logical name
// (the certificate names only "greet.internal", the replicas are dialled
// by IP), and a replica that dies is skipped.
func TestBalancedClient(t *testing.T) {
	p, err := certs.NewTestPKI("greet.internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			var hits [3]atomic.Int64
			var addrs []string
			var servers []interface{ Close() error }
			for i := range hits {
				cfg := s.server
				if cfg.TLS != nil {
					cfg.TLS = p.ServerTLS()
				}
				srv := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits[i].Add(1)
					fmt.Fprintf(w, "%s ", r.Host)
					protoHandler(w, r)
				}))
				servers = append(servers, srv)
				addrs = append(addrs, srv.Addr().String())
			}
			cfg := s.client
			if cfg.TLS != nil {
				cfg.TLS = p.ClientTLS()
			}
			cfg.Addr = "greet.internal:8443"
			cfg.Balance = &transport.BalanceConfig{Addrs: addrs}
			c, err := transport.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			if !strings.HasSuffix(c.URL(), "://greet.internal:8443") {
				t.Errorf("URL = %q", c.URL())
			}
			want := fmt.Sprintf("greet.internal:8443 %d tls=%t", s.protoMajor, s.tls)
			call := func() {
				t.Helper()
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.URL()+"/", nil)
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body := readAll(t, res)
				if !strings.HasPrefix(body, want) {
					t.Fatalf("body %q, want %q…", body, want)
				}
			}
			for range 9 {
				call()
			}
			for i := range hits {
				if hits[i].Load() != 3 {
					t.Errorf("replica %d: %d calls, want 3", i, hits[i].Load())
				}
			}
			_ = servers[1].Close()
			for range 10 {
				call()
			}
			if hits[0].Load()+hits[2].Load() != 16 {
				t.Errorf("after replica 1 died: %d + %d calls, want 16", hits[0].Load(), hits[2].Load())
			}
		})
	}
}
