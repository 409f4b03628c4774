package harness

import (
	"context"
	"errors"
	"io"
	"net/http"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// polyconnectService implements the bench service with polyconnect's
// generated interface.
type polyconnectService struct{}

func (polyconnectService) Unary(_ context.Context, req *benchv1.Payload) (*benchv1.Payload, error) {
	return req, nil
}

func (polyconnectService) ServerStream(_ context.Context, req *benchv1.StreamRequest, stream *rpc.ServerStream[benchv1.Payload]) error {
	msg := &benchv1.Payload{Payload: make([]byte, req.Size)}
	for range req.Count {
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func (polyconnectService) ClientStream(_ context.Context, stream *rpc.ClientStream[benchv1.Payload]) (*benchv1.Payload, error) {
	for _, err := range stream.All() {
		if err != nil {
			return nil, err
		}
	}
	return &benchv1.Payload{}, nil
}

func (polyconnectService) Bidi(_ context.Context, stream *rpc.BidiStream[benchv1.Payload, benchv1.Payload]) error {
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

// The bench compares the frameworks without compression: polyconnect's
// clients and handlers get the identity-only set, so nothing is advertised,
// negotiated or compressed.
var polyconnectNoCompression = rpc.WithCompressions()

// PolyconnectHandler returns polyconnect's handler for the bench service and
// the path to mount it on. It answers Connect, gRPC and gRPC-Web, without
// compression.
func PolyconnectHandler() (string, http.Handler) {
	return benchv1rpc.NewBenchServiceHandler(polyconnectService{}, polyconnectNoCompression)
}

func mountPolyconnect(mux *http.ServeMux) { mux.Handle(PolyconnectHandler()) }

// PolyconnectClientOptions returns polyconnect's client options for a
// protocol name, without compression.
func PolyconnectClientOptions(protocol string) rpc.ClientOption {
	p := rpc.ProtocolConnect
	switch protocol {
	case ProtocolGRPC:
		p = rpc.ProtocolGRPC
	case ProtocolGRPCWeb:
		p = rpc.ProtocolGRPCWeb
	}
	return rpc.WithClientOptions(rpc.WithProtocol(p), polyconnectNoCompression)
}

type polyconnectClient struct {
	c  benchv1rpc.BenchServiceClient
	hc interface{ CloseIdleConnections() }
}

func newPolyconnectClient(hc rpc.HTTPClient, baseURL, protocol string) *polyconnectClient {
	c := &polyconnectClient{c: benchv1rpc.NewBenchServiceClient(hc, baseURL, PolyconnectClientOptions(protocol))}
	c.hc, _ = hc.(interface{ CloseIdleConnections() })
	return c
}

func (c *polyconnectClient) Unary(ctx context.Context, req *benchv1.Payload) error {
	res, err := c.c.Unary(ctx, req)
	if err != nil {
		return err
	}
	if len(res.Payload) != len(req.Payload) {
		return errSize("unary", len(res.Payload), len(req.Payload))
	}
	return nil
}

func (c *polyconnectClient) ServerStream(ctx context.Context, count, size int) error {
	call, err := c.c.ServerStream(ctx, &benchv1.StreamRequest{Count: int32(count), Size: int32(size)})
	if err != nil {
		return err
	}
	n := 0
	for msg, err := range call.All() {
		if err != nil {
			return err
		}
		if len(msg.Payload) != size {
			return errSize("server stream", len(msg.Payload), size)
		}
		n++
	}
	if n != count {
		return errCount("server stream", n, count)
	}
	return nil
}

func (c *polyconnectClient) ClientStream(ctx context.Context, count int, msg *benchv1.Payload) error {
	call, err := c.c.ClientStream(ctx)
	if err != nil {
		return err
	}
	for range count {
		if err := call.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				break // the status comes from CloseAndReceive
			}
			return err
		}
	}
	_, err = call.CloseAndReceive()
	return err
}

func (c *polyconnectClient) Bidi(ctx context.Context, count int, msg *benchv1.Payload) error {
	call, err := c.c.Bidi(ctx)
	if err != nil {
		return err
	}
	defer call.CloseReceive()
	for range count {
		if err := call.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				_, err = call.Receive()
			}
			return err
		}
		res, err := call.Receive()
		if err != nil {
			return err
		}
		if len(res.Payload) != len(msg.Payload) {
			return errSize("bidi", len(res.Payload), len(msg.Payload))
		}
	}
	if err := call.CloseSend(); err != nil {
		return err
	}
	if _, err := call.Receive(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("bidi: unexpected extra message")
		}
		return err
	}
	return nil
}

func (c *polyconnectClient) Close() {
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
}
