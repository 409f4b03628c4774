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
	h3 "polyconnect.dev/transport-http3"
)

// shortIdle makes QUIC give up on a silent peer after a second instead of
// 30, so the tests of vanished peers are quick.
const shortIdle = time.Second

// openEcho opens an Echo stream with protocol p and checks that one
// message goes round; the stream's response side is closed with the test.
func openEcho(t *testing.T, c *h3.Client, url string, p rpc.Protocol) *rpc.BidiStreamCall[str, str] {
	t.Helper()
	stream, err := rpc.NewClient[str, str](c, url, specBidi, rpc.WithProtocol(p)).CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stream.CloseReceive() })
	if err := stream.Send(wrapperspb.String("one")); err != nil {
		t.Fatal(err)
	}
	if res, err := stream.Receive(); err != nil || res.GetValue() != "echo:one" {
		t.Fatalf("%v: first echo = %v, %v", p, res, err)
	}
	return stream
}

// TestClientVanishes: a client whose socket disappears mid-stream, without
// closing its connection, must not hold the handler forever: once QUIC's
// idle timeout passes, the handler's context ends.
func TestClientVanishes(t *testing.T) {
	checkLeaks(t)
	entered := make(chan struct{})
	ended := make(chan error, 1)
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[str, str]) error {
		close(entered)
		_, err := s.Receive() // the second message never comes
		if err == nil {
			_, err = s.Receive()
		}
		// The stream failed; its context ends too, maybe a moment later.
		select {
		case <-ctx.Done():
			ended <- err
		case <-time.After(10 * time.Second): // generous
			ended <- nil
		}
		return err
	}))
	srv := startServer(t, serverConfig(t), mux, h3.WithServerHook(func(_ *http3.Server, qc *quic.Config) {
		qc.MaxIdleTimeout = shortIdle
	}))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// No keep-alive, so nothing is sent once the socket is gone.
	cfg := clientConfig(t)
	cfg.PingInterval = -1
	c := newClient(t, cfg, h3.WithClientPacketConn(pc))
	stream, err := rpc.NewClient[str, str](c, srv.URL(), specBidi).CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(wrapperspb.String("one")); err != nil {
		t.Fatal(err)
	}
	<-entered
	pc.Close() // the client is gone: no CONNECTION_CLOSE, no more packets
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the handler's context is still live, or its stream did not fail")
		}
	case <-time.After(30 * time.Second): // generous: the idle timeout is 1s
		t.Fatal("the handler still waits for a client that vanished")
	}
}

// TestServerVanishes: a server whose socket disappears mid-stream, without
// closing its connections, must end the client's stream as unavailable
// once QUIC's idle timeout passes, not hang it.
func TestServerVanishes(t *testing.T) {
	checkLeaks(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, serverConfig(t), testService(), h3.WithPacketConn(pc))
	c := newClient(t, clientConfig(t), h3.WithTransportHook(func(_ *http3.Transport, qc *quic.Config) {
		qc.MaxIdleTimeout = shortIdle
		qc.KeepAlivePeriod = shortIdle / 4
	}))
	for _, p := range protocols {
		stream := openEcho(t, c, srv.URL(), p)
		defer func() {
			_, err := stream.Receive()
			if rpc.CodeOf(err) != rpc.CodeUnavailable {
				t.Errorf("%v: stream of a vanished server ended with %v, want unavailable", p, err)
			}
		}()
	}
	pc.Close() // the server is gone, without a word to its clients
}

// TestCloseWithOpenStreams: Close cuts open streams of every protocol as
// unavailable and leaves nothing running.
func TestCloseWithOpenStreams(t *testing.T) {
	checkLeaks(t)
	srv := startServer(t, serverConfig(t), testService())
	c := newClient(t, clientConfig(t))
	var streams []*rpc.BidiStreamCall[str, str]
	for _, p := range protocols {
		streams = append(streams, openEcho(t, c, srv.URL(), p))
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for i, stream := range streams {
		if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeUnavailable {
			t.Errorf("%v: Receive after Close = %v, want unavailable", protocols[i], err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	checkLeaks(t)
	srv, err := h3.NewServer(serverConfig(t), testService())
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	c := newClient(t, clientConfig(t))
	// Serve starts the server; poll until it has an address.
	for srv.Addr() == nil {
		time.Sleep(time.Millisecond)
	}
	if err := srv.Start(); err == nil {
		t.Error("Start of a serving server succeeded")
	}
	if _, err := rpc.NewClient[str, str](c, srv.URL(), specUnary).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if err := srv.Start(); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Start after Shutdown = %v", err)
	}
	if err := srv.Serve(); err != nil { // as nethttp: it stopped by Shutdown
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after Shutdown = %v", err)
	}

	// Shutdown of a server never started, with a socket handed to it,
	// closes the socket.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idle, err := h3.NewServer(serverConfig(t), testService(), h3.WithPacketConn(pc))
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Start = %v", err)
	}
	if _, err := pc.WriteTo([]byte("x"), pc.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("socket of a server shut down before Start: write error %v", err)
	}

	// A busy port is reported by Start.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := serverConfig(t)
	cfg.Addr = busy.LocalAddr().String()
	taken, err := h3.NewServer(cfg, testService())
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Start(); err == nil {
		taken.Close()
		t.Error("Start on a busy port succeeded")
	}
}
