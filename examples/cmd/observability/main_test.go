package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestObservability runs the example and checks the log records and the
// trace it prints: a record per call on each side; one trace,
// the example's span at the root, each call's client span under it and the
// server span under that, errors only on the client side of a rejected
// call, and a duration series per method, protocol and outcome on each side.
// A call that the credentials check refuses before reading its request is
// in all three, with its code.
func TestObservability(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("example failed: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, c := range []struct {
		text string
		n    int
	}{
		{"  trace ", 1},
		{"\n    internal greet everyone", 1},
		{"\n      client greet.v1.GreetService/Greet [rpc.response.status_code=OK", 3},
		{"\n        server greet.v1.GreetService/Greet [rpc.response.status_code=OK", 3},
		{"\n      client greet.v1.GreetService/GreetMany [rpc.response.status_code=OK", 3},
		{"\n        server greet.v1.GreetService/GreetMany [rpc.response.status_code=OK", 3},
		{"\n      client greet.v1.GreetService/Greet [error.type=INVALID_ARGUMENT rpc.response.status_code=INVALID_ARGUMENT", 3},
		{"\n        server greet.v1.GreetService/Greet [rpc.response.status_code=INVALID_ARGUMENT", 3},
		{"ERROR(name is required)", 3},
		{"\n      client greet.v1.GreetService/Greet [error.type=UNAUTHENTICATED rpc.response.status_code=UNAUTHENTICATED", 3},
		{"\n        server greet.v1.GreetService/Greet [rpc.response.status_code=UNAUTHENTICATED", 3},
		{"ERROR(a valid bearer token is required)", 3},
		{"rpc.system.name=connectrpc]", 8},
		{"rpc.system.name=grpc]", 16},
		{"  rpc.client.call.duration (s) ", 8},
		{"  rpc.server.call.duration (s) ", 8},
		{"  rpc.server.call.duration (s) rpc.method=greet.v1.GreetService/Greet rpc.response.status_code=UNAUTHENTICATED", 2},
		// 12 calls, each logged by the client and the handler.
		{"msg=\"rpc call\" rpc.side=client", 12},
		{"msg=\"rpc call\" rpc.side=server", 12},
		{"rpc.code=invalid_argument", 6},
		{"rpc.code=unauthenticated", 6},
		// The refused calls' requests were never read.
		{"rpc.side=server rpc.procedure=/greet.v1.GreetService/Greet rpc.kind=unary rpc.protocol=connect rpc.code=unauthenticated rpc.request.messages=0", 1},
	} {
		if got := strings.Count(s, c.text); got != c.n {
			t.Errorf("%q appears %d times, want %d", c.text, got, c.n)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", s)
	}
}
