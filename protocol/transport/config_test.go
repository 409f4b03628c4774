package transport_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport"
)

func TestConfigJSONRoundTrip(t *testing.T) {
	in := transport.Config{
		Name:                 transport.NameH2,
		Addr:                 "127.0.0.1:8443",
		TLS:                  &transport.TLSConfig{CertFile: "c.pem", KeyFile: "k.pem", RequireClientCert: true, ClientCAFile: "ca.pem"},
		ReadHeaderTimeout:    transport.Duration(5 * time.Second),
		IdleTimeout:          transport.Duration(90 * time.Second),
		MaxHeaderBytes:       8192,
		MaxConcurrentStreams: 250,
		MaxIdleConnsPerHost:  16,
		PingInterval:         transport.Duration(1500 * time.Millisecond),
		TLSConfig:            &tls.Config{ServerName: "never encoded"},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"read_header_timeout":"5s"`, `"idle_timeout":"1m30s"`, `"ping_interval":"1.5s"`, `"require_client_cert":true`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON %s lacks %s", data, want)
		}
	}
	for _, unwanted := range []string{"never encoded", "write_timeout", "dial_timeout"} {
		if strings.Contains(string(data), unwanted) {
			t.Errorf("JSON %s has %s", data, unwanted)
		}
	}
	var out transport.Config
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	in.TLSConfig = nil
	if out.TLS == nil || *out.TLS != *in.TLS {
		t.Fatalf("TLS round trip: got %+v, want %+v", out.TLS, in.TLS)
	}
	out.TLS, in.TLS = nil, nil
	if out != in {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{`"5s"`, 5 * time.Second, false},
		{`"1h2m3.5s"`, time.Hour + 2*time.Minute + 3500*time.Millisecond, false},
		{`"-1s"`, -time.Second, false},
		{`""`, 0, false},
		{`0`, 0, false},
		{`null`, 7, false}, // null leaves the value alone
		{`5`, 0, true},     // seconds or nanoseconds? refuse
		{`"5"`, 0, true},
		{`"soon"`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		d := transport.Duration(7)
		err := json.Unmarshal([]byte(tt.in), &d)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Unmarshal(%s) = %v, want an error", tt.in, time.Duration(d))
			}
			continue
		}
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if time.Duration(d) != tt.want {
			t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, time.Duration(d), tt.want)
		}
	}
}

func TestDurationYAMLHooks(t *testing.T) {
	// A YAML library calls UnmarshalYAML with a func that decodes the node
	// into the value it is given; mimic one that holds a scalar.
	scalar := func(s string) func(any) error {
		return func(v any) error {
			p, ok := v.(*string)
			if !ok {
				return errors.New("not a string")
			}
			*p = s
			return nil
		}
	}
	var d transport.Duration
	if err := d.UnmarshalYAML(scalar("250ms")); err != nil || time.Duration(d) != 250*time.Millisecond {
		t.Errorf("UnmarshalYAML(250ms) = %v, %v", time.Duration(d), err)
	}
	if err := d.UnmarshalYAML(scalar("0")); err != nil || d != 0 {
		t.Errorf("UnmarshalYAML(0) = %v, %v", time.Duration(d), err)
	}
	if err := d.UnmarshalYAML(scalar("10")); err == nil {
		t.Error("UnmarshalYAML(10) succeeded")
	}
	if err := d.UnmarshalYAML(func(any) error { return errors.New("a mapping") }); err == nil {
		t.Error("UnmarshalYAML of a non-scalar succeeded")
	}
	v, err := transport.Duration(2 * time.Minute).MarshalYAML()
	if err != nil || v != "2m0s" {
		t.Errorf("MarshalYAML = %v, %v", v, err)
	}
}

func TestDurationText(t *testing.T) {
	var d transport.Duration
	if err := d.UnmarshalText([]byte("3m")); err != nil || time.Duration(d) != 3*time.Minute {
		t.Errorf("UnmarshalText(3m) = %v, %v", d, err)
	}
	text, err := d.MarshalText()
	if err != nil || string(text) != "3m0s" {
		t.Errorf("MarshalText = %s, %v", text, err)
	}
	if d.String() != "3m0s" {
		t.Errorf("String = %s", d)
	}
}
