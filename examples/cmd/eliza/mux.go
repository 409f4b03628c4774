package main

import (
	"io"
	"net/http"

	"polyconnect.dev/examples/eliza"
	"polyconnect.dev/examples/gen/connectrpc/eliza/v1/elizav1rpc"
	"polyconnect.dev/protocol/cors"
)

// elizaService is the service every mode serves and calls.
const elizaService = elizav1rpc.ElizaServiceName

// newMux returns the services every mode serves. It is the one place where
// handlers are mounted: a service added here is served by the demo, by
// -serve on every transport, and through CORS to browsers.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(elizav1rpc.NewElizaServiceHandler(eliza.NewService()))
	return mux
}

// newHandler is newMux behind the server-wide middleware: the HTTP version
// header the table shows, and CORS for browsers when policy is non-nil.
func newHandler(policy *cors.Policy) http.Handler {
	var h http.Handler = withHTTPVersion(drainHTTP1(newMux()))
	if policy != nil {
		h = policy.Handler(h)
	}
	return h
}

// httpVersionHeader reports the HTTP version a request arrived with, so a
// client can show what the transport negotiated.
const httpVersionHeader = "Eliza-Http-Version"

func withHTTPVersion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(httpVersionHeader, r.Proto)
		h.ServeHTTP(w, r)
	})
}

// drainHTTP1 reads what is left of an HTTP/1.x request body once the
// handler is done, before net/http gets the connection back.
//
// It works around a fault that shows when a Connect bidi handler returns
// before the request body ends (Eliza does, after a goodbye): the handler
// enables full duplex, so net/http leaves the unread body alone, then
// reads it to its end after the handler, which starts the connection's
// background read that nobody stops, and the connection's next request
// panics in net/http ("invalid concurrent Body.Read call") and fails. The
// rpc package's gRPC handler drains such bodies itself; its Connect
// handler does not yet, and once it does this can go.
func drainHTTP1(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.ProtoMajor == 1 {
			_, _ = io.Copy(io.Discard, r.Body)
		}
	})
}
