package harness

import (
	"context"
	"errors"
	"io"
	"net/http"

	"connectrpc.com/connect"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
)

// connectGoService implements the bench service with connect-go's
// generated interface.
type connectGoService struct{}

func (connectGoService) Unary(_ context.Context, req *connect.Request[benchv1.Payload]) (*connect.Response[benchv1.Payload], error) {
	return connect.NewResponse(req.Msg), nil
}

func (connectGoService) ServerStream(_ context.Context, req *connect.Request[benchv1.StreamRequest], stream *connect.ServerStream[benchv1.Payload]) error {
	msg := &benchv1.Payload{Payload: make([]byte, req.Msg.Size)}
	for range req.Msg.Count {
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func (connectGoService) ClientStream(_ context.Context, stream *connect.ClientStream[benchv1.Payload]) (*connect.Response[benchv1.Payload], error) {
	for stream.Receive() {
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&benchv1.Payload{}), nil
}

func (connectGoService) Bidi(_ context.Context, stream *connect.BidiStream[benchv1.Payload, benchv1.Payload]) error {
	for {
		msg, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// connect-go compresses with gzip by default: its clients accept gzip and
// its handlers then compress every response message. polyconnect and
// grpc-go compress only when asked to, and compression would dominate the
// measurements, so the bench switches it off on both sides.
var (
	connectGoNoGzipHandler = connect.WithCompression("gzip", nil, nil)
	connectGoNoGzipClient  = connect.WithAcceptCompression("gzip", nil, nil)
)

// ConnectGoHandler returns connect-go's handler for the bench service and
// the path to mount it on. It answers Connect, gRPC and gRPC-Web, without
// compression.
func ConnectGoHandler() (string, http.Handler) {
	return benchv1connect.NewBenchServiceHandler(connectGoService{}, connectGoNoGzipHandler)
}

func mountConnectGo(mux *http.ServeMux) { mux.Handle(ConnectGoHandler()) }

// ConnectGoClientOptions returns connect-go's client options for a
// protocol name, without compression.
func ConnectGoClientOptions(protocol string) []connect.ClientOption {
	opts := []connect.ClientOption{connectGoNoGzipClient}
	switch protocol {
	case ProtocolGRPC:
		opts = append(opts, connect.WithGRPC())
	case ProtocolGRPCWeb:
		opts = append(opts, connect.WithGRPCWeb())
	}
	return opts
}

type connectGoClient struct {
	c  benchv1connect.BenchServiceClient
	hc interface{ CloseIdleConnections() }
}

func newConnectGoClient(hc connect.HTTPClient, baseURL, protocol string) *connectGoClient {
	c := &connectGoClient{c: benchv1connect.NewBenchServiceClient(hc, baseURL, ConnectGoClientOptions(protocol)...)}
	c.hc, _ = hc.(interface{ CloseIdleConnections() })
	return c
}

func (c *connectGoClient) Unary(ctx context.Context, req *benchv1.Payload) error {
	res, err := c.c.Unary(ctx, connect.NewRequest(req))
	if err != nil {
		return err
	}
	if len(res.Msg.Payload) != len(req.Payload) {
		return errSize("unary", len(res.Msg.Payload), len(req.Payload))
	}
	return nil
}

func (c *connectGoClient) ServerStream(ctx context.Context, count, size int) error {
	stream, err := c.c.ServerStream(ctx, connect.NewRequest(&benchv1.StreamRequest{Count: int32(count), Size: int32(size)}))
	if err != nil {
		return err
	}
	defer stream.Close()
	n := 0
	for stream.Receive() {
		if got := len(stream.Msg().Payload); got != size {
			return errSize("server stream", got, size)
		}
		n++
	}
	if err := stream.Err(); err != nil {
		return err
	}
	if n != count {
		return errCount("server stream", n, count)
	}
	return nil
}

func (c *connectGoClient) ClientStream(ctx context.Context, count int, msg *benchv1.Payload) error {
	stream := c.c.ClientStream(ctx)
	for range count {
		if err := stream.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				break // the status comes from CloseAndReceive
			}
			return err
		}
	}
	_, err := stream.CloseAndReceive()
	return err
}

func (c *connectGoClient) Bidi(ctx context.Context, count int, msg *benchv1.Payload) error {
	stream := c.c.Bidi(ctx)
	defer stream.CloseResponse()
	for range count {
		if err := stream.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				_, err = stream.Receive()
			}
			return err
		}
		res, err := stream.Receive()
		if err != nil {
			return err
		}
		if len(res.Payload) != len(msg.Payload) {
			return errSize("bidi", len(res.Payload), len(msg.Payload))
		}
	}
	if err := stream.CloseRequest(); err != nil {
		return err
	}
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("bidi: unexpected extra message")
		}
		return err
	}
	return nil
}

func (c *connectGoClient) Close() {
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
}
