package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"polyconnect.dev/conformance/internal/compat"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1/conformancev1rpc"
	"polyconnect.dev/protocol/rpc"
)

// call is one test case and the client configured as it asks.
type call struct {
	req    *v1.ClientCompatRequest
	client conformancev1rpc.ConformanceServiceClient
}

// invoke performs the RPC a request describes. An error means the RPC could
// not be attempted; RPC failures are part of the result.
func invoke(ctx context.Context, clients *httpClients, req *v1.ClientCompatRequest) (*v1.ClientResponseResult, error) {
	if s := req.GetService(); s != "" && s != conformancev1rpc.ConformanceServiceName {
		return nil, fmt.Errorf("unknown service %q", s)
	}
	if req.GetRawRequest() != nil {
		return nil, errors.New("raw requests are only for the reference client")
	}
	hc, err := clients.get(req)
	if err != nil {
		return nil, err
	}
	opts, err := clientOptions(req)
	if err != nil {
		return nil, err
	}
	c := &call{req: req, client: conformancev1rpc.NewConformanceServiceClient(hc, hc.URL(), opts...)}
	if req.TimeoutMs != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.GetTimeoutMs())*time.Millisecond)
		defer cancel()
	}
	switch req.GetMethod() {
	case "Unary":
		return unary(ctx, c, c.client.Unary)
	case "IdempotentUnary":
		return unary(ctx, c, c.client.IdempotentUnary)
	case "Unimplemented":
		return unary(ctx, c, c.client.Unimplemented)
	case "ServerStream":
		return serverStream(ctx, c)
	case "ClientStream":
		return clientStream(ctx, c)
	case "BidiStream":
		switch req.GetStreamType() {
		case v1.StreamType_STREAM_TYPE_FULL_DUPLEX_BIDI_STREAM:
			return bidiStream(ctx, c, true)
		case v1.StreamType_STREAM_TYPE_HALF_DUPLEX_BIDI_STREAM:
			return bidiStream(ctx, c, false)
		}
		return nil, fmt.Errorf("stream type %v is not a bidi stream type", req.GetStreamType())
	}
	return nil, fmt.Errorf("unknown method %q", req.GetMethod())
}

// clientOptions maps the request's protocol, codec, compression, receive
// limit and GET preference to client options.
func clientOptions(req *v1.ClientCompatRequest) ([]rpc.ClientOption, error) {
	var opts []rpc.ClientOption
	switch req.GetProtocol() {
	case v1.Protocol_PROTOCOL_CONNECT:
		opts = append(opts, rpc.WithProtocol(rpc.ProtocolConnect))
	case v1.Protocol_PROTOCOL_GRPC:
		opts = append(opts, rpc.WithProtocol(rpc.ProtocolGRPC))
	case v1.Protocol_PROTOCOL_GRPC_WEB:
		opts = append(opts, rpc.WithProtocol(rpc.ProtocolGRPCWeb))
	default:
		return nil, fmt.Errorf("protocol %v is not supported", req.GetProtocol())
	}
	switch req.GetCodec() {
	case v1.Codec_CODEC_PROTO:
	case v1.Codec_CODEC_JSON:
		opts = append(opts, rpc.WithProtoJSON())
	default:
		return nil, fmt.Errorf("codec %v is not supported", req.GetCodec())
	}
	name, ok := compressionNames[req.GetCompression()]
	if !ok {
		return nil, fmt.Errorf("compression %v is not supported", req.GetCompression())
	}
	if name != "" {
		opts = append(opts, rpc.WithSendCompression(name))
	}
	if n := req.GetMessageReceiveLimit(); n > 0 {
		opts = append(opts, rpc.WithReadMaxBytes(int64(n)))
	}
	if !req.GetUseGetHttpMethod() {
		opts = append(opts, rpc.WithoutHTTPGet())
	}
	return opts, nil
}

var compressionNames = map[v1.Compression]string{
	v1.Compression_COMPRESSION_UNSPECIFIED: "",
	v1.Compression_COMPRESSION_IDENTITY:    "",
	v1.Compression_COMPRESSION_GZIP:        "gzip",
	v1.Compression_COMPRESSION_BR:          "br",
	v1.Compression_COMPRESSION_ZSTD:        "zstd",
	v1.Compression_COMPRESSION_DEFLATE:     "deflate",
	v1.Compression_COMPRESSION_SNAPPY:      "snappy",
}

// message is a generated request or response type behind a pointer.
type message[T any] interface {
	*T
	proto.Message
}

// payloader is a response type carrying a ConformancePayload.
type payloader interface {
	GetPayload() *v1.ConformancePayload
}

// payloadOf returns a response's payload; an empty response (Unimplemented's)
// or one without a payload yields an empty payload, as the suite expects.
func payloadOf(res any) *v1.ConformancePayload {
	if p, ok := res.(payloader); ok && p.GetPayload() != nil {
		return p.GetPayload()
	}
	return &v1.ConformancePayload{}
}

func unpack[T any, P message[T]](a *anypb.Any) (*T, error) {
	msg := new(T)
	if err := a.UnmarshalTo(P(msg)); err != nil {
		return nil, fmt.Errorf("request message: %w", err)
	}
	return msg, nil
}

// cancelTiming reads the request's cancel instruction; -1 means absent.
type cancelTiming struct {
	beforeCloseSend   bool
	afterCloseSendMs  int
	afterNumResponses int
}

func timingOf(req *v1.ClientCompatRequest) cancelTiming {
	t := cancelTiming{afterCloseSendMs: -1, afterNumResponses: -1}
	switch c := req.GetCancel().GetCancelTiming().(type) {
	case *v1.ClientCompatRequest_Cancel_BeforeCloseSend:
		t.beforeCloseSend = true
	case *v1.ClientCompatRequest_Cancel_AfterCloseSendMs:
		t.afterCloseSendMs = int(c.AfterCloseSendMs)
	case *v1.ClientCompatRequest_Cancel_AfterNumResponses:
		t.afterNumResponses = int(c.AfterNumResponses)
	}
	return t
}

func newCallContext(ctx context.Context, req *v1.ClientCompatRequest) (context.Context, *rpc.CallInfo) {
	ctx, info := rpc.NewClientContext(ctx)
	compat.AddHeaders(info.RequestHeader(), req.GetRequestHeaders())
	return ctx, info
}

func unary[Req, Res any, PReq message[Req]](ctx context.Context, c *call, method func(context.Context, *Req) (*Res, error)) (*v1.ClientResponseResult, error) {
	if n := len(c.req.GetRequestMessages()); n != 1 {
		return nil, fmt.Errorf("unary call with %d request messages", n)
	}
	msg, err := unpack[Req, PReq](c.req.GetRequestMessages()[0])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, info := newCallContext(ctx, c.req)
	if t := timingOf(c.req); t.afterCloseSendMs >= 0 {
		timer := time.AfterFunc(time.Duration(t.afterCloseSendMs)*time.Millisecond, cancel)
		defer timer.Stop()
	}
	res, err := method(ctx, msg)
	result := &v1.ClientResponseResult{}
	if err != nil {
		result.Error = compat.ErrorToProto(err)
	} else {
		result.Payloads = []*v1.ConformancePayload{payloadOf(res)}
	}
	result.ResponseHeaders = compat.HeadersToProto(info.ResponseHeader())
	result.ResponseTrailers = compat.HeadersToProto(info.ResponseTrailer())
	return result, nil
}

func serverStream(ctx context.Context, c *call) (*v1.ClientResponseResult, error) {
	if n := len(c.req.GetRequestMessages()); n != 1 {
		return nil, fmt.Errorf("server-stream call with %d request messages", n)
	}
	msg, err := unpack[v1.ServerStreamRequest](c.req.GetRequestMessages()[0])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, info := newCallContext(ctx, c.req)
	result := &v1.ClientResponseResult{}
	stream, err := c.client.ServerStream(ctx, msg)
	if err != nil {
		result.Error = compat.ErrorToProto(err)
		result.ResponseHeaders = compat.HeadersToProto(info.ResponseHeader())
		result.ResponseTrailers = compat.HeadersToProto(info.ResponseTrailer())
		return result, nil
	}
	defer stream.Close()
	t := timingOf(c.req)
	if t.afterCloseSendMs >= 0 {
		time.Sleep(time.Duration(t.afterCloseSendMs) * time.Millisecond)
		cancel()
	}
	result.Error = receiveAll(stream.Receive, result, t, cancel)
	result.ResponseHeaders = compat.HeadersToProto(stream.ResponseHeader())
	result.ResponseTrailers = compat.HeadersToProto(stream.ResponseTrailer())
	return result, nil
}

// receiveAll records responses until the stream ends, canceling after the
// requested number of them, and returns the stream's error, if any.
func receiveAll[Res any, PRes message[Res]](receive func() (*Res, error), result *v1.ClientResponseResult, t cancelTiming, cancel context.CancelFunc) *v1.Error {
	for {
		res, err := receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return compat.ErrorToProto(err)
		}
		result.Payloads = append(result.Payloads, payloadOf(PRes(res)))
		if len(result.Payloads) == t.afterNumResponses {
			cancel()
		}
	}
}

func clientStream(ctx context.Context, c *call) (*v1.ClientResponseResult, error) {
	msgs, err := unpackAll[v1.ClientStreamRequest](c.req.GetRequestMessages())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, info := newCallContext(ctx, c.req)
	result := &v1.ClientResponseResult{}
	stream, err := c.client.ClientStream(ctx)
	if err != nil {
		// Refused before it started: nothing was sent.
		result.Error = compat.ErrorToProto(err)
		result.NumUnsentRequests = int32(len(msgs))
		return result, nil
	}
	for i, msg := range msgs {
		delay(c.req.GetRequestDelayMs())
		if err := stream.Send(msg); err != nil {
			result.NumUnsentRequests = int32(len(msgs) - i)
			break
		}
	}
	t := timingOf(c.req)
	if t.beforeCloseSend {
		cancel()
	} else if t.afterCloseSendMs >= 0 {
		timer := time.AfterFunc(time.Duration(t.afterCloseSendMs)*time.Millisecond, cancel)
		defer timer.Stop()
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		result.Error = compat.ErrorToProto(err)
	} else {
		result.Payloads = []*v1.ConformancePayload{payloadOf(res)}
	}
	result.ResponseHeaders = compat.HeadersToProto(info.ResponseHeader())
	result.ResponseTrailers = compat.HeadersToProto(info.ResponseTrailer())
	return result, nil
}

func bidiStream(ctx context.Context, c *call, fullDuplex bool) (*v1.ClientResponseResult, error) {
	msgs, err := unpackAll[v1.BidiStreamRequest](c.req.GetRequestMessages())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, info := newCallContext(ctx, c.req)
	result := &v1.ClientResponseResult{}
	stream, err := c.client.BidiStream(ctx)
	if err != nil {
		// Refused before it started: nothing was sent.
		result.Error = compat.ErrorToProto(err)
		result.NumUnsentRequests = int32(len(msgs))
		return result, nil
	}
	defer stream.CloseReceive()
	t := timingOf(c.req)
	finish := func() (*v1.ClientResponseResult, error) {
		result.ResponseHeaders = compat.HeadersToProto(info.ResponseHeader())
		result.ResponseTrailers = compat.HeadersToProto(info.ResponseTrailer())
		return result, nil
	}
	for i, msg := range msgs {
		delay(c.req.GetRequestDelayMs())
		if err := stream.Send(msg); err != nil {
			result.NumUnsentRequests = int32(len(msgs) - i)
			if !errors.Is(err, io.EOF) {
				result.Error = compat.ErrorToProto(err)
				return finish()
			}
			break
		}
		if fullDuplex {
			res, err := stream.Receive()
			if err != nil {
				result.NumUnsentRequests = int32(len(msgs) - i - 1)
				if !errors.Is(err, io.EOF) {
					result.Error = compat.ErrorToProto(err)
				}
				return finish()
			}
			result.Payloads = append(result.Payloads, payloadOf(res))
			if len(result.Payloads) == t.afterNumResponses {
				cancel()
			}
		}
	}
	if t.beforeCloseSend {
		cancel()
	}
	if err := stream.CloseSend(); err != nil {
		result.Error = compat.ErrorToProto(err)
		return finish()
	}
	if t.afterCloseSendMs >= 0 {
		time.Sleep(time.Duration(t.afterCloseSendMs) * time.Millisecond)
		cancel()
	}
	result.Error = receiveAll(stream.Receive, result, t, cancel)
	return finish()
}

func unpackAll[T any, P message[T]](as []*anypb.Any) ([]*T, error) {
	out := make([]*T, 0, len(as))
	for _, a := range as {
		msg, err := unpack[T, P](a)
		if err != nil {
			return nil, err
		}
		out = append(out, msg)
	}
	return out, nil
}

// delay sleeps between sent messages as the test case asks.
func delay(ms uint32) {
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}
