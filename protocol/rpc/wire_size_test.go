package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// recorded is one message's sizes as an interceptor read them.
type recorded struct {
	side, dir string
	size      rpc.MessageSize
}

type sizeRecorder struct {
	mu  sync.Mutex
	got []recorded
}

func (r *sizeRecorder) add(side, dir string, s rpc.MessageSize) {
	r.mu.Lock()
	r.got = append(r.got, recorded{side, dir, s})
	r.mu.Unlock()
}

func (r *sizeRecorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.got...)
}

// sizeConn reads the handler's CallInfo after each message.
type sizeConn struct {
	rpc.StreamingHandlerConn
	info *rpc.CallInfo
	r    *sizeRecorder
}

func (c *sizeConn) Receive(msg any) error {
	err := c.StreamingHandlerConn.Receive(msg)
	if err == nil {
		c.r.add("server", "received", c.info.LastReceivedSize())
	}
	return err
}

func (c *sizeConn) Send(msg any) error {
	err := c.StreamingHandlerConn.Send(msg)
	if err == nil {
		c.r.add("server", "sent", c.info.LastSentSize())
	}
	return err
}

type clientSizeConn struct {
	rpc.StreamingClientConn
	info *rpc.CallInfo
	r    *sizeRecorder
}

func (c *clientSizeConn) Send(msg any) error {
	err := c.StreamingClientConn.Send(msg)
	if err == nil {
		c.r.add("client", "sent", c.info.LastSentSize())
	}
	return err
}

func (c *clientSizeConn) Receive(msg any) error {
	err := c.StreamingClientConn.Receive(msg)
	if err == nil {
		c.r.add("client", "received", c.info.LastReceivedSize())
	}
	return err
}

// sizeInterceptor records the sizes on both sides.
type sizeInterceptor struct{ r *sizeRecorder }

func (s sizeInterceptor) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		return next(ctx, &sizeConn{StreamingHandlerConn: conn, info: info, r: s.r})
	}
}

func (s sizeInterceptor) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}

func (s sizeInterceptor) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		res, err := next(ctx, req)
		info, _ := rpc.ClientCallInfo(ctx)
		s.r.add("client", "sent", info.LastSentSize())
		if err == nil {
			s.r.add("client", "received", info.LastReceivedSize())
		}
		return res, err
	}
}

func (s sizeInterceptor) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		conn, err := next(ctx)
		if err != nil {
			return nil, err
		}
		info, _ := rpc.ClientCallInfo(ctx)
		return &clientSizeConn{StreamingClientConn: conn, info: info, r: s.r}, nil
	}
}

var (
	sizeUnary = rpc.Spec{Procedure: "/size.v1.Size/Unary", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	sizeBidi  = rpc.Spec{Procedure: "/size.v1.Size/Bidi", StreamType: rpc.StreamTypeBidi}
)

// The CallInfo gives each message's encoded and compressed sizes, on both
// sides, for unary calls (POST and GET) and streams, on every protocol.
// The sizes are checked against proto.Size and, compressed, against the
// other side's view of the same message.
func TestMessageSizes(t *testing.T) {
	big := wrapperspb.String(strings.Repeat("compressible ", 100)) // 1,300 bytes of text
	small := wrapperspb.String("tiny")
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		for _, compress := range []bool{false, true} {
			for _, get := range []bool{false, true} {
				if get && p != rpc.ProtocolConnect {
					continue
				}
				name := p.String()
				if compress {
					name += "/gzip"
				}
				if get {
					name += "/get"
				}
				t.Run(name, func(t *testing.T) {
					r := &sizeRecorder{}
					ic := sizeInterceptor{r}
					hopts := rpc.WithHandlerInterceptors(ic)
					mux := http.NewServeMux()
					mux.Handle(sizeUnary.Procedure, rpc.NewUnaryHandler(sizeUnary, func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
						return req, nil
					}, hopts))
					mux.Handle(sizeBidi.Procedure, rpc.NewBidiStreamHandler(sizeBidi, func(_ context.Context, s *rpc.BidiStream[wrapperspb.StringValue, wrapperspb.StringValue]) error {
						for {
							msg, err := s.Receive()
							if errors.Is(err, io.EOF) {
								return nil
							}
							if err != nil {
								return err
							}
							if err := s.Send(msg); err != nil {
								return err
							}
						}
					}, hopts))
					srv := rpctest.NewServer(t, mux)
					copts := []rpc.ClientOption{rpc.WithProtocol(p), rpc.WithClientInterceptors(ic)}
					if compress {
						copts = append(copts, rpc.WithSendCompression("gzip"), rpc.WithCompressMinBytes(100))
					}
					if !get {
						copts = append(copts, rpc.WithoutHTTPGet())
					}
					unary := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.HTTP2Client(), srv.URL(), sizeUnary, copts...)
					for _, msg := range []*wrapperspb.StringValue{big, small} {
						if _, err := unary.CallUnary(context.Background(), msg); err != nil {
							t.Fatal(err)
						}
					}
					if !get {
						bidi := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.HTTP2Client(), srv.URL(), sizeBidi, copts...)
						stream, err := bidi.CallBidiStream(context.Background())
						if err != nil {
							t.Fatal(err)
						}
						for _, msg := range []*wrapperspb.StringValue{big, small} {
							if err := stream.Send(msg); err != nil {
								t.Fatal(err)
							}
							if _, err := stream.Receive(); err != nil {
								t.Fatal(err)
							}
						}
						_ = stream.CloseSend()
						if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
							t.Fatal(err)
						}
						_ = stream.CloseReceive()
					}
					got := r.all()
					want := 8
					if !get {
						want = 16
					}
					if len(got) != want {
						t.Fatalf("%d sizes recorded, want %d: %+v", len(got), want, got)
					}
					// Every message's encoded size is proto.Size; the
					// client compresses the big requests when asked to (the
					// small ones are below the threshold), and each side's
					// sizes of a message are the other side's: what one
					// sent, compressed or not, the other received.
					views := map[string][]rpc.MessageSize{}
					for _, g := range got {
						views[g.side+" "+g.dir] = append(views[g.side+" "+g.dir], g.size)
						if u := g.size.Uncompressed; u != proto.Size(big) && u != proto.Size(small) {
							t.Errorf("%+v: size %d, want %d or %d", g, u, proto.Size(big), proto.Size(small))
						}
						if g.size.Compressed <= 0 || g.size.Compressed > g.size.Uncompressed+32 {
							t.Errorf("%+v: compressed size out of range", g)
						}
						if g.size.Uncompressed == proto.Size(small) && g.size.Compressed != g.size.Uncompressed {
							t.Errorf("%+v: a message below the threshold was compressed", g)
						}
						if g.side == "client" && g.dir == "sent" && g.size.Uncompressed == proto.Size(big) {
							if compressed := g.size.Compressed < g.size.Uncompressed; compressed != compress {
								t.Errorf("%+v: request compressed %v, want %v", g, compressed, compress)
							}
						}
					}
					for _, pair := range [][2]string{{"client sent", "server received"}, {"server sent", "client received"}} {
						a, b := views[pair[0]], views[pair[1]]
						sortSizes(a)
						sortSizes(b)
						if !slices.Equal(a, b) || len(a) != want/4 {
							t.Errorf("%s %v, %s %v: want the same %d messages", pair[0], a, pair[1], b, want/4)
						}
					}
				})
			}
		}
	}
}

func sortSizes(s []rpc.MessageSize) {
	slices.SortFunc(s, func(a, b rpc.MessageSize) int {
		if a.Uncompressed != b.Uncompressed {
			return a.Uncompressed - b.Uncompressed
		}
		return a.Compressed - b.Compressed
	})
}
