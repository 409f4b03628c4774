// Package service implements ConformanceService, the service the suite's
// reference client calls on the server under test, through the generated
// conformancev1rpc package as a user would.
package service

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"polyconnect.dev/conformance/internal/compat"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1/conformancev1rpc"
	"polyconnect.dev/protocol/rpc"
)

// NewHandler returns an http.Handler serving ConformanceService. The
// Unimplemented method is left to the generated UnimplementedConformanceServiceHandler,
// and unknown paths get a 404.
func NewHandler(opts ...rpc.HandlerOption) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(conformancev1rpc.NewConformanceServiceHandler(server{}, opts...))
	return mux
}

// server implements conformancev1rpc.ConformanceServiceHandler.
type server struct {
	conformancev1rpc.UnimplementedConformanceServiceHandler
}

func (server) Unary(ctx context.Context, req *v1.UnaryRequest) (*v1.UnaryResponse, error) {
	payload, err := unaryResult(ctx, req.GetResponseDefinition(), []proto.Message{req})
	if err != nil {
		return nil, err
	}
	return &v1.UnaryResponse{Payload: payload}, nil
}

func (server) IdempotentUnary(ctx context.Context, req *v1.IdempotentUnaryRequest) (*v1.IdempotentUnaryResponse, error) {
	payload, err := unaryResult(ctx, req.GetResponseDefinition(), []proto.Message{req})
	if err != nil {
		return nil, err
	}
	return &v1.IdempotentUnaryResponse{Payload: payload}, nil
}

func (server) ClientStream(ctx context.Context, stream *rpc.ClientStream[v1.ClientStreamRequest]) (*v1.ClientStreamResponse, error) {
	var def *v1.UnaryResponseDefinition
	var reqs []proto.Message
	for msg, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			def = msg.GetResponseDefinition()
		}
		reqs = append(reqs, msg)
	}
	payload, err := unaryResult(ctx, def, reqs)
	if err != nil {
		return nil, err
	}
	return &v1.ClientStreamResponse{Payload: payload}, nil
}

// unaryResult answers a unary or client-stream call as def says: response
// headers and trailers, a delay, then a payload echoing the request or the
// requested error carrying the request info as a detail.
func unaryResult(ctx context.Context, def *v1.UnaryResponseDefinition, reqs []proto.Message) (*v1.ConformancePayload, error) {
	info := requestInfo(ctx, reqs)
	if def == nil {
		return &v1.ConformancePayload{RequestInfo: info}, nil
	}
	call, _ := rpc.HandlerCallInfo(ctx)
	compat.AddHeaders(call.ResponseHeader(), def.GetResponseHeaders())
	compat.AddHeaders(call.ResponseTrailer(), def.GetResponseTrailers())
	if def.GetRawResponse() != nil {
		return nil, rpc.NewError(rpc.CodeUnimplemented, "raw responses are only for the reference server")
	}
	if err := sleep(ctx, def.GetResponseDelayMs()); err != nil {
		return nil, err
	}
	if e := def.GetError(); e != nil {
		return nil, errorWithInfo(e, info)
	}
	return &v1.ConformancePayload{Data: def.GetResponseData(), RequestInfo: info}, nil
}

func (server) ServerStream(ctx context.Context, req *v1.ServerStreamRequest, stream *rpc.ServerStream[v1.ServerStreamResponse]) error {
	def := req.GetResponseDefinition()
	if def == nil {
		return nil
	}
	if def.GetRawResponse() != nil {
		return rpc.NewError(rpc.CodeUnimplemented, "raw responses are only for the reference server")
	}
	call, _ := rpc.HandlerCallInfo(ctx)
	compat.AddHeaders(call.ResponseHeader(), def.GetResponseHeaders())
	compat.AddHeaders(call.ResponseTrailer(), def.GetResponseTrailers())
	sent := 0
	for _, data := range def.GetResponseData() {
		res := &v1.ServerStreamResponse{Payload: &v1.ConformancePayload{Data: data}}
		if sent == 0 {
			res.Payload.RequestInfo = requestInfo(ctx, []proto.Message{req})
		}
		if err := sleep(ctx, def.GetResponseDelayMs()); err != nil {
			return err
		}
		if err := stream.Send(res); err != nil {
			return err
		}
		sent++
	}
	if e := def.GetError(); e != nil {
		if sent == 0 {
			return errorWithInfo(e, requestInfo(ctx, []proto.Message{req}))
		}
		return compat.ErrorFromProto(e)
	}
	return nil
}

func (server) BidiStream(ctx context.Context, stream *rpc.BidiStream[v1.BidiStreamRequest, v1.BidiStreamResponse]) error {
	var (
		def        *v1.StreamResponseDefinition
		fullDuplex bool
		reqs       []proto.Message
		sent       int
		first      = true
	)
	call, _ := rpc.HandlerCallInfo(ctx)
	send := func(data []byte) error {
		res := &v1.BidiStreamResponse{Payload: &v1.ConformancePayload{Data: data}}
		if sent == 0 {
			res.Payload.RequestInfo = requestInfo(ctx, reqs)
		} else if fullDuplex {
			res.Payload.RequestInfo = &v1.ConformancePayload_RequestInfo{Requests: toAny(reqs)}
		}
		if err := sleep(ctx, def.GetResponseDelayMs()); err != nil {
			return err
		}
		if err := stream.Send(res); err != nil {
			return err
		}
		sent++
		return nil
	}
	for {
		msg, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		reqs = append(reqs, msg)
		if first {
			first = false
			def = msg.GetResponseDefinition()
			fullDuplex = msg.GetFullDuplex()
			if def.GetRawResponse() != nil {
				return rpc.NewError(rpc.CodeUnimplemented, "raw responses are only for the reference server")
			}
			compat.AddHeaders(call.ResponseHeader(), def.GetResponseHeaders())
			compat.AddHeaders(call.ResponseTrailer(), def.GetResponseTrailers())
		}
		if fullDuplex {
			if sent >= len(def.GetResponseData()) {
				break
			}
			if err := send(def.GetResponseData()[sent]); err != nil {
				return err
			}
			reqs = reqs[:0]
		}
	}
	for sent < len(def.GetResponseData()) {
		if err := send(def.GetResponseData()[sent]); err != nil {
			return err
		}
	}
	if e := def.GetError(); e != nil {
		if sent == 0 {
			return errorWithInfo(e, requestInfo(ctx, reqs))
		}
		return compat.ErrorFromProto(e)
	}
	return nil
}

// requestInfo describes the call as the server observed it: request headers,
// timeout, the requests, and the query of a Connect GET.
func requestInfo(ctx context.Context, reqs []proto.Message) *v1.ConformancePayload_RequestInfo {
	call, _ := rpc.HandlerCallInfo(ctx)
	info := &v1.ConformancePayload_RequestInfo{
		RequestHeaders: compat.HeadersToProto(call.RequestHeader()),
		Requests:       toAny(reqs),
	}
	if deadline, ok := ctx.Deadline(); ok {
		info.TimeoutMs = proto.Int64(time.Until(deadline).Milliseconds())
	}
	if call.HTTPMethod() == http.MethodGet {
		info.ConnectGetInfo = &v1.ConformancePayload_ConnectGetInfo{QueryParams: compat.HeadersToProto(call.Peer().Query)}
	}
	return info
}

func toAny(msgs []proto.Message) []*anypb.Any {
	out := make([]*anypb.Any, 0, len(msgs))
	for _, m := range msgs {
		a, err := anypb.New(m)
		if err != nil {
			panic(err) // generated messages always marshal
		}
		out = append(out, a)
	}
	return out
}

func errorWithInfo(e *v1.Error, info *v1.ConformancePayload_RequestInfo) *rpc.Error {
	err := compat.ErrorFromProto(e)
	if a, aerr := anypb.New(info); aerr == nil {
		err.AddAnyDetail(a)
	}
	return err
}

// sleep waits ms milliseconds, then returns the context's error if the call
// ended meanwhile: the handler stands for slow work that checks its context
// before answering, as the reference server's does. (Answering the moment the
// deadline expires would race the client's own deadline on the wire.)
func sleep(ctx context.Context, ms uint32) error {
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return ctx.Err()
}
