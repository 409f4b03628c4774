package main

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"polyconnect.dev/protocol/transport"
)

// TestYAMLUnknownKeys checks transport.Config's strictness with a real YAML
// library and the plain yaml.Unmarshal that the README's walkthrough uses:
// a misspelt key is an error naming the key and its line, whatever its
// value's shape.
func TestYAMLUnknownKeys(t *testing.T) {
	cases := []struct {
		name, doc string
		want      transport.ConfigKeyError
	}{
		{"scalar", "name: h2c\naddr: 127.0.0.1:8080\nidle_timout: 5s\n",
			transport.ConfigKeyError{Key: "idle_timout", Line: 3, Type: "transport.Config", Suggest: "idle_timeout"}},
		{"mapping", "name: h2\ntsl:\n  ca_file: ca.pem\n",
			transport.ConfigKeyError{Key: "tsl", Line: 2, Type: "transport.Config", Suggest: "tls"}},
		{"sequence", "name: h2c\nbalance:\n  adrs: [a:1, b:2]\n",
			transport.ConfigKeyError{Key: "balance.adrs", Line: 3, Type: "transport.BalanceConfig", Suggest: "addrs"}},
		{"nested scalar", "name: h2\ntls:\n  ca_file: ca.pem\n  server_nam: example.com\n",
			transport.ConfigKeyError{Key: "tls.server_nam", Line: 4, Type: "transport.TLSConfig", Suggest: "server_name"}},
		{"null", "name: h2c\nidle_timout:\n",
			transport.ConfigKeyError{Key: "idle_timout", Line: 2, Type: "transport.Config", Suggest: "idle_timeout"}},
		// The library shortens long keys in its errors to 7 characters,
		// which these two share; the line comes from the value instead.
		{"shortened alike", "max_idle_conns: 5\n\nmax_idle_cons: 3\n",
			transport.ConfigKeyError{Key: "max_idle_cons", Line: 3, Type: "transport.Config", Suggest: "max_idle_conns"}},
		// Then a null value, which decodes into anything, has no line.
		{"shortened alike, null", "max_idle_conns: 5\nmax_idle_cons:\n",
			transport.ConfigKeyError{Key: "max_idle_cons", Type: "transport.Config", Suggest: "max_idle_conns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg transport.Config
			err := yaml.Unmarshal([]byte(c.doc), &cfg)
			var ke *transport.ConfigKeyError
			if !errors.As(err, &ke) {
				t.Fatalf("yaml.Unmarshal = %v, want a *transport.ConfigKeyError", err)
			}
			if *ke != c.want {
				t.Errorf("got %+v\nwant %+v", *ke, c.want)
			}
		})
	}

	var cfg transport.Config
	doc := "name: h2\naddr: 127.0.0.1:8443\nidle_timeout: 5s\ntls:\n  cert_file: c.pem\n  key_file: k.pem\nbalance:\n  addrs: [a:1]\n"
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "h2" || cfg.IdleTimeout.String() != "5s" || cfg.TLS.KeyFile != "k.pem" || cfg.Balance.Addrs[0] != "a:1" {
		t.Errorf("decoded %+v", cfg)
	}
	// Errors that are not about keys keep the library's words and line.
	if err := yaml.Unmarshal([]byte("name: h2\nmax_header_bytes: many\n"), &cfg); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "many") {
		t.Errorf("type mismatch: %v", err)
	}
}
