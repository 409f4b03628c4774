package rpc_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// Handlers see the TLS state of the connection on the call's peer, and the
// host the call was addressed to.
func TestPeerTLSOnHandlers(t *testing.T) {
	var sawTLS atomic.Bool
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		st := info.Peer().TLS
		host := strings.TrimPrefix(srv.URL, "https://")
		sawTLS.Store(st != nil && st.HandshakeComplete && st.Version >= tls.VersionTLS12 && info.Host() == host)
		return req, nil
	}))
	srv = httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		sawTLS.Store(false)
		if _, err := rpc.NewClient[sv, sv](srv.Client(), srv.URL, specUnary, rpc.WithProtocol(p)).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if !sawTLS.Load() {
			t.Errorf("%v: the handler saw no TLS state on its peer, or not its host", p)
		}
	}
}
