package main

import (
	"context"
	"errors"
	"io"
	"net/http"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// The bench service, with Unary and ServerStream declared free of side
// effects (they are: both only echo or generate), so that retries may
// repeat them and Connect clients use GET for Unary. The generated specs
// predate idempotency levels in bench.proto, hence the specs by hand.
var (
	unarySpec = rpc.Spec{
		Procedure:        benchv1rpc.BenchServiceUnaryProcedure,
		StreamType:       rpc.StreamTypeUnary,
		IdempotencyLevel: rpc.IdempotencyNoSideEffects,
	}
	serverStreamSpec = rpc.Spec{
		Procedure:        benchv1rpc.BenchServiceServerStreamProcedure,
		StreamType:       rpc.StreamTypeServer,
		IdempotencyLevel: rpc.IdempotencyNoSideEffects,
	}
	clientStreamSpec = rpc.Spec{
		Procedure:  benchv1rpc.BenchServiceClientStreamProcedure,
		StreamType: rpc.StreamTypeClient,
	}
	bidiSpec = rpc.Spec{
		Procedure:  benchv1rpc.BenchServiceBidiProcedure,
		StreamType: rpc.StreamTypeBidi,
	}
)

// serviceMux serves the four methods; replica names the server in a
// response header, so a caller can see which replica answered.
func serviceMux(replica string) http.Handler {
	mux := http.NewServeMux()
	named := func(ctx context.Context) {
		if info, ok := rpc.HandlerCallInfo(ctx); ok {
			info.ResponseHeader().Set("Replica", replica)
		}
	}
	mux.Handle(unarySpec.Procedure, rpc.NewUnaryHandler(unarySpec, func(ctx context.Context, req *benchv1.Payload) (*benchv1.Payload, error) {
		named(ctx)
		return req, nil
	}))
	mux.Handle(serverStreamSpec.Procedure, rpc.NewServerStreamHandler(serverStreamSpec, func(ctx context.Context, req *benchv1.StreamRequest, stream *rpc.ServerStream[benchv1.Payload]) error {
		named(ctx)
		msg := &benchv1.Payload{Payload: make([]byte, req.GetSize())}
		for range req.GetCount() {
			if err := stream.Send(msg); err != nil {
				return err
			}
		}
		return nil
	}))
	mux.Handle(clientStreamSpec.Procedure, rpc.NewClientStreamHandler(clientStreamSpec, func(ctx context.Context, stream *rpc.ClientStream[benchv1.Payload]) (*benchv1.Payload, error) {
		named(ctx)
		n := 0
		for msg, err := range stream.All() {
			if err != nil {
				return nil, err
			}
			n += len(msg.GetPayload())
		}
		return &benchv1.Payload{Payload: make([]byte, n)}, nil
	}))
	mux.Handle(bidiSpec.Procedure, rpc.NewBidiStreamHandler(bidiSpec, func(ctx context.Context, stream *rpc.BidiStream[benchv1.Payload, benchv1.Payload]) error {
		named(ctx)
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
	}))
	return mux
}

// clients are the typed clients of the four methods for one protocol.
type clients struct {
	protocol     rpc.Protocol
	unary        *rpc.Client[benchv1.Payload, benchv1.Payload]
	serverStream *rpc.Client[benchv1.StreamRequest, benchv1.Payload]
	clientStream *rpc.Client[benchv1.Payload, benchv1.Payload]
	bidi         *rpc.Client[benchv1.Payload, benchv1.Payload]
}

func newClients(hc rpc.HTTPClient, baseURL string, p rpc.Protocol, opts ...rpc.ClientOption) *clients {
	opts = append([]rpc.ClientOption{rpc.WithProtocol(p)}, opts...)
	return &clients{
		protocol:     p,
		unary:        rpc.NewClient[benchv1.Payload, benchv1.Payload](hc, baseURL, unarySpec, opts...),
		serverStream: rpc.NewClient[benchv1.StreamRequest, benchv1.Payload](hc, baseURL, serverStreamSpec, opts...),
		clientStream: rpc.NewClient[benchv1.Payload, benchv1.Payload](hc, baseURL, clientStreamSpec, opts...),
		bidi:         rpc.NewClient[benchv1.Payload, benchv1.Payload](hc, baseURL, bidiSpec, opts...),
	}
}
