package rpc_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// A Connect GET carries its request in the URL's query; net/http's client
// quotes the URL in its errors. The call's error must not carry the query,
// and a deadline must be told once (issue 22).

var redactSpec = rpc.Spec{Procedure: "/redact.v1.Redact/Get", IdempotencyLevel: rpc.IdempotencyNoSideEffects}

const redactSecret = "SECRET-4111111111111111"

func checkRedacted(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded")
	}
	for _, text := range []string{err.Error(), rpc.CodeOf(err).String()} {
		if strings.Contains(text, "message=") || strings.Contains(text, redactSecret) {
			t.Errorf("the error carries the request: %s", text)
		}
	}
}

func TestGetErrorHasNoQueryConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// Proto puts the message in base64, JSON as escaped text.
	for _, opts := range [][]rpc.ClientOption{nil, {rpc.WithProtoJSON()}} {
		c := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](http.DefaultClient, "http://"+addr, redactSpec, opts...)
		_, err = c.CallUnary(context.Background(), wrapperspb.String(redactSecret))
		checkRedacted(t, err)
		if rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("code %v, want unavailable: %v", rpc.CodeOf(err), err)
		}
	}
}

func TestGetErrorDeadlineToldOnce(t *testing.T) {
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		t.Run(p.String(), func(t *testing.T) {
			h := rpc.NewUnaryHandler(redactSpec, func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				<-ctx.Done() // the deadline passes whatever the machine's speed
				return nil, ctx.Err()
			})
			srv := httptest.NewUnstartedServer(h)
			srv.EnableHTTP2 = true
			srv.StartTLS()
			defer srv.Close()
			c := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, redactSpec, rpc.WithProtocol(p))
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.CallUnary(ctx, wrapperspb.String(redactSecret))
			checkRedacted(t, err)
			if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Fatalf("code %v, want deadline_exceeded: %v", rpc.CodeOf(err), err)
			}
			if n := strings.Count(err.Error(), "deadline exceeded"); n != 1 {
				t.Errorf("the deadline is told %d times: %s", n, err)
			}
			if strings.Contains(err.Error(), srv.URL) {
				t.Errorf("the error quotes the URL although it says no more than the deadline: %s", err)
			}
		})
	}
}
