package grpcinterop

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"polyconnect.dev/conformance/internal/grpctesting"
	"polyconnect.dev/conformance/internal/grpctesting/grpctestingrpc"
	"polyconnect.dev/protocol/rpc"
)

// Sizes from the interop test descriptions.
const (
	largeRequestSize  = 271828
	largeResponseSize = 314159
)

var (
	streamRequestSizes  = []int{27182, 8, 1828, 45904}
	streamResponseSizes = []int{31415, 9, 2653, 58979}
)

// Values of the custom_metadata test.
const (
	initialMetadataValue  = "test_initial_metadata_value"
	trailingMetadataValue = "\x0a\x0b\x0a\x0b\x0a\x0b"
)

// Client runs interop test cases against one server.
type Client struct {
	test   grpctestingrpc.TestServiceClient
	gzip   grpctestingrpc.TestServiceClient // compresses every request with gzip
	unimpl grpctestingrpc.UnimplementedServiceClient
	seen   *responseRecorder
}

// NewClient returns a client for the interop server at baseURL. opts apply
// to every call; they choose the protocol (rpc.WithProtocol) among others.
func NewClient(httpClient rpc.HTTPClient, baseURL string, opts ...rpc.ClientOption) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	seen := &responseRecorder{}
	hc := &recordingHTTPClient{next: httpClient, rec: seen}
	gzipOpts := append(slices.Clip(opts), rpc.WithSendCompression("gzip"))
	return &Client{
		test:   grpctestingrpc.NewTestServiceClient(hc, baseURL, opts...),
		gzip:   grpctestingrpc.NewTestServiceClient(hc, baseURL, gzipOpts...),
		unimpl: grpctestingrpc.NewUnimplementedServiceClient(hc, baseURL, opts...),
		seen:   seen,
	}
}

// A TestCase runs one interop test; a nil error is a pass.
type TestCase func(ctx context.Context, c *Client) error

// TestCases are the test cases this package implements, by the names of the
// interop test descriptions.
var TestCases = map[string]TestCase{
	"empty_unary":                 EmptyUnary,
	"large_unary":                 LargeUnary,
	"client_streaming":            ClientStreaming,
	"server_streaming":            ServerStreaming,
	"ping_pong":                   PingPong,
	"empty_stream":                EmptyStream,
	"cancel_after_begin":          CancelAfterBegin,
	"cancel_after_first_response": CancelAfterFirstResponse,
	"timeout_on_sleeping_server":  TimeoutOnSleepingServer,
	"custom_metadata":             CustomMetadata,
	"status_code_and_message":     StatusCodeAndMessage,
	"special_status_message":      SpecialStatusMessage,
	"unimplemented_method":        UnimplementedMethod,
	"unimplemented_service":       UnimplementedService,
	"client_compressed_unary":     ClientCompressedUnary,
	"client_compressed_streaming": ClientCompressedStreaming,
	"server_compressed_unary":     ServerCompressedUnary,
	"server_compressed_streaming": ServerCompressedStreaming,
}

// TestCaseNames returns the names of TestCases, sorted.
func TestCaseNames() []string {
	names := make([]string, 0, len(TestCases))
	for name := range TestCases {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// EmptyUnary sends an empty request and expects an empty response.
func EmptyUnary(ctx context.Context, c *Client) error {
	res, err := c.test.EmptyCall(ctx, &grpctesting.Empty{})
	if err != nil {
		return fmt.Errorf("EmptyCall: %w", err)
	}
	if res == nil {
		return errors.New("EmptyCall: nil response")
	}
	return nil
}

// LargeUnary sends a 271828-byte payload and expects 314159 bytes back.
func LargeUnary(ctx context.Context, c *Client) error {
	return largeUnary(ctx, c.test, nil)
}

func largeUnary(ctx context.Context, client grpctestingrpc.TestServiceClient, expectCompressed *grpctesting.BoolValue) error {
	res, err := client.UnaryCall(ctx, &grpctesting.SimpleRequest{
		ResponseType:     grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize:     largeResponseSize,
		Payload:          payload(largeRequestSize),
		ExpectCompressed: expectCompressed,
	})
	if err != nil {
		return fmt.Errorf("UnaryCall: %w", err)
	}
	return checkPayload("UnaryCall response", res.GetPayload(), largeResponseSize)
}

// ClientStreaming sends four payloads and expects their total size back.
func ClientStreaming(ctx context.Context, c *Client) error {
	stream, err := c.test.StreamingInputCall(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, size := range streamRequestSizes {
		if err := stream.Send(&grpctesting.StreamingInputCallRequest{Payload: payload(size)}); err != nil {
			return fmt.Errorf("StreamingInputCall: send: %w", err)
		}
		total += size
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return fmt.Errorf("StreamingInputCall: %w", err)
	}
	if got := int(res.GetAggregatedPayloadSize()); got != total {
		return fmt.Errorf("StreamingInputCall: aggregated_payload_size %d, want %d", got, total)
	}
	return nil
}

// ServerStreaming asks for four responses of given sizes.
func ServerStreaming(ctx context.Context, c *Client) error {
	req := &grpctesting.StreamingOutputCallRequest{ResponseType: grpctesting.PayloadType_COMPRESSABLE}
	for _, size := range streamResponseSizes {
		req.ResponseParameters = append(req.ResponseParameters, &grpctesting.ResponseParameters{Size: int32(size)})
	}
	stream, err := c.test.StreamingOutputCall(ctx, req)
	if err != nil {
		return fmt.Errorf("StreamingOutputCall: %w", err)
	}
	defer stream.Close()
	i := 0
	for res, err := range stream.All() {
		if err != nil {
			return fmt.Errorf("StreamingOutputCall: after %d responses: %w", i, err)
		}
		if i >= len(streamResponseSizes) {
			return fmt.Errorf("StreamingOutputCall: more than %d responses", len(streamResponseSizes))
		}
		if err := checkPayload(fmt.Sprintf("StreamingOutputCall response %d", i), res.GetPayload(), streamResponseSizes[i]); err != nil {
			return err
		}
		i++
	}
	if i != len(streamResponseSizes) {
		return fmt.Errorf("StreamingOutputCall: %d responses, want %d", i, len(streamResponseSizes))
	}
	return nil
}

// PingPong sends four requests on a full-duplex stream, each only after the
// response to the one before has arrived.
func PingPong(ctx context.Context, c *Client) error {
	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	for i, size := range streamRequestSizes {
		req := &grpctesting.StreamingOutputCallRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseParameters: []*grpctesting.ResponseParameters{{Size: int32(streamResponseSizes[i])}},
			Payload:            payload(size),
		}
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("FullDuplexCall: send %d: %w", i, err)
		}
		res, err := stream.Receive()
		if err != nil {
			return fmt.Errorf("FullDuplexCall: receive %d: %w", i, err)
		}
		if err := checkPayload(fmt.Sprintf("FullDuplexCall response %d", i), res.GetPayload(), streamResponseSizes[i]); err != nil {
			return err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("FullDuplexCall: close send: %w", err)
	}
	return expectEnd(stream.Receive, "FullDuplexCall")
}

// EmptyStream opens a full-duplex stream and closes it without messages.
func EmptyStream(ctx context.Context, c *Client) error {
	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("FullDuplexCall: close send: %w", err)
	}
	return expectEnd(stream.Receive, "FullDuplexCall")
}

// CancelAfterBegin cancels a client stream before sending anything and
// expects CANCELLED. The test description cancels after the request
// headers have gone out; a polyconnect client starts the request with the
// first message, so here the call ends before it reaches the server.
func CancelAfterBegin(ctx context.Context, c *Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.test.StreamingInputCall(ctx)
	if err != nil {
		return err
	}
	cancel()
	_, err = stream.CloseAndReceive()
	return expectCode(err, rpc.CodeCanceled, "StreamingInputCall")
}

// CancelAfterFirstResponse cancels a full-duplex stream after the first
// response and expects CANCELLED.
func CancelAfterFirstResponse(ctx context.Context, c *Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	err = stream.Send(&grpctesting.StreamingOutputCallRequest{
		ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: []*grpctesting.ResponseParameters{{Size: 31415}},
		Payload:            payload(27182),
	})
	if err != nil {
		return fmt.Errorf("FullDuplexCall: send: %w", err)
	}
	if _, err := stream.Receive(); err != nil {
		return fmt.Errorf("FullDuplexCall: receive: %w", err)
	}
	cancel()
	_, err = stream.Receive()
	return expectCode(err, rpc.CodeCanceled, "FullDuplexCall after cancel")
}

// TimeoutOnSleepingServer gives a full-duplex call 1ms and expects
// DEADLINE_EXCEEDED from a server that waits for more requests.
func TimeoutOnSleepingServer(ctx context.Context, c *Client) error {
	ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		// The deadline may pass before the stream opens.
		return expectCode(err, rpc.CodeDeadlineExceeded, "FullDuplexCall")
	}
	defer stream.CloseReceive()
	err = stream.Send(&grpctesting.StreamingOutputCallRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		Payload:      payload(27182),
	})
	if err != nil && !errors.Is(err, io.EOF) && rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		return fmt.Errorf("FullDuplexCall: send: %w", err)
	}
	_, err = stream.Receive()
	return expectCode(err, rpc.CodeDeadlineExceeded, "FullDuplexCall")
}

// CustomMetadata sends the echo metadata on a unary and a full-duplex call
// and expects it back in the response headers and trailers.
func CustomMetadata(ctx context.Context, c *Client) error {
	trailing := base64.RawStdEncoding.EncodeToString([]byte(trailingMetadataValue))

	callCtx, ci := rpc.NewClientContext(ctx)
	ci.RequestHeader().Set(EchoInitialKey, initialMetadataValue)
	ci.RequestHeader().Set(EchoTrailingKey, trailing)
	res, err := c.test.UnaryCall(callCtx, &grpctesting.SimpleRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize: 1,
		Payload:      payload(1),
	})
	if err != nil {
		return fmt.Errorf("UnaryCall: %w", err)
	}
	if err := checkPayload("UnaryCall response", res.GetPayload(), 1); err != nil {
		return err
	}
	if err := checkEchoedMetadata("UnaryCall", ci.ResponseHeader(), ci.ResponseTrailer()); err != nil {
		return err
	}

	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	stream.RequestHeader().Set(EchoInitialKey, initialMetadataValue)
	stream.RequestHeader().Set(EchoTrailingKey, trailing)
	err = stream.Send(&grpctesting.StreamingOutputCallRequest{
		ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: []*grpctesting.ResponseParameters{{Size: 1}},
		Payload:            payload(1),
	})
	if err != nil {
		return fmt.Errorf("FullDuplexCall: send: %w", err)
	}
	sres, err := stream.Receive()
	if err != nil {
		return fmt.Errorf("FullDuplexCall: receive: %w", err)
	}
	if err := checkPayload("FullDuplexCall response", sres.GetPayload(), 1); err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("FullDuplexCall: close send: %w", err)
	}
	if err := expectEnd(stream.Receive, "FullDuplexCall"); err != nil {
		return err
	}
	return checkEchoedMetadata("FullDuplexCall", stream.ResponseHeader(), stream.ResponseTrailer())
}

func checkEchoedMetadata(call string, header, trailer http.Header) error {
	if got := header.Values(EchoInitialKey); len(got) != 1 || got[0] != initialMetadataValue {
		return fmt.Errorf("%s: response header %s = %q, want [%q]", call, EchoInitialKey, got, initialMetadataValue)
	}
	got := trailer.Values(EchoTrailingKey)
	if len(got) != 1 {
		return fmt.Errorf("%s: response trailer %s = %q, want one value", call, EchoTrailingKey, got)
	}
	// Binary metadata may arrive with or without base64 padding.
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(got[0], "="))
	if err != nil {
		return fmt.Errorf("%s: response trailer %s = %q: %v", call, EchoTrailingKey, got[0], err)
	}
	if string(b) != trailingMetadataValue {
		return fmt.Errorf("%s: response trailer %s decodes to %q, want %q", call, EchoTrailingKey, b, trailingMetadataValue)
	}
	return nil
}

// StatusCodeAndMessage asks a unary and a full-duplex call to fail with
// UNKNOWN and a message, and expects both back.
func StatusCodeAndMessage(ctx context.Context, c *Client) error {
	const msg = "test status message"
	status := &grpctesting.EchoStatus{Code: int32(rpc.CodeUnknown), Message: msg}
	_, err := c.test.UnaryCall(ctx, &grpctesting.SimpleRequest{ResponseStatus: status})
	if err := expectStatus(err, rpc.CodeUnknown, msg, "UnaryCall"); err != nil {
		return err
	}
	stream, err := c.test.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	if err := stream.Send(&grpctesting.StreamingOutputCallRequest{ResponseStatus: status}); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("FullDuplexCall: send: %w", err)
	}
	if err := stream.CloseSend(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("FullDuplexCall: close send: %w", err)
	}
	_, err = stream.Receive()
	return expectStatus(err, rpc.CodeUnknown, msg, "FullDuplexCall")
}

// SpecialStatusMessage expects a status message with whitespace and
// non-ASCII characters to arrive unchanged.
func SpecialStatusMessage(ctx context.Context, c *Client) error {
	const msg = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
	_, err := c.test.UnaryCall(ctx, &grpctesting.SimpleRequest{
		ResponseStatus: &grpctesting.EchoStatus{Code: int32(rpc.CodeUnknown), Message: msg},
	})
	return expectStatus(err, rpc.CodeUnknown, msg, "UnaryCall")
}

// UnimplementedMethod calls TestService's UnimplementedCall and expects
// UNIMPLEMENTED.
func UnimplementedMethod(ctx context.Context, c *Client) error {
	_, err := c.test.UnimplementedCall(ctx, &grpctesting.Empty{})
	return expectCode(err, rpc.CodeUnimplemented, "TestService.UnimplementedCall")
}

// UnimplementedService calls a method of a service the server does not
// have and expects UNIMPLEMENTED.
func UnimplementedService(ctx context.Context, c *Client) error {
	_, err := c.unimpl.UnimplementedCall(ctx, &grpctesting.Empty{})
	return expectCode(err, rpc.CodeUnimplemented, "UnimplementedService.UnimplementedCall")
}

// ClientCompressedUnary checks that the server tells compressed requests
// from uncompressed ones: an uncompressed request that expects compression
// fails with INVALID_ARGUMENT, a gzip one passes, and an uncompressed one
// that expects none passes.
func ClientCompressedUnary(ctx context.Context, c *Client) error {
	_, err := c.test.UnaryCall(ctx, &grpctesting.SimpleRequest{
		ResponseType:     grpctesting.PayloadType_COMPRESSABLE,
		ResponseSize:     largeResponseSize,
		Payload:          payload(largeRequestSize),
		ExpectCompressed: &grpctesting.BoolValue{Value: true},
	})
	if err := expectCode(err, rpc.CodeInvalidArgument, "UnaryCall (uncompressed, expect_compressed: true)"); err != nil {
		return err
	}
	if err := largeUnary(ctx, c.gzip, &grpctesting.BoolValue{Value: true}); err != nil {
		return fmt.Errorf("compressed: %w", err)
	}
	if err := largeUnary(ctx, c.test, &grpctesting.BoolValue{Value: false}); err != nil {
		return fmt.Errorf("uncompressed: %w", err)
	}
	return nil
}

// ClientCompressedStreaming is ClientCompressedUnary for a client stream.
// polyconnect compresses all or none of a call's messages, so the second
// message, which the test description sends uncompressed, is compressed
// too; it expects no compression, which a server accepts either way.
func ClientCompressedStreaming(ctx context.Context, c *Client) error {
	probe, err := c.test.StreamingInputCall(ctx)
	if err != nil {
		return err
	}
	err = probe.Send(&grpctesting.StreamingInputCallRequest{
		Payload:          payload(27182),
		ExpectCompressed: &grpctesting.BoolValue{Value: true},
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("StreamingInputCall (uncompressed, expect_compressed: true): send: %w", err)
	}
	_, err = probe.CloseAndReceive()
	if err := expectCode(err, rpc.CodeInvalidArgument, "StreamingInputCall (uncompressed, expect_compressed: true)"); err != nil {
		return err
	}

	stream, err := c.gzip.StreamingInputCall(ctx)
	if err != nil {
		return err
	}
	reqs := []*grpctesting.StreamingInputCallRequest{
		{Payload: payload(27182), ExpectCompressed: &grpctesting.BoolValue{Value: true}},
		{Payload: payload(45904), ExpectCompressed: &grpctesting.BoolValue{Value: false}},
	}
	for i, req := range reqs {
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("StreamingInputCall (compressed): send %d: %w", i, err)
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return fmt.Errorf("StreamingInputCall (compressed): %w", err)
	}
	if got, want := res.GetAggregatedPayloadSize(), int32(27182+45904); got != want {
		return fmt.Errorf("StreamingInputCall (compressed): aggregated_payload_size %d, want %d", got, want)
	}
	return nil
}

// ServerCompressedUnary asks for a compressed and then an uncompressed
// response and checks the compressed flag of each as it arrives.
func ServerCompressedUnary(ctx context.Context, c *Client) error {
	for _, compressed := range []bool{true, false} {
		c.seen.reset()
		res, err := c.test.UnaryCall(ctx, &grpctesting.SimpleRequest{
			ResponseType:       grpctesting.PayloadType_COMPRESSABLE,
			ResponseSize:       largeResponseSize,
			Payload:            payload(largeRequestSize),
			ResponseCompressed: &grpctesting.BoolValue{Value: compressed},
		})
		if err != nil {
			return fmt.Errorf("UnaryCall (response_compressed: %t): %w", compressed, err)
		}
		if err := checkPayload("UnaryCall response", res.GetPayload(), largeResponseSize); err != nil {
			return err
		}
		if got := c.seen.messages(); !slices.Equal(got, []bool{compressed}) {
			return fmt.Errorf("UnaryCall (response_compressed: %t): response messages compressed %v, want [%t]", compressed, got, compressed)
		}
	}
	return nil
}

// ServerCompressedStreaming asks for a compressed and then an uncompressed
// response on one server stream and checks the compressed flag of each.
func ServerCompressedStreaming(ctx context.Context, c *Client) error {
	c.seen.reset()
	stream, err := c.test.StreamingOutputCall(ctx, &grpctesting.StreamingOutputCallRequest{
		ResponseType: grpctesting.PayloadType_COMPRESSABLE,
		ResponseParameters: []*grpctesting.ResponseParameters{
			{Size: 31415, Compressed: &grpctesting.BoolValue{Value: true}},
			{Size: 92653, Compressed: &grpctesting.BoolValue{Value: false}},
		},
	})
	if err != nil {
		return fmt.Errorf("StreamingOutputCall: %w", err)
	}
	defer stream.Close()
	sizes := []int{31415, 92653}
	i := 0
	for res, err := range stream.All() {
		if err != nil {
			return fmt.Errorf("StreamingOutputCall: after %d responses: %w", i, err)
		}
		if i >= len(sizes) {
			return fmt.Errorf("StreamingOutputCall: more than %d responses", len(sizes))
		}
		if err := checkPayload(fmt.Sprintf("StreamingOutputCall response %d", i), res.GetPayload(), sizes[i]); err != nil {
			return err
		}
		i++
	}
	if i != len(sizes) {
		return fmt.Errorf("StreamingOutputCall: %d responses, want %d", i, len(sizes))
	}
	if got := c.seen.messages(); !slices.Equal(got, []bool{true, false}) {
		return fmt.Errorf("StreamingOutputCall: response messages compressed %v, want [true false]", got)
	}
	return nil
}

// payload returns a COMPRESSABLE payload of size zero bytes.
func payload(size int) *grpctesting.Payload {
	return &grpctesting.Payload{Type: grpctesting.PayloadType_COMPRESSABLE, Body: make([]byte, size)}
}

func checkPayload(what string, p *grpctesting.Payload, size int) error {
	if p.GetType() != grpctesting.PayloadType_COMPRESSABLE || len(p.GetBody()) != size {
		return fmt.Errorf("%s: payload of type %v and %d bytes, want %v and %d", what, p.GetType(), len(p.GetBody()), grpctesting.PayloadType_COMPRESSABLE, size)
	}
	return nil
}

// expectEnd expects receive to report the end of a successful stream.
func expectEnd[T any](receive func() (*T, error), call string) error {
	_, err := receive()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return fmt.Errorf("%s: a response after the last one", call)
	default:
		return fmt.Errorf("%s: at the end of the stream: %w", call, err)
	}
}

func expectCode(err error, want rpc.Code, call string) error {
	if err == nil {
		return fmt.Errorf("%s: succeeded, want code %v", call, want)
	}
	if got := rpc.CodeOf(err); got != want {
		return fmt.Errorf("%s: code %v, want %v (error: %w)", call, got, want, err)
	}
	return nil
}

func expectStatus(err error, code rpc.Code, msg, call string) error {
	if err := expectCode(err, code, call); err != nil {
		return err
	}
	var e *rpc.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: error %T is not an *rpc.Error", call, err)
	}
	if e.Message() != msg {
		return fmt.Errorf("%s: message %q, want %q", call, e.Message(), msg)
	}
	return nil
}
