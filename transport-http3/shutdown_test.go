package h3_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// blockingUnary is a unary handler that signals entered and waits for
// release, or for its context to end.
func blockingUnary(entered chan<- struct{}, release <-chan struct{}) http.Handler {
	return rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *str) (*str, error) {
		entered <- struct{}{}
		select {
		case <-release:
			return wrapperspb.String("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
}

func TestShutdownWaitsForUnaryCall(t *testing.T) {
	checkLeaks(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := startServer(t, serverConfig(t), blockingUnary(entered, release))
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	c := newClient(t, clientConfig(t))
	defer c.Close()

	result := make(chan error, 1)
	go func() {
		res, err := rpc.NewClient[str, str](c, srv.URL(), specUnary).CallUnary(context.Background(), wrapperspb.String("x"))
		if err == nil && res.GetValue() != "done" {
			err = errors.New("wrong answer " + res.GetValue())
		}
		result <- err
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case err := <-served:
		t.Fatalf("Serve returned %v with a call in flight", err)
	case err := <-result:
		t.Fatalf("call ended with %v before it was released", err)
	default:
	}
	close(release)
	if err := <-result; err != nil {
		t.Errorf("call in flight during Shutdown: %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	// The UDP port is free again.
	pc, err := net.ListenPacket("udp", srv.Addr().String())
	if err != nil {
		t.Fatalf("port still bound after Shutdown: %v", err)
	}
	pc.Close()
}

// TestShutdownWaitsForStream checks that an open bidi stream keeps working
// in both directions after Shutdown has sent GOAWAY, that the client opens
// no new stream on that connection, and that Shutdown returns once the
// stream ends.
func TestShutdownWaitsForStream(t *testing.T) {
	checkLeaks(t)
	srv := startServer(t, serverConfig(t), testService())
	c := newClient(t, clientConfig(t))
	defer c.Close()
	ctx := context.Background()
	for _, p := range protocols {
		stream, err := rpc.NewClient[str, str](c, srv.URL(), specBidi, rpc.WithProtocol(p)).CallBidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(wrapperspb.String("before")); err != nil {
			t.Fatal(err)
		}
		if res, err := stream.Receive(); err != nil || res.GetValue() != "echo:before" {
			t.Fatalf("%v: before Shutdown: %v, %v", p, res, err)
		}
		defer func() {
			if err := stream.Send(wrapperspb.String("after")); err != nil {
				t.Fatal(err)
			}
			if res, err := stream.Receive(); err != nil || res.GetValue() != "echo:after" {
				t.Fatalf("%v: after Shutdown: %v, %v", p, res, err)
			}
			stream.CloseSend()
			stream.CloseReceive()
		}()
	}
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()

	// New calls are refused once the GOAWAY is in, or the listener is
	// closed; either way they fail as unavailable, never hang.
	unary := rpc.NewClient[str, str](c, srv.URL(), specUnary)
	for {
		_, err := unary.CallUnary(ctx, wrapperspb.String("late"))
		if err != nil {
			if rpc.CodeOf(err) != rpc.CodeUnavailable {
				t.Errorf("call after Shutdown: %v, want unavailable", err)
			}
			break
		}
		// Shutdown had not reached the connection yet; try again.
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned %v with streams open", err)
		default:
		}
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with streams open", err)
	default:
	}
	// The deferred functions finish the streams; Shutdown must return then.
	t.Cleanup(func() {
		if err := <-shut; err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
}

// TestShutdownSilentClient: a client that opens request streams and never
// sends a byte holds its connection; Shutdown gives up when its context
// ends, closes the connection and returns the context's error, and
// nothing is left running.
func TestShutdownSilentClient(t *testing.T) {
	checkLeaks(t)
	srv := startServer(t, serverConfig(t), testService())
	server, _ := pki(t)
	tlsConf, err := (&transport.TLSConfig{CAPEM: server.CertPEM}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tlsConf.NextProtos = []string{http3.NextProtoH3}
	conn, err := quic.DialAddr(context.Background(), srv.Addr().String(), tlsConf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	for range 5 {
		if _, err := conn.OpenStream(); err != nil {
			t.Fatal(err)
		}
	}
	// A well-behaved client still gets answers.
	c := newClient(t, clientConfig(t))
	defer c.Close()
	if _, err := rpc.NewClient[str, str](c, srv.URL(), specUnary).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	// The silent client never closes its connection, so this deadline is
	// always reached; its length does not matter.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-conn.Context().Done():
	case <-time.After(10 * time.Second): // generous: the close is one packet on loopback
		t.Error("the silent client's connection is still open after Shutdown")
	}
}

func TestCloseCancelsCalls(t *testing.T) {
	checkLeaks(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	srv := startServer(t, serverConfig(t), blockingUnary(entered, release))
	c := newClient(t, clientConfig(t))
	defer c.Close()
	result := make(chan error, 1)
	go func() {
		_, err := rpc.NewClient[str, str](c, srv.URL(), specUnary).CallUnary(context.Background(), wrapperspb.String("x"))
		result <- err
	}()
	<-entered
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-result; rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Errorf("call cut by Close: %v, want unavailable", err)
	}
}

// TestClientCancel checks that cancelling a call, or its deadline, reads
// as canceled or deadline_exceeded for every protocol, not as the stream
// reset HTTP/3 uses to abort it, and that the handler sees its context
// end.
func TestClientCancel(t *testing.T) {
	checkLeaks(t)
	handlerDone := make(chan error, 10)
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[str, str]) error {
		if err := s.Send(wrapperspb.String("ready")); err != nil {
			return err
		}
		<-ctx.Done()
		handlerDone <- ctx.Err()
		return ctx.Err()
	}))
	srv := startServer(t, serverConfig(t), mux)
	c := newClient(t, clientConfig(t))
	defer c.Close()
	for _, p := range protocols {
		t.Run(p.String()+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			stream, err := rpc.NewClient[str, str](c, srv.URL(), specBidi, rpc.WithProtocol(p)).CallBidiStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.CloseReceive()
			if err := stream.Send(wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Receive(); err != nil {
				t.Fatal(err)
			}
			cancel()
			if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
				t.Errorf("Receive after cancel = %v, want canceled", err)
			}
			if err := <-handlerDone; !errors.Is(err, context.Canceled) {
				t.Errorf("handler context ended with %v", err)
			}
		})
		t.Run(p.String()+"/deadline", func(t *testing.T) {
			// The server learns the deadline too and may reset the stream
			// at its copy first; whichever side acts, the call must end
			// as deadline_exceeded. The length does not matter.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			stream, err := rpc.NewClient[str, str](c, srv.URL(), specBidi, rpc.WithProtocol(p)).CallBidiStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.CloseReceive()
			_ = stream.Send(wrapperspb.String("x"))
			for err == nil {
				_, err = stream.Receive()
			}
			if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Errorf("Receive past the deadline = %v, want deadline_exceeded", err)
			}
			select {
			case err := <-handlerDone:
				if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("handler context ended with %v", err)
				}
			case <-time.After(10 * time.Second): // generous; the handler may not have started
			}
		})
	}
}
