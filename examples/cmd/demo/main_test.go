package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs the quick start end to end and checks that every transport
// served every call with the expected transport-level behaviour.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"[http1]", "GET over HTTP/1.1, connect): Hello, Ada!", "Chat       (bidi, half duplex)",
		"[h2c]", "[h2] serving at https://",
		"GET over HTTP/2.0, connect): Hello, Ada!", "Chat       (bidi, full duplex): Nice to meet you, Ken. / Nice to meet you, Rob.",
		"error code invalid_argument", "Hello, Alan and Barbara and Edsger!", "all calls succeeded",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
