package harness

import (
	"context"
	"testing"
	"time"
)

// TestTargets checks every meaningful target once per RPC kind, so a broken
// implementation or harness fails here rather than in the middle of a
// benchmark run.
func TestTargets(t *testing.T) {
	for _, target := range Targets() {
		t.Run(target.String(), func(t *testing.T) {
			t.Parallel()
			unfinished := target.Impl == ImplPolyconnect && target.Protocol != ProtocolConnect
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					return
				}
				if unfinished {
					t.Skipf("%s: %s not working yet: %v", target, what, err)
				}
				t.Fatalf("%s: %s: %v", target, what, err)
			}
			srv, err := StartServer(target)
			check("server", err)
			t.Cleanup(srv.Close)
			c, err := NewClient(target, srv.URL)
			check("client", err)
			t.Cleanup(c.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, size := range []int{0, 100, 1 << 20} {
				check("unary", c.Unary(ctx, NewPayload(size)))
			}
			check("server stream", c.ServerStream(ctx, 100, 100))
			check("client stream", c.ClientStream(ctx, 100, NewPayload(100)))
			if target.FullDuplex() {
				check("bidi", c.Bidi(ctx, 100, NewPayload(100)))
			}
		})
	}
}

func TestTargetChecks(t *testing.T) {
	for _, bad := range []Target{
		{ImplGRPCGo, ProtocolConnect, TransportH2C},
		{ImplGRPCGo, ProtocolGRPC, TransportHTTP1},
		{ImplConnectGo, ProtocolGRPC, TransportHTTP1},
		{ImplRaw, ProtocolConnect, TransportH2C},
		{ImplPolyconnect, ProtocolNone, TransportH2C},
		{"nope", ProtocolConnect, TransportH2C},
		{ImplPolyconnect, ProtocolConnect, "h9"},
		{ImplGRPCGo, ProtocolGRPC, TransportH3},
		{ImplConnectGo, ProtocolConnect, TransportH2CRPC},
		{ImplGRPCGo, ProtocolGRPC, TransportH2RPC},
	} {
		if bad.Check() == nil {
			t.Errorf("%s: Check accepted it", bad)
		}
	}
	// transport-h2's two names carry polyconnect's three protocols and raw.
	if n := len(Targets()); n != 36 {
		t.Errorf("%d targets, want 36 (11+6 polyconnect, 11 connect-go, 2 grpc-go, 4+2 raw)", n)
	}
}
