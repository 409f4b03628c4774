package rpc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// A client facing a broken or hostile server gets an RPC error with a fitting
// code: never a panic, a hang or unbounded memory.
func TestBadResponsesUnary(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		code    rpc.Code
	}{
		{"html error page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}, rpc.CodeUnavailable},
		{"404 without body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		}, rpc.CodeUnimplemented},
		{"200 with wrong content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello"))
		}, rpc.CodeUnknown},
		{"200 with other codec", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, rpc.CodeInternal},
		{"garbage proto", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			_, _ = w.Write([]byte{0xff, 0xff, 0xff, 0xff})
		}, rpc.CodeInternal},
		{"unknown compression", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			w.Header().Set("Content-Encoding", "lz77")
			_, _ = w.Write([]byte{1, 2, 3})
		}, rpc.CodeInternal},
		{"corrupt gzip", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("not gzip at all"))
		}, rpc.CodeInternal},
		{"endless body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			chunk := []byte(strings.Repeat("\x0a\x05hello", 1000))
			for range 1000 { // 8 MB, far over the client's 64 KiB limit
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, rpc.CodeResourceExhausted},
		{"error JSON with unknown code", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code":"weird","message":"m"}`))
		}, rpc.CodeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, h2 := newH2CServer(t, c.handler)
			client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithReadMaxBytes(64<<10))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := client.CallUnary(ctx, wrapperspb.String("x"))
			if rpc.CodeOf(err) != c.code {
				t.Fatalf("got %v, want code %v", err, c.code)
			}
		})
	}
}

func TestBadResponsesStream(t *testing.T) {
	streamCT := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/connect+proto")
		w.WriteHeader(http.StatusOK)
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		code    rpc.Code
	}{
		{"no end of stream", func(w http.ResponseWriter, r *http.Request) {
			streamCT(w)
			_, _ = w.Write(envelope(0, 0, nil))
		}, rpc.CodeInternal},
		{"claims 4 GiB", func(w http.ResponseWriter, r *http.Request) {
			streamCT(w)
			_, _ = w.Write(envelope(0, 0xFFFFFFFF, []byte("tiny")))
		}, rpc.CodeResourceExhausted},
		{"truncated envelope", func(w http.ResponseWriter, r *http.Request) {
			streamCT(w)
			_, _ = w.Write([]byte{0, 0, 0})
		}, rpc.CodeInternal},
		{"invalid end-of-stream JSON", func(w http.ResponseWriter, r *http.Request) {
			streamCT(w)
			_, _ = w.Write(envelope(2, 5, []byte("{nope")))
		}, rpc.CodeInternal},
		{"end-of-stream error", func(w http.ResponseWriter, r *http.Request) {
			streamCT(w)
			body := []byte(`{"error":{"code":"aborted","message":"stop"}}`)
			_, _ = w.Write(envelope(2, uint32(len(body)), body))
		}, rpc.CodeAborted},
		{"unary content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			_, _ = w.Write([]byte{})
		}, rpc.CodeInternal},
		{"http error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		}, rpc.CodeUnauthenticated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, h2 := newH2CServer(t, c.handler)
			client := rpc.NewClient[sv, sv](h2, srv.URL, specServer, rpc.WithReadMaxBytes(64<<10))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stream, err := client.CallServerStream(ctx, wrapperspb.String("x"))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			var last error
			for _, err := range stream.All() {
				last = err
			}
			if rpc.CodeOf(last) != c.code {
				t.Fatalf("got %v, want code %v", last, c.code)
			}
		})
	}
}

// A Connect unary error whose body stalls past the call's deadline ends the
// call with DEADLINE_EXCEEDED, not with the code of the HTTP status (504
// would say UNAVAILABLE): the deadline is what ended it.
func TestConnectUnaryErrorBodyPastDeadline(t *testing.T) {
	release := make(chan struct{})
	srv, h2 := newH2CServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte(`{"code":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // before the server closes
	// The length of the deadline does not matter: the body never ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(ctx, wrapperspb.String("x"))
	if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("got %v, want deadline_exceeded", err)
	}
}
