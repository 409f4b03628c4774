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
	// Connect on all three transports, gRPC on the two HTTP/2 ones, gRPC-Web on all three.
	if n := strings.Count(s, "-- connect"); n != 3 {
		t.Errorf("connect ran %d times", n)
	}
	if n := strings.Count(s, "-- grpc\n"); n != 2 {
		t.Errorf("grpc ran %d times", n)
	}
	if n := strings.Count(s, "-- grpcweb"); n != 3 {
		t.Errorf("grpcweb ran %d times", n)
	}
	for _, want := range []string{
		"[http1]", "(GET over HTTP/1.1): Hello, Ada!", "Chat       (bidi, half duplex)",
		"[h2c]", "[h2] serving at https://",
		"(GET over HTTP/2.0): Hello, Ada!", "(POST over HTTP/2.0): Hello, Ada!",
		"Chat       (bidi, full duplex): Nice to meet you, Ken. / Nice to meet you, Rob.",
		"error code invalid_argument", "Hello, Alan and Barbara and Edsger!", "all calls succeeded",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
