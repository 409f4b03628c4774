package rpc_test

import (
	"strings"
	"testing"

	"polyconnect.dev/protocol/rpc"
)

// A client given WithGRPCWebText sends application/grpc-web-text requests,
// for every kind of call, over HTTP/1.1 (half duplex) and HTTP/2, with and
// without compression.
func TestGRPCWebTextClient(t *testing.T) {
	rec := &headerRecorder{next: echoMux()}
	srv, h2 := newH2CServer(t, rec)
	for tname, hc := range map[string]rpc.HTTPClient{"http1": srv.Client(), "h2c": h2} {
		for _, comp := range []string{"identity", "gzip"} {
			t.Run(tname+"/"+comp, func(t *testing.T) {
				testGRPCEcho(t, hc, srv.URL, rpc.ProtocolGRPCWeb, tname == "h2c",
					rpc.WithProtocol(rpc.ProtocolGRPCWeb), rpc.WithGRPCWebText(), rpc.WithSendCompression(comp))
				h, _ := rec.last()
				if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/grpc-web-text") {
					t.Errorf("request Content-Type %q, want application/grpc-web-text…", ct)
				}
			})
		}
	}
}
