package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// recorder is an interceptor that logs what it sees of each call, on both
// sides, and adds a header so the peer can tell it ran.
type recorder struct {
	mu   sync.Mutex
	side string
	log  []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return nil, errors.New("no call info")
		}
		info.RequestHeader().Set("X-Intercepted", "client")
		r.add(r.side + " unary " + info.Procedure() + " " + info.Protocol().String() + " req=" + req.(*sv).Value)
		res, err := next(ctx, req)
		if err != nil {
			r.add(r.side + " error " + rpc.CodeOf(err).String())
			return nil, err
		}
		r.add(r.side + " header " + info.ResponseHeader().Get("X-Seen-By"))
		r.add(r.side + " res=" + res.(*sv).Value)
		return res, nil
	}
}

func (r *recorder) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.HandlerCallInfo(ctx)
		if !ok {
			return nil, errors.New("no call info")
		}
		r.add(r.side + " unary " + info.Procedure() + " " + info.Protocol().String() + " req=" + req.(*sv).Value)
		res, err := next(ctx, req)
		if err != nil {
			r.add(r.side + " error " + rpc.CodeOf(err).String())
			return nil, err
		}
		info.ResponseHeader().Set("X-Seen-By", info.RequestHeader().Get("X-Intercepted"))
		r.add(r.side + " res=" + res.(*sv).Value)
		return res, nil
	}
}

func (r *recorder) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		r.add(r.side + " stream open " + spec.Procedure)
		conn, err := next(ctx)
		if err != nil {
			return nil, err
		}
		conn.RequestHeader().Set("X-Intercepted", "client-stream")
		return &countingClientConn{StreamingClientConn: conn, r: r}, nil
	}
}

type countingClientConn struct {
	rpc.StreamingClientConn
	r *recorder
}

func (c *countingClientConn) Send(msg any) error {
	c.r.add(c.r.side + " send " + msg.(*sv).Value)
	return c.StreamingClientConn.Send(msg)
}

func (c *countingClientConn) Receive(msg any) error {
	err := c.StreamingClientConn.Receive(msg)
	if err == nil {
		c.r.add(c.r.side + " recv " + msg.(*sv).Value)
	}
	return err
}

// WrapHandlerCall logs streams only: the unary calls are logged by
// WrapHandlerUnary.
func (r *recorder) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	if spec.StreamType == rpc.StreamTypeUnary {
		return next
	}
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		r.add(r.side + " stream " + conn.Spec().Procedure + " header=" + conn.RequestHeader().Get("X-Intercepted"))
		err := next(ctx, conn)
		r.add(r.side + " stream done")
		return err
	}
}

func TestInterceptorsSeeWholeCall(t *testing.T) {
	server := &recorder{side: "server"}
	client := &recorder{side: "client"}
	srv, h2 := newH2CServer(t, echoMux(rpc.WithHandlerInterceptors(server)))
	ctx := context.Background()

	c := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithClientInterceptors(client))
	if res, err := c.CallUnary(ctx, wrapperspb.String("one")); err != nil || res.Value != "one" {
		t.Fatal(res, err)
	}
	if _, err := c.CallUnary(ctx, wrapperspb.String("fail")); rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
		t.Fatal(err)
	}
	ss, err := rpc.NewClient[sv, sv](h2, srv.URL, specServer, rpc.WithClientInterceptors(client)).CallServerStream(ctx, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range ss.All() {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		"client": {
			"client unary /test.v1.Echo/Unary connect req=one", "client header client", "client res=one",
			"client unary /test.v1.Echo/Unary connect req=fail", "client error failed_precondition",
			"client stream open /test.v1.Echo/Server", "client send s", "client recv s-0", "client recv s-1", "client recv s-2",
		},
		"server": {
			"server unary /test.v1.Echo/Unary connect req=one", "server res=one",
			"server unary /test.v1.Echo/Unary connect req=fail", "server error failed_precondition",
			"server stream /test.v1.Echo/Server header=client-stream", "server stream done",
		},
	}
	for _, r := range []*recorder{client, server} {
		if got := strings.Join(r.log, "\n"); got != strings.Join(want[r.side], "\n") {
			t.Errorf("%s saw:\n%s\nwant:\n%s", r.side, got, strings.Join(want[r.side], "\n"))
		}
	}
}

// A unary interceptor can short-circuit a call on either side.
func TestInterceptorShortCircuit(t *testing.T) {
	deny := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			return nil, rpc.NewError(rpc.CodePermissionDenied, "denied")
		}
	})
	srv, h2 := newH2CServer(t, echoMux(rpc.WithHandlerInterceptors(deny)))
	_, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(context.Background(), wrapperspb.String("x"))
	if rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Fatalf("server-side deny: %v", err)
	}
	var calls int
	count := rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			calls++
			return wrapperspb.String("cached"), nil
		}
	})
	res, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithClientInterceptors(count)).CallUnary(context.Background(), wrapperspb.String("x"))
	if err != nil || res.Value != "cached" || calls != 1 {
		t.Fatalf("client-side short circuit: %v %v %d", res, err, calls)
	}
}

func TestDeadlinePropagates(t *testing.T) {
	mux := http.NewServeMux()
	seen := make(chan time.Duration, 1)
	spec := rpc.Spec{Procedure: "/test.v1.Slow/Wait"}
	mux.Handle(spec.Procedure, rpc.NewUnaryHandler(spec, func(ctx context.Context, req *sv) (*sv, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			seen <- 0
			return req, nil
		}
		seen <- time.Until(dl)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	sspec := rpc.Spec{Procedure: "/test.v1.Slow/Stream", StreamType: rpc.StreamTypeServer}
	mux.Handle(sspec.Procedure, rpc.NewServerStreamHandler(sspec, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		if err := s.Send(req); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}))
	srv, h2 := newH2CServer(t, mux)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := rpc.NewClient[sv, sv](h2, srv.URL, spec).CallUnary(ctx, wrapperspb.String("x"))
	if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("unary: %v", err)
	}
	if d := <-seen; d <= 0 || d > 200*time.Millisecond {
		t.Fatalf("handler saw deadline in %v", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	stream, err := rpc.NewClient[sv, sv](h2, srv.URL, sspec).CallServerStream(ctx2, wrapperspb.String("y"))
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := stream.Receive(); err != nil || msg.Value != "y" {
		t.Fatal(msg, err)
	}
	if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("stream: %v", err)
	}
	_ = stream.Close()
	// An already expired context fails before anything is sent.
	expired, cancel3 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel3()
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, spec).CallUnary(expired, wrapperspb.String("z")); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("expired: %v", err)
	}
}

func TestSizeLimits(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(100)))
	ctx := context.Background()
	big := wrapperspb.String(strings.Repeat("x", 200))
	// Handler read limit.
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(ctx, big); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("handler read limit: %v", err)
	}
	// Handler read limit applies after decompression.
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithSendCompression("gzip")).CallUnary(ctx, big); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("handler read limit, gzip: %v", err)
	}
	// Client send limit: nothing reaches the wire.
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithSendMaxBytes(50)).CallUnary(ctx, big); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("client send limit: %v", err)
	}
	// Client read limit on unary and streams.
	open, h2b := newH2CServer(t, echoMux())
	if _, err := rpc.NewClient[sv, sv](h2b, open.URL, specUnary, rpc.WithReadMaxBytes(100)).CallUnary(ctx, big); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("client read limit: %v", err)
	}
	ss, err := rpc.NewClient[sv, sv](h2b, open.URL, specServer, rpc.WithReadMaxBytes(100)).CallServerStream(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Receive(); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("client stream read limit: %v", err)
	}
	_ = ss.Close()
	// Handler send limit.
	limited, h2c := newH2CServer(t, echoMux(rpc.WithSendMaxBytes(50)))
	if _, err := rpc.NewClient[sv, sv](h2c, limited.URL, specUnary).CallUnary(ctx, big); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatalf("handler send limit: %v", err)
	}
}

// One Client serves many goroutines at once.
func TestClientConcurrentUse(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	unary := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithSendCompression("gzip"))
	bidi := rpc.NewClient[sv, sv](h2, srv.URL, specBidi)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			v := strings.Repeat("u", i)
			res, err := unary.CallUnary(context.Background(), wrapperspb.String(v))
			if err != nil || res.Value != v {
				errs <- errors.New("unary mismatch")
			}
		}()
		go func() {
			defer wg.Done()
			s, err := bidi.CallBidiStream(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer s.CloseReceive()
			for j := range 5 {
				v := strings.Repeat("b", i+j)
				if err := s.Send(wrapperspb.String(v)); err != nil {
					errs <- err
					return
				}
				msg, err := s.Receive()
				if err != nil || msg.Value != "echo:"+v {
					errs <- errors.New("bidi mismatch")
					return
				}
			}
			_ = s.CloseSend()
			if _, err := s.Receive(); !errors.Is(err, io.EOF) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A handler that succeeds only after the request's deadline answers
// deadline_exceeded: the client has given up on it.
func TestLateSuccessIsDeadlineExceeded(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Late/Wait"}
	h := rpc.NewUnaryHandler(spec, func(ctx context.Context, req *sv) (*sv, error) {
		<-ctx.Done()
		return req, nil
	})
	srv, _ := newH2CServer(t, h)
	status, _, body := rawCall(t, srv.Client(), "POST", srv.URL+spec.Procedure,
		map[string]string{"Content-Type": "application/proto", "Connect-Timeout-Ms": "20"}, nil)
	if code, _ := unaryCode(t, body); status != http.StatusGatewayTimeout || code != "deadline_exceeded" {
		t.Fatalf("status %d body %s", status, body)
	}
}

// An interceptor may attach a call info of its own before calling on: the
// call fills it in, protocol and peer included.
func TestInterceptorOwnCallContext(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	var seen *rpc.CallInfo
	own := rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			ctx, info := rpc.NewClientContext(ctx)
			info.RequestHeader().Set("X-Echo", "mine")
			seen = info
			return next(ctx, req)
		}
	})
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC} {
		c := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithClientInterceptors(own), rpc.WithProtocol(p))
		if _, err := c.CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
			t.Fatal(err)
		}
		if seen.Protocol() != p || seen.Peer().Addr == "" || seen.Procedure() != specUnary.Procedure || seen.ResponseHeader().Get("X-Echo") != "mine" {
			t.Errorf("%v: protocol %v peer %+v procedure %q header %v", p, seen.Protocol(), seen.Peer(), seen.Procedure(), seen.ResponseHeader())
		}
	}
}
