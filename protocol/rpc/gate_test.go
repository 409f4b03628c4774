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

type gateKey struct{}

// tokenGate admits calls whose X-Token header is "ok", putting "admitted"
// on the context; it counts the calls its Wrap functions see.
type tokenGate struct {
	rpc.UnaryInterceptorFunc
	wrapped atomic.Int32
}

func (g *tokenGate) Gate(ctx context.Context) (context.Context, error) {
	info, _ := rpc.CallInfoFromContext(ctx)
	if info.RequestHeader().Get("X-Token") != "ok" {
		return nil, rpc.NewError(rpc.CodeUnauthenticated, "no token")
	}
	return context.WithValue(ctx, gateKey{}, "admitted"), nil
}

func (g *tokenGate) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		g.wrapped.Add(1)
		return next(ctx, req)
	}
}

// A HandlerGate decides before the request is read: a rejected call whose
// body is not even valid protobuf gets the gate's code, not a decoding
// error, and no interceptor sees it; an admitted call carries the gate's
// context into the method.
func TestHandlerGateRunsBeforeTheRequestIsRead(t *testing.T) {
	gate := &tokenGate{}
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		v, _ := ctx.Value(gateKey{}).(string)
		return wrapperspb.String(v), nil
	}, rpc.WithInterceptors(gate)))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		v, _ := ctx.Value(gateKey{}).(string)
		return wrapperspb.String(v), nil
	}, rpc.WithInterceptors(gate)))
	srv, h2 := newH2CServer(t, mux)

	// Garbage that would fail to decode with INVALID_ARGUMENT.
	status, _, body := rawCall(t, srv.Client(), http.MethodPost, srv.URL+specUnary.Procedure,
		map[string]string{"Content-Type": "application/proto"}, []byte{0xff, 0xff, 0xff})
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "unauthenticated") {
		t.Errorf("rejected unary call: HTTP %d %s", status, body)
	}
	if n := gate.wrapped.Load(); n != 0 {
		t.Errorf("the interceptor chain saw %d rejected calls", n)
	}
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p))
		if _, err := client.CallUnary(context.Background(), wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			t.Errorf("%v: call without a token: %v", p, err)
		}
		ctx, info := rpc.NewCallContext(context.Background())
		info.RequestHeader().Set("X-Token", "ok")
		res, err := client.CallUnary(ctx, wrapperspb.String("x"))
		if err != nil || res.Value != "admitted" {
			t.Errorf("%v: admitted call: %v %v", p, res, err)
		}
		stream, err := rpc.NewClient[sv, sv](h2, srv.URL, specClient, rpc.WithProtocol(p)).CallClientStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_ = stream.Send(wrapperspb.String("x"))
		if _, err := stream.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			t.Errorf("%v: stream without a token: %v", p, err)
		}
	}
}

// Handlers see the TLS state of the connection on the call's peer, and the
// host the call was addressed to.
func TestPeerTLSOnHandlers(t *testing.T) {
	var sawTLS atomic.Bool
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.CallInfoFromContext(ctx)
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
