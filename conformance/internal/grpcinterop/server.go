package grpcinterop

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"polyconnect.dev/conformance/internal/grpctesting"
	"polyconnect.dev/conformance/internal/grpctesting/grpctestingrpc"
	"polyconnect.dev/protocol/rpc"
)

// Server implements grpc.testing.TestService as the interop tests expect:
// it answers with payloads of the requested sizes, fails with the requested
// status, echoes the test metadata, pauses for interval_us between
// streamed responses and checks expect_compressed. Its methods are safe for
// concurrent use.
//
// It honours response_compressed, and each response parameter's
// compressed, with rpc.SetResponseCompression (gzip, which every interop
// client accepts).
type Server struct {
	// UnimplementedCall, the one method the tests expect to be missing,
	// answers UNIMPLEMENTED through the embedded type.
	grpctestingrpc.UnimplementedTestServiceHandler

	// ID is returned as server_id when a request sets fill_server_id.
	ID string
	// Hostname is returned in every SimpleResponse's hostname field.
	Hostname string
}

// NewHandler serves s for grpc.testing.TestService and answers every other
// path, grpc.testing.UnimplementedService's included, as an unknown
// procedure: UNIMPLEMENTED for gRPC and gRPC-Web, 404 for Connect.
func NewHandler(s *Server, opts ...rpc.HandlerOption) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(grpctestingrpc.NewTestServiceHandler(s, opts...))
	mux.HandleFunc("/", rpc.NotFound)
	return mux
}

// EmptyCall answers an empty request with an empty response.
func (s *Server) EmptyCall(context.Context, *grpctesting.Empty) (*grpctesting.Empty, error) {
	return &grpctesting.Empty{}, nil
}

// UnaryCall answers with a payload of response_size bytes, or fails with
// response_status.
func (s *Server) UnaryCall(ctx context.Context, req *grpctesting.SimpleRequest) (*grpctesting.SimpleResponse, error) {
	echoMetadata(ctx)
	if err := checkCompressed(ctx, req.GetExpectCompressed()); err != nil {
		return nil, err
	}
	if err := statusError(req.GetResponseStatus()); err != nil {
		return nil, err
	}
	if rc := req.GetResponseCompressed(); rc != nil {
		if err := rpc.SetResponseCompression(ctx, compressionName(rc.GetValue())); err != nil {
			return nil, err
		}
	}
	payload, err := newPayload(req.GetResponseType(), req.GetResponseSize())
	if err != nil {
		return nil, err
	}
	res := &grpctesting.SimpleResponse{Payload: payload, Hostname: s.Hostname}
	if req.GetFillServerId() {
		res.ServerId = s.ID
	}
	return res, nil
}

// CacheableUnaryCall is UnaryCall with a response that caches may keep.
func (s *Server) CacheableUnaryCall(ctx context.Context, req *grpctesting.SimpleRequest) (*grpctesting.SimpleResponse, error) {
	if ci, ok := rpc.HandlerCallInfo(ctx); ok {
		ci.ResponseHeader().Set("Cache-Control", "max-age=60, public")
	}
	return s.UnaryCall(ctx, req)
}

// StreamingOutputCall sends one response per response parameter, each after
// its interval, and then fails with response_status if it is set.
func (s *Server) StreamingOutputCall(ctx context.Context, req *grpctesting.StreamingOutputCallRequest, stream *rpc.ServerStream[grpctesting.StreamingOutputCallResponse]) error {
	echoMetadata(ctx)
	if err := statusError(req.GetResponseStatus()); err != nil {
		return err
	}
	return respond(ctx, req, stream.Send)
}

// StreamingInputCall answers with the total size of the payloads received.
func (s *Server) StreamingInputCall(ctx context.Context, stream *rpc.ClientStream[grpctesting.StreamingInputCallRequest]) (*grpctesting.StreamingInputCallResponse, error) {
	echoMetadata(ctx)
	var total int
	for req, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		if err := checkCompressed(ctx, req.GetExpectCompressed()); err != nil {
			return nil, err
		}
		total += len(req.GetPayload().GetBody())
	}
	return &grpctesting.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)}, nil
}

// FullDuplexCall answers each request as it arrives, with one response per
// response parameter, or fails with the request's response_status.
func (s *Server) FullDuplexCall(ctx context.Context, stream *rpc.BidiStream[grpctesting.StreamingOutputCallRequest, grpctesting.StreamingOutputCallResponse]) error {
	echoMetadata(ctx)
	for req, err := range stream.All() {
		if err != nil {
			return err
		}
		if err := statusError(req.GetResponseStatus()); err != nil {
			return err
		}
		if err := respond(ctx, req, stream.Send); err != nil {
			return err
		}
	}
	return nil
}

// HalfDuplexCall reads every request first and then answers them in order,
// as FullDuplexCall does.
func (s *Server) HalfDuplexCall(ctx context.Context, stream *rpc.BidiStream[grpctesting.StreamingOutputCallRequest, grpctesting.StreamingOutputCallResponse]) error {
	echoMetadata(ctx)
	var reqs []*grpctesting.StreamingOutputCallRequest
	for req, err := range stream.All() {
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	for _, req := range reqs {
		if err := statusError(req.GetResponseStatus()); err != nil {
			return err
		}
		if err := respond(ctx, req, stream.Send); err != nil {
			return err
		}
	}
	return nil
}

// respond sends the responses req asks for.
// compressionName is the response compression the tests mean by a
// compressed flag.
func compressionName(compressed bool) string {
	if compressed {
		return "gzip"
	}
	return "identity"
}

func respond(ctx context.Context, req *grpctesting.StreamingOutputCallRequest, send func(*grpctesting.StreamingOutputCallResponse) error) error {
	// If any response asks for compression, the headers must announce gzip
	// before the first message; each message then goes compressed or not.
	perMessage := false
	for _, p := range req.GetResponseParameters() {
		if p.GetCompressed().GetValue() {
			perMessage = true
		}
	}
	if perMessage {
		if err := rpc.SetResponseCompression(ctx, "gzip"); err != nil {
			return err
		}
	}
	for _, p := range req.GetResponseParameters() {
		if perMessage {
			if err := rpc.SetResponseCompression(ctx, compressionName(p.GetCompressed().GetValue())); err != nil {
				return err
			}
		}
		if err := pause(ctx, p.GetIntervalUs()); err != nil {
			return err
		}
		payload, err := newPayload(req.GetResponseType(), p.GetSize())
		if err != nil {
			return err
		}
		res := &grpctesting.StreamingOutputCallResponse{Payload: payload}
		if p.GetFillPeerSocketAddress().GetValue() {
			if ci, ok := rpc.HandlerCallInfo(ctx); ok {
				res.PeerSocketAddress = ci.Peer().Addr
			}
		}
		if err := send(res); err != nil {
			return err
		}
	}
	return nil
}

// pause waits us microseconds, or until ctx ends.
func pause(ctx context.Context, us int32) error {
	if us <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(us) * time.Microsecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return rpc.WrapError(codeOfContext(ctx), ctx.Err())
	}
}

func codeOfContext(ctx context.Context) rpc.Code {
	if ctx.Err() == context.DeadlineExceeded {
		return rpc.CodeDeadlineExceeded
	}
	return rpc.CodeCanceled
}

// newPayload returns a payload of size zero bytes. COMPRESSABLE is the only
// payload type the tests use.
func newPayload(t grpctesting.PayloadType, size int32) (*grpctesting.Payload, error) {
	if t != grpctesting.PayloadType_COMPRESSABLE {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "unsupported payload type "+t.String())
	}
	if size < 0 {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "negative response size "+strconv.Itoa(int(size)))
	}
	return &grpctesting.Payload{Type: t, Body: make([]byte, size)}, nil
}

// statusError returns the error st asks for, or nil for none or OK.
func statusError(st *grpctesting.EchoStatus) error {
	if st.GetCode() == 0 {
		return nil
	}
	return rpc.NewError(rpc.Code(st.GetCode()), st.GetMessage())
}

// echoMetadata copies the test's initial metadata into the response headers
// and its trailing metadata into the response trailers.
func echoMetadata(ctx context.Context) {
	ci, ok := rpc.HandlerCallInfo(ctx)
	if !ok {
		return
	}
	if v := ci.RequestHeader().Values(EchoInitialKey); len(v) > 0 {
		ci.ResponseHeader().Set(EchoInitialKey, v[0])
	}
	if v := ci.RequestHeader().Values(EchoTrailingKey); len(v) > 0 {
		ci.ResponseTrailer().Set(EchoTrailingKey, v[0])
	}
}

// checkCompressed fails with INVALID_ARGUMENT if expect is true and the
// request was not compressed. polyconnect does not expose the compressed
// flag of each message, so the request's compression header stands for it:
// with one set, the client compresses every message.
func checkCompressed(ctx context.Context, expect *grpctesting.BoolValue) error {
	if !expect.GetValue() {
		return nil
	}
	ci, ok := rpc.HandlerCallInfo(ctx)
	if !ok || !requestCompressed(ci) {
		return rpc.NewError(rpc.CodeInvalidArgument, "expected a compressed request message")
	}
	return nil
}

// requestCompressed reports whether the request names a compression other
// than identity in its protocol's header.
func requestCompressed(ci *rpc.CallInfo) bool {
	var name string
	switch ci.Protocol() {
	case rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb:
		name = ci.RequestHeader().Get("Grpc-Encoding")
	default:
		if ci.Spec().StreamType == rpc.StreamTypeUnary {
			name = ci.RequestHeader().Get("Content-Encoding")
		} else {
			name = ci.RequestHeader().Get("Connect-Content-Encoding")
		}
	}
	return name != "" && name != "identity"
}
