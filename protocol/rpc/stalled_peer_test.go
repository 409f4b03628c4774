package rpc_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// smallWindows makes a client read little ahead: a 64 KiB HTTP/2 stream
// window, 16 KiB socket buffers. A server whose client stops reading then
// blocks after a few hundred KiB instead of many MiB.
func smallWindows(tr *http.Transport) {
	tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10, MaxReceiveBufferPerConnection: 64 << 10}
	tr.ReadBufferSize = 4 << 10
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetReadBuffer(16 << 10)
		}
		return c, err
	}
}

// sendResults records how each call's flood of Sends ended, by X-Call.
type sendResults struct {
	mu  sync.Mutex
	got map[string]chan error
}

func (r *sendResults) ch(call string) chan error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = make(map[string]chan error)
	}
	if _, ok := r.got[call]; !ok {
		r.got[call] = make(chan error, 1)
	}
	return r.got[call]
}

var specFlood = rpc.Spec{Procedure: "/test.v1.Flood/Server", StreamType: rpc.StreamTypeServer}

// TestSendEndsWhenThePeerStopsReading: a server-streaming handler whose
// client stops reading (no HTTP/2 window, full socket buffers) gets its Send
// back with DEADLINE_EXCEEDED at the call's deadline, even though the client
// never cancels, and with CANCELED when the client cancels; the handler then
// returns, with its goroutines. Send used to block forever on the deadline.
func TestSendEndsWhenThePeerStopsReading(t *testing.T) {
	noLeaks(t)
	var results sendResults
	big := wrapperspb.String(strings.Repeat("x", 32<<10))
	mux := http.NewServeMux()
	mux.Handle(specFlood.Procedure, rpc.NewServerStreamHandler(specFlood, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		for {
			if err := s.Send(big); err != nil {
				results.ch(info.RequestHeader().Get("X-Call")) <- err
				return err
			}
		}
	}))
	transports := netTransports(t, mux, smallWindows, func(c net.Conn) {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetWriteBuffer(16 << 10)
		}
	})
	var calls atomic.Int64
	for _, mode := range []string{"deadline", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			forEachProtocolAndTransport(t, transports, func(t *testing.T, tr netTransport, p rpc.Protocol) {
				call := strconv.FormatInt(calls.Add(1), 10)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ctx, info := rpc.NewClientContext(ctx)
				info.RequestHeader().Set("X-Call", call)
				want := rpc.CodeCanceled
				if mode == "deadline" {
					// The server's deadline only: the client's context has
					// none, so nothing but the server's timer ends the call.
					if p == rpc.ProtocolConnect {
						info.RequestHeader().Set("Connect-Timeout-Ms", "300")
					} else {
						info.RequestHeader().Set("Grpc-Timeout", "300m")
					}
					want = rpc.CodeDeadlineExceeded
				}
				c := rpc.NewClient[sv, sv](tr.client, tr.url, specFlood, rpc.WithProtocol(p))
				stream, err := c.CallServerStream(ctx, wrapperspb.String("go"))
				if err != nil {
					t.Fatal(err)
				}
				defer stream.Close()
				// The client reads nothing more (nothing at all with a
				// deadline: under load the server's deadline may pass before
				// its first message, and Send must then fail at once).
				if mode == "cancel" {
					// The handler is sending once a message is in.
					if _, err := stream.Receive(); err != nil {
						t.Fatal(err)
					}
					cancel()
				}
				select {
				case err := <-results.ch(call):
					if rpc.CodeOf(err) != want {
						t.Fatalf("Send ended with %v, want %v", err, want)
					}
				case <-time.After(20 * time.Second): // a hang detector, not a speed bound
					t.Fatal("Send is still blocked")
				}
			})
		})
	}
}
