package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRun runs the example, as CI does, and checks what it prints.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := "grpc     Check: SERVING\n" +
		"connect  Check: SERVING\n" +
		"grpcweb  Check: SERVING\n" +
		"connect  Watch: SERVING then NOT_SERVING\n" +
		"grpc-go  Check: NOT_SERVING\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
