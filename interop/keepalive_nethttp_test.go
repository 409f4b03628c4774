package interop

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

// Connection lifetimes and keep-alive between transport-nethttp and
// grpc-go (grpc-go speaks HTTP/2 only, so transport-http3 has no part
// here; transport-h2's side is tested with its engine). Ages are short so
// that the tests are quick: they are time by definition, and the tests
// wait for what they cause within generous bounds.

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestGRPCGoClientMaxConnectionAgeOnNetHTTP: our h2c server with
// MaxConnectionAge tells grpc-go's client to go away (GOAWAY through
// net/http), the client moves to new connections, and no call fails, as
// with a grpc-go server's MaxConnectionAge.
func TestGRPCGoClientMaxConnectionAgeOnNetHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingListener{Listener: ln}
	srv, err := nethttp.NewServer(transport.Config{Name: transport.NameH2C,
		MaxConnectionAge: transport.Duration(50 * time.Millisecond)}, ourGRPCService(), nethttp.WithListener(counting))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	calls := 0
	for counting.n.Load() < 3 {
		if ctx.Err() != nil {
			t.Fatalf("%d connections after %d calls: the age does not move grpc-go's client", counting.n.Load(), calls)
		}
		res := new(sv)
		if err := cc.Invoke(ctx, procUnary, wrapperspb.String("x"), res); err != nil {
			t.Fatalf("call %d: %v", calls, err)
		}
		calls++
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGRPCGoServerEnforcesKeepaliveOnNetHTTPClient: our h2c client pinging
// more often than a grpc-go server's keep-alive enforcement allows gets
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings", and its call fails as
// unavailable, naming the reason.
func TestGRPCGoServerEnforcesKeepaliveOnNetHTTPClient(t *testing.T) {
	gs := grpcGoService(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Minute}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	c, err := nethttp.NewClient(transport.Config{Name: transport.NameH2C, Addr: ln.Addr().String(),
		PingInterval: transport.Duration(20 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A call that stays open: the connection is silent, so the client
	// pings every 20ms, far more often than the server's one a minute.
	_, err = rpc.NewClient[sv, sv](c, c.URL(), specSlowG, rpc.WithProtocol(rpc.ProtocolGRPC)).CallUnary(ctx, wrapperspb.String("wait"))
	if rpc.CodeOf(err) != rpc.CodeUnavailable || !strings.Contains(err.Error(), "too_many_pings") {
		t.Fatalf("%v: want unavailable after GOAWAY too_many_pings", err)
	}
}
