package transport

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestConfigJSONUnknownKey(t *testing.T) {
	cases := []struct {
		name, doc string
		want      ConfigKeyError
	}{
		{"top level", "{\n  \"name\": \"h2c\",\n  \"idle_timout\": \"5s\"\n}", ConfigKeyError{Key: "idle_timout", Line: 3, Type: "transport.Config", Suggest: "idle_timeout"}},
		{"in tls", "{\"name\": \"h2\",\n \"tls\": {\n  \"cert_file\": \"a\",\n  \"cert_flie\": \"b\"}}", ConfigKeyError{Key: "tls.cert_flie", Line: 4, Type: "transport.TLSConfig", Suggest: "cert_file"}},
		{"in balance", "{\"balance\": {\"addrs\": [\"a:1\"], \"polcy\": \"random\"}}", ConfigKeyError{Key: "balance.polcy", Line: 1, Type: "transport.BalanceConfig", Suggest: "policy"}},
		{"not a typo", "{\"colour\": \"blue\"}", ConfigKeyError{Key: "colour", Line: 1, Type: "transport.Config"}},
		{"a field that is never decoded", "{\"TLSConfig\": {}}", ConfigKeyError{Key: "TLSConfig", Line: 1, Type: "transport.Config"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg Config
			err := json.Unmarshal([]byte(c.doc), &cfg)
			var ke *ConfigKeyError
			if !errors.As(err, &ke) {
				t.Fatalf("json.Unmarshal = %v, want a *ConfigKeyError", err)
			}
			if *ke != c.want {
				t.Errorf("got %+v\nwant %+v", *ke, c.want)
			}
		})
	}
	var cfg Config
	err := json.Unmarshal([]byte("{\n\"idle_timout\": \"5s\"}"), &cfg)
	if want := `line 2: unknown key "idle_timout" (transport.Config has no such field; did you mean "idle_timeout"?)`; err == nil || err.Error() != want {
		t.Errorf("message\n got: %v\nwant: %s", err, want)
	}
}

func TestConfigJSONKnownKeys(t *testing.T) {
	doc := `{"name": "h2", "addr": "127.0.0.1:1", "IDLE_TIMEOUT": "5s", "tls": {"ca_file": "ca.pem"},
		"balance": {"addrs": ["a:1", "b:2"], "resolve_interval": "1s"}}`
	var cfg Config
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	// encoding/json matches keys regardless of case; so does the check.
	if cfg.Name != "h2" || cfg.IdleTimeout != Duration(5*time.Second) || cfg.TLS == nil || cfg.TLS.CAFile != "ca.pem" ||
		cfg.Balance == nil || len(cfg.Balance.Addrs) != 2 || cfg.Balance.ResolveInterval != Duration(time.Second) {
		t.Errorf("decoded %+v", cfg)
	}
	// Malformed JSON keeps encoding/json's own error.
	var syn *json.SyntaxError
	if err := json.Unmarshal([]byte(`{"name": `), &cfg); !errors.As(err, &syn) {
		t.Errorf("malformed: %v", err)
	}
	// A type mismatch is encoding/json's too.
	var typ *json.UnmarshalTypeError
	if err := json.Unmarshal([]byte(`{"max_header_bytes": "many"}`), &cfg); !errors.As(err, &typ) {
		t.Errorf("type mismatch: %v", err)
	}
}

// TestConfigYAMLPathWithoutLines drives UnmarshalYAML with a stand-in for a
// YAML library's decode function (protocol imports none; examples/cmd/eliza
// tests the real go.yaml.in/yaml/v3, lines included). The stand-in reports
// no lines, so the error names the key alone.
func TestConfigYAMLPathWithoutLines(t *testing.T) {
	decode := func(doc string) func(any) error {
		return func(v any) error { return json.Unmarshal([]byte(doc), v) }
	}
	var cfg Config
	err := cfg.UnmarshalYAML(decode(`{"name": "h2", "tls": {"ca_flie": "x"}}`))
	var ke *ConfigKeyError
	if !errors.As(err, &ke) || *ke != (ConfigKeyError{Key: "tls.ca_flie", Type: "transport.TLSConfig", Suggest: "ca_file"}) {
		t.Fatalf("UnmarshalYAML = %v", err)
	}
	if err := cfg.UnmarshalYAML(decode(`{"name": "h2", "idle_timeout": "5s", "balance": {"addrs": ["a:1"]}}`)); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "h2" || cfg.IdleTimeout != Duration(5*time.Second) || cfg.Balance == nil || cfg.Balance.Addrs[0] != "a:1" {
		t.Errorf("decoded %+v", cfg)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"idle_timout", "idle_timeout", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 2}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
