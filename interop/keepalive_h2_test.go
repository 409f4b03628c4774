package interop

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

// Connection lifetimes and keep-alive between transport-h2 and grpc-go, both
// ways: grpc-go's keep-alive client against transport-h2's enforcement and
// max connection age, and transport-h2's client against grpc-go's
// enforcement, max connection age and server PINGs. Each server's listener
// is tapped to see the GOAWAY frames it writes.

// frameTap watches the frames a server writes on the connections of a
// listener: it counts the connections and the PINGs it acknowledges, and
// records each GOAWAY as "CODE debug".
type frameTap struct {
	conns   atomic.Int32
	acks    atomic.Int32
	mu      sync.Mutex
	goaways []string
	wg      sync.WaitGroup
}

func (tp *frameTap) listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tp.wg.Wait)
	return &tapListener{Listener: ln, tap: tp}
}

// goAways returns the GOAWAY frames written so far.
func (tp *frameTap) goAways() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.goaways...)
}

// sawGoAway reports whether a GOAWAY with this code and debug data went out.
func (tp *frameTap) sawGoAway(code http2.ErrCode, debug string) bool {
	for _, g := range tp.goAways() {
		if g == code.String()+" "+debug {
			return true
		}
	}
	return false
}

func (tp *frameTap) read(r *io.PipeReader) {
	defer tp.wg.Done()
	defer r.Close()
	fr := http2.NewFramer(nil, r)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
			return
		}
		if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
			tp.acks.Add(1)
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			tp.mu.Lock()
			tp.goaways = append(tp.goaways, g.ErrCode.String()+" "+string(g.DebugData()))
			tp.mu.Unlock()
		}
	}
}

type tapListener struct {
	net.Listener
	tap *frameTap
}

func (l *tapListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.tap.conns.Add(1)
	pr, pw := io.Pipe()
	l.tap.wg.Add(1)
	go l.tap.read(pr)
	return &tapConn{Conn: nc, w: pw}, nil
}

// tapConn copies what the server writes to its tap.
type tapConn struct {
	net.Conn
	w    *io.PipeWriter
	once sync.Once
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		_, _ = c.w.Write(p[:n])
	}
	return n, err
}

func (c *tapConn) Close() error {
	c.once.Do(func() { _ = c.w.Close() })
	return c.Conn.Close()
}

// startTappedH2 serves our gRPC service on transport-h2 (h2c-rpc) with cfg's
// lifetime and keep-alive fields, behind a tap.
func startTappedH2(t *testing.T, cfg transport.Config) (string, *frameTap) {
	t.Helper()
	tp := &frameTap{}
	cfg.Name = h2.NameH2C
	srv, err := h2.NewServer(cfg, ourGRPCService(), h2.WithListener(tp.listen(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Addr().String(), tp
}

// startTappedGRPCGo serves the gRPC service on grpc-go with opts, behind a
// tap.
func startTappedGRPCGo(t *testing.T, opts ...grpc.ServerOption) (string, *frameTap) {
	t.Helper()
	tp := &frameTap{}
	ln := tp.listen(t)
	s := grpcGoService(opts...)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return ln.Addr().String(), tp
}

// grpcGoClient returns a grpc-go client for addr with keep-alive params.
func grpcGoClient(t *testing.T, addr string, kp keepalive.ClientParameters) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithKeepaliveParams(kp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// ourH2Client returns a transport-h2 client (h2c-rpc) configured by cfg.
func ourH2Client(t *testing.T, cfg transport.Config) *h2.Client {
	t.Helper()
	cfg.Name = h2.NameH2C
	c, err := h2.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// TestGRPCGoKeepaliveClientAgainstTransportH2: grpc-go's client pings every
// ten seconds (its shortest interval) on an idle connection. A transport-h2
// server that does not permit PINGs without calls tells it GOAWAY
// ENHANCE_YOUR_CALM "too_many_pings" on the third early one, as a grpc-go
// server would (the bandwidth PING that followed the first call's response
// is free); one that permits them with a MinPingInterval below ten seconds
// never does, and the client's connection lives on. The two run side by
// side: grpc-go's interval makes this a 30 to 40-second test.
func TestGRPCGoKeepaliveClientAgainstTransportH2(t *testing.T) {
	t.Parallel()
	kp := keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}
	for _, permit := range []bool{false, true} {
		name := "PINGs without calls refused"
		if permit {
			name = "PINGs without calls permitted"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			addr, tp := startTappedH2(t, transport.Config{
				MinPingInterval:         transport.Duration(5 * time.Second),
				PermitPingsWithoutCalls: permit,
				IdleTimeout:             transport.Duration(time.Hour),
			})
			cc := grpcGoClient(t, addr, kp)
			call := func(v string) error {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				return cc.Invoke(ctx, procUnary, wrapperspb.String(v), new(sv))
			}
			if err := call("hi"); err != nil {
				t.Fatal(err)
			}
			// Until the GOAWAY, or four keep-alive PINGs answered (three
			// intervals past the first), with a margin for a busy machine.
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) && !tp.sawGoAway(http2.ErrCodeEnhanceYourCalm, "too_many_pings") && tp.acks.Load() < 5 {
				time.Sleep(100 * time.Millisecond)
			}
			saw := tp.sawGoAway(http2.ErrCodeEnhanceYourCalm, "too_many_pings")
			if !permit && !saw {
				t.Fatalf("no too_many_pings after four PINGs without calls; GOAWAYs %v", tp.goAways())
			}
			if permit {
				if saw || len(tp.goAways()) > 0 {
					t.Fatalf("GOAWAYs %v for permitted PINGs", tp.goAways())
				}
				if n := tp.conns.Load(); n != 1 {
					t.Errorf("%d connections", n)
				}
			}
			if permit && tp.acks.Load() < 5 {
				t.Fatalf("%d PINGs answered in a minute", tp.acks.Load())
			}
			// Either way the client goes on calling.
			if err := call("again"); err != nil {
				t.Fatalf("a call after the PINGs: %v", err)
			}
		})
	}
}

// TestTransportH2KeepaliveClientAgainstGRPCGo: transport-h2's client pings
// a grpc-go server during a call held open; pinging more often than the
// server's EnforcementPolicy allows earns GOAWAY too_many_pings, and pinging
// within it never does. grpc-go's server PINGs (its keep-alive Time) are
// answered.
func TestTransportH2KeepaliveClientAgainstGRPCGo(t *testing.T) {
	hold := func(t *testing.T, c *h2.Client, addr string, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		bidi, err := rpc.NewClient[sv, sv](c, "http://"+addr, specBidiG, rpc.WithProtocol(rpc.ProtocolGRPC)).CallBidiStream(ctx)
		if err != nil {
			return err
		}
		defer bidi.CloseReceive()
		if err := bidi.Send(wrapperspb.String("1")); err != nil {
			return err
		}
		if _, err := bidi.Receive(); err != nil {
			return err
		}
		time.Sleep(d)
		if err := bidi.Send(wrapperspb.String("2")); err != nil {
			return err
		}
		if _, err := bidi.Receive(); err != nil {
			return err
		}
		if err := bidi.CloseSend(); err != nil {
			return err
		}
		if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	t.Run("too often", func(t *testing.T) {
		addr, tp := startTappedGRPCGo(t, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Hour}))
		c := ourH2Client(t, transport.Config{PingInterval: transport.Duration(50 * time.Millisecond)})
		err := hold(t, c, addr, 2*time.Second)
		if !tp.sawGoAway(http2.ErrCodeEnhanceYourCalm, "too_many_pings") {
			t.Fatalf("no too_many_pings from grpc-go (call: %v); GOAWAYs %v", err, tp.goAways())
		}
		if rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("the call on the connection grpc-go closed: %v, want unavailable", err)
		}
		// The next call goes on a new connection.
		if err := hold(t, c, addr, 0); err != nil {
			t.Fatalf("a call after too_many_pings: %v", err)
		}
	})
	t.Run("within the policy", func(t *testing.T) {
		addr, tp := startTappedGRPCGo(t,
			grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 50 * time.Millisecond}),
			// grpc-go's server pings too, every second (its shortest).
			grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Second, Timeout: time.Second}))
		// 300 ms between PINGs against 50 ms: a generous margin for a busy
		// machine.
		c := ourH2Client(t, transport.Config{PingInterval: transport.Duration(300 * time.Millisecond)})
		if err := hold(t, c, addr, 2500*time.Millisecond); err != nil {
			t.Fatalf("a call held past several PINGs each way: %v", err)
		}
		if g := tp.goAways(); len(g) > 0 {
			t.Errorf("GOAWAYs %v", g)
		}
	})
}

// TestMaxConnectionAgeWithGRPCGo: past the server's max connection age, the
// client moves its calls to new connections and none fails: grpc-go's
// client against transport-h2's server, and transport-h2's client against
// grpc-go's server; a call in flight at the age finishes within the grace.
func TestMaxConnectionAgeWithGRPCGo(t *testing.T) {
	const age = 100 * time.Millisecond
	t.Run("grpc-go client", func(t *testing.T) {
		addr, tp := startTappedH2(t, transport.Config{
			MaxConnectionAge:      transport.Duration(age),
			MaxConnectionAgeGrace: transport.Duration(10 * time.Second),
		})
		cc := grpcGoClient(t, addr, keepalive.ClientParameters{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		bidi, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, procBidi)
		if err != nil {
			t.Fatal(err)
		}
		if err := bidi.SendMsg(wrapperspb.String("held")); err != nil {
			t.Fatal(err)
		}
		if err := bidi.RecvMsg(new(sv)); err != nil {
			t.Fatal(err)
		}
		for calls := 1; tp.conns.Load() < 3; calls++ {
			if err := cc.Invoke(ctx, procUnary, wrapperspb.String("x"), new(sv)); err != nil {
				t.Fatalf("call %d across connection ages: %v", calls, err)
			}
		}
		// The stream opened on the first connection still works.
		if err := bidi.SendMsg(wrapperspb.String("still")); err != nil {
			t.Fatal(err)
		}
		if err := bidi.RecvMsg(new(sv)); err != nil {
			t.Fatalf("the stream held across the age: %v", err)
		}
		_ = bidi.CloseSend()
		if !tp.sawGoAway(http2.ErrCodeNo, "") {
			t.Errorf("GOAWAYs %v", tp.goAways())
		}
	})
	t.Run("transport-h2 client", func(t *testing.T) {
		addr, tp := startTappedGRPCGo(t, grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      age,
			MaxConnectionAgeGrace: 10 * time.Second,
		}))
		c := ourH2Client(t, transport.Config{})
		client := rpc.NewClient[sv, sv](c, "http://"+addr, specUnaryG, rpc.WithProtocol(rpc.ProtocolGRPC))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for calls := 1; tp.conns.Load() < 3; calls++ {
			if _, err := client.CallUnary(ctx, wrapperspb.String("x")); err != nil {
				t.Fatalf("call %d across connection ages: %v", calls, err)
			}
		}
		if len(tp.goAways()) == 0 {
			t.Error("grpc-go said no GOAWAY")
		}
	})
}
