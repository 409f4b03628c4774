package transport

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// httpTransport is a test transport on net/http's client: cleartext, or
// "https" URLs when secure, recording the configs of the clients it
// builds.
type httpTransport struct {
	secure bool
	mu     sync.Mutex
	cfgs   []Config
}

func (*httpTransport) NewServer(Config, http.Handler) (Server, error) { return fakeServer{}, nil }

func (h *httpTransport) NewClient(cfg Config) (Client, error) {
	h.mu.Lock()
	h.cfgs = append(h.cfgs, cfg)
	h.mu.Unlock()
	scheme := "http://"
	if h.secure {
		scheme = "https://"
	}
	return &httpClient{Client: &http.Client{Transport: &http.Transport{}}, url: scheme + cfg.Addr}, nil
}

type httpClient struct {
	*http.Client
	url string
}

func (c *httpClient) URL() string { return c.url }

func TestBalanceConfigJSON(t *testing.T) {
	var cfg Config
	err := json.Unmarshal([]byte(`{"name": "h2c", "addr": "greet:8080",
		"balance": {"addrs": ["10.0.0.1:8080", "10.0.0.2:8080"], "policy": "least_loaded", "ejection_time": "1s"}}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Balance
	if b == nil || len(b.Addrs) != 2 || b.Policy != "least_loaded" || b.EjectionTime != Duration(time.Second) {
		t.Fatalf("decoded %+v", b)
	}
	out, _ := json.Marshal(Config{Name: "h2", Addr: "a:1", Balance: &BalanceConfig{Resolve: ResolveDNS, ResolveInterval: Duration(10 * time.Second)}})
	if want := `"balance":{"resolve":"dns","resolve_interval":"10s"}`; !strings.Contains(string(out), want) {
		t.Errorf("encoded %s, want it to contain %s", out, want)
	}
}

func TestNewClientBalancesOverReplicas(t *testing.T) {
	emptyDefaultRegistry(t)
	tr := &httpTransport{}
	Register("lb-test", tr)
	var hits [3]atomic.Int64
	var addrs []string
	var servers []*httptest.Server
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			_, _ = io.WriteString(w, r.Host)
		}))
		t.Cleanup(srv.Close)
		servers = append(servers, srv)
		addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
	}
	c, err := NewClient(Config{Name: "lb-test", Addr: "svc:1", Balance: &BalanceConfig{Addrs: addrs}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if c.URL() != "http://svc:1" {
		t.Errorf("URL = %q, want the logical http://svc:1", c.URL())
	}
	call := func() {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.URL()+"/x", nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "svc:1" {
			t.Fatalf("replica saw Host %q", body)
		}
	}
	for range 9 {
		call()
	}
	for i := range hits {
		if hits[i].Load() != 3 {
			t.Errorf("replica %d: %d requests, want 3", i, hits[i].Load())
		}
	}
	servers[0].Close()
	for range 9 {
		call()
	}
	if hits[1].Load()+hits[2].Load() != 15 {
		t.Errorf("after a replica died: %d + %d requests, want 15", hits[1].Load(), hits[2].Load())
	}
	// One client for the logical address (URL, early errors), one per replica.
	if len(tr.cfgs) != 4 {
		t.Errorf("built %d clients, want 4", len(tr.cfgs))
	}
	for _, cfg := range tr.cfgs {
		if cfg.Balance != nil || cfg.TLS != nil {
			t.Errorf("replica client config %+v: Balance or TLS set", cfg)
		}
	}
}

func TestNewClientBalanceTLSServerName(t *testing.T) {
	emptyDefaultRegistry(t)
	tr := &httpTransport{secure: true}
	Register("lb-tls", tr)
	build := func(cfg Config) Config {
		t.Helper()
		tr.cfgs = nil
		cfg.Name, cfg.Addr = "lb-tls", "svc.internal:443"
		cfg.Balance = &BalanceConfig{Addrs: []string{"10.0.0.1:443"}}
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.URL() != "https://svc.internal:443" {
			t.Errorf("URL = %q", c.URL())
		}
		return tr.cfgs[len(tr.cfgs)-1]
	}
	if got := build(Config{}); got.Addr != "10.0.0.1:443" || got.TLS == nil || got.TLS.ServerName != "svc.internal" {
		t.Errorf("no TLS settings: replica config %+v, TLS %+v", got, got.TLS)
	}
	ca := &TLSConfig{CAPEM: "x"}
	if got := build(Config{TLS: ca}); got.TLS.ServerName != "svc.internal" || got.TLS.CAPEM != "x" || ca.ServerName != "" {
		t.Errorf("TLS fields: replica TLS %+v, caller's %+v", got.TLS, ca)
	}
	if got := build(Config{TLS: &TLSConfig{ServerName: "chosen"}}); got.TLS.ServerName != "chosen" {
		t.Errorf("explicit server name replaced: %q", got.TLS.ServerName)
	}
	hatch := &tls.Config{}
	if got := build(Config{TLSConfig: hatch}); got.TLSConfig == hatch || got.TLSConfig.ServerName != "svc.internal" || hatch.ServerName != "" {
		t.Errorf("TLSConfig not cloned with the server name")
	}
}

func TestNewClientBalanceErrors(t *testing.T) {
	emptyDefaultRegistry(t)
	Register("lb-err", &httpTransport{})
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Balance: &BalanceConfig{Addrs: []string{"a:1"}}}, "logical host:port"},
		{Config{Addr: "svc:1", Balance: &BalanceConfig{}}, "needs addrs"},
		{Config{Addr: "svc:1", Balance: &BalanceConfig{Resolve: "dns", Addrs: []string{"a:1"}}}, "for resolve \"static\""},
		{Config{Addr: "svc:1", Balance: &BalanceConfig{Resolve: "srv"}}, "not \"static\" or \"dns\""},
		{Config{Addr: "svc:1", Balance: &BalanceConfig{Addrs: []string{"a:1"}, Policy: "random"}}, "balance.policy"},
	}
	for _, tt := range tests {
		tt.cfg.Name = "lb-err"
		_, err := NewClient(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want one containing %q", tt.cfg.Balance, err, tt.want)
		}
	}
	c, err := NewClient(Config{Name: "lb-err", Addr: "localhost:1", Balance: &BalanceConfig{Resolve: ResolveDNS}})
	if err != nil || c.URL() != "http://localhost:1" {
		t.Errorf("dns: %v, %v", c, err)
	}
}
