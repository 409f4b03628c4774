package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/transport"
)

// lateContext has a deadline in the past but has not noticed yet, as a
// context whose timer has not run.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func reset(code uint64, http3, remote bool) error {
	return &transport.StreamResetError{Code: code, HTTP3: http3, Remote: remote, Err: errors.New("the transport's own error")}
}

// TestTransportCodes checks the one mapping from transport failures to
// codes: the gRPC specification's table of HTTP/2 stream reset codes, the
// HTTP/3 codes RFC 9114 pairs with them, and the other failures, on both
// sides of a call.
func TestTransportCodes(t *testing.T) {
	goAway := &transport.GoAwayError{Code: transport.HTTP2EnhanceYourCalm, Debug: "too_many_pings"}
	cases := []struct {
		name         string
		err          error
		client, serv Code
	}{
		{"HTTP/2 NO_ERROR", reset(transport.HTTP2NoError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 PROTOCOL_ERROR", reset(transport.HTTP2ProtocolError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 INTERNAL_ERROR", reset(transport.HTTP2InternalError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 FLOW_CONTROL_ERROR", reset(transport.HTTP2FlowControlError, false, false), CodeInternal, CodeInternal},
		{"HTTP/2 SETTINGS_TIMEOUT", reset(transport.HTTP2SettingsTimeout, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 FRAME_SIZE_ERROR", reset(transport.HTTP2FrameSizeError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 REFUSED_STREAM", reset(transport.HTTP2RefusedStream, false, true), CodeUnavailable, CodeUnavailable},
		{"HTTP/2 CANCEL", reset(transport.HTTP2Cancel, false, true), CodeCanceled, CodeCanceled},
		{"HTTP/2 COMPRESSION_ERROR", reset(transport.HTTP2CompressionError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 CONNECT_ERROR", reset(transport.HTTP2ConnectError, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 ENHANCE_YOUR_CALM", reset(transport.HTTP2EnhanceYourCalm, false, true), CodeResourceExhausted, CodeResourceExhausted},
		{"HTTP/2 INADEQUATE_SECURITY", reset(transport.HTTP2InadequateSecurity, false, true), CodePermissionDenied, CodePermissionDenied},
		{"HTTP/2 HTTP_1_1_REQUIRED", reset(transport.HTTP2HTTP11Required, false, true), CodeInternal, CodeInternal},
		{"HTTP/2 unknown code", reset(0x77, false, true), CodeInternal, CodeInternal},
		{"HTTP/3 H3_NO_ERROR", reset(transport.HTTP3NoError, true, true), CodeInternal, CodeInternal},
		{"HTTP/3 H3_INTERNAL_ERROR", reset(transport.HTTP3InternalError, true, true), CodeInternal, CodeInternal},
		{"HTTP/3 H3_REQUEST_REJECTED", reset(transport.HTTP3RequestRejected, true, true), CodeUnavailable, CodeUnavailable},
		{"HTTP/3 H3_REQUEST_CANCELLED", reset(transport.HTTP3RequestCancelled, true, true), CodeCanceled, CodeCanceled},
		{"HTTP/3 H3_EXCESSIVE_LOAD", reset(transport.HTTP3ExcessiveLoad, true, true), CodeResourceExhausted, CodeResourceExhausted},
		{"HTTP/3 H3_REQUEST_INCOMPLETE", reset(transport.HTTP3RequestIncomplete, true, true), CodeInternal, CodeInternal},
		{"HTTP/3 code 0x8 is not CANCEL", reset(transport.HTTP2Cancel, true, true), CodeInternal, CodeInternal},
		{"refused, wrapped", &transport.NotProcessedError{Err: reset(transport.HTTP2RefusedStream, false, true)}, CodeUnavailable, CodeUnavailable},
		{"above a GOAWAY", &transport.NotProcessedError{Err: &transport.GoAwayError{}}, CodeUnavailable, CodeUnavailable},
		{"connection lost", &transport.ConnectionLostError{Err: io.ErrUnexpectedEOF}, CodeUnavailable, CodeCanceled},
		{"connection lost after GOAWAY", &transport.ConnectionLostError{Err: goAway}, CodeUnavailable, CodeCanceled},
		{"dial", &transport.DialError{Addr: "127.0.0.1:1", Err: syscall.ECONNREFUSED}, CodeUnavailable, CodeUnavailable},
		{"TLS", &transport.TLSError{Addr: "127.0.0.1:1", Err: errors.New("x509: unknown authority")}, CodeUnavailable, CodeUnavailable},
		{"wrapped by the transport", fmt.Errorf("h9: %w", reset(transport.HTTP2Cancel, false, true)), CodeCanceled, CodeCanceled},
		{"a context error inside", fmt.Errorf("read: %w", context.Canceled), CodeCanceled, CodeCanceled},
		{"net/http: broken connection", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, CodeUnavailable, CodeCanceled},
		{"unknown", errors.New("something else"), CodeUnavailable, CodeInvalidArgument},
	}
	ctx := context.Background()
	for _, c := range cases {
		if got := transportError(ctx, c.err).Code(); got != c.client {
			t.Errorf("%s, client: %v, want %v", c.name, got, c.client)
		}
		if got := requestReadError(c.err).Code(); got != c.serv {
			t.Errorf("%s, server: %v, want %v", c.name, got, c.serv)
		}
	}
}

// TestTransportErrorContext checks that the call's own context wins over
// what the transport saw, and that the cause stays reachable.
func TestTransportErrorContext(t *testing.T) {
	cancelReset := reset(transport.HTTP2Cancel, false, true)
	if got := transportError(lateContext{context.Background()}, cancelReset).Code(); got != CodeDeadlineExceeded {
		t.Errorf("reset after the deadline: %v", got)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if got := transportError(canceled, reset(transport.HTTP2InternalError, false, true)).Code(); got != CodeCanceled {
		t.Errorf("own cancellation: %v", got)
	}
	if got := transportError(context.Background(), errorf(CodeInternal, "protocol")).Code(); got != CodeInternal {
		t.Errorf("rpc error: %v", got)
	}
	e := transportError(context.Background(), cancelReset)
	var r *transport.StreamResetError
	if !errors.As(e, &r) || !errors.Is(e, transport.ErrStreamReset) {
		t.Errorf("the reset is not reachable from %v", e)
	}
	if e.Message() != cancelReset.Error() {
		t.Errorf("message %q, want the transport's %q", e.Message(), cancelReset.Error())
	}
}

// failingBodyClient answers every request with status and a body that
// fails with err after a few bytes.
type failingBodyClient struct {
	status int
	err    error
}

func (c failingBodyClient) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status), ProtoMajor: 2,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(io.MultiReader(strings.NewReader(`{"code":`), iotest.ErrReader(c.err))),
		ContentLength: -1,
		Request:       req,
	}, nil
}

// TestConnectUnaryErrorBodyFails checks that a Connect error response
// whose body fails half-way reads as the failure, not as the HTTP status:
// a call whose deadline passed as a 504 arrived was reported unavailable.
func TestConnectUnaryErrorBodyFails(t *testing.T) {
	spec := Spec{Procedure: "/test.v1.Echo/Unary"}
	lost := &transport.ConnectionLostError{Err: io.ErrUnexpectedEOF}
	c := NewClient[wrapperspb.StringValue, wrapperspb.StringValue](failingBodyClient{http.StatusGatewayTimeout, lost}, "http://x", spec)
	_, err := c.CallUnary(context.Background(), wrapperspb.String("x"))
	if CodeOf(err) != CodeUnavailable || !errors.Is(err, transport.ErrConnectionLost) {
		t.Errorf("lost connection: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c = NewClient[wrapperspb.StringValue, wrapperspb.StringValue](failingBodyClient{http.StatusGatewayTimeout, context.DeadlineExceeded}, "http://x", spec)
	late := lateContext{ctx}
	_, err = c.CallUnary(late, wrapperspb.String("x"))
	cancel()
	if CodeOf(err) != CodeDeadlineExceeded {
		t.Errorf("deadline passed while the body arrived: %v", err)
	}
}

// movingDeadline is a context whose deadline the test moves, and whose
// error never catches up with it, as a context whose timer has not run.
type movingDeadline struct {
	context.Context
	at atomic.Int64 // unix nanoseconds
}

func (c *movingDeadline) Deadline() (time.Time, bool) { return time.Unix(0, c.at.Load()), true }

type httpClientFunc func(*http.Request) (*http.Response, error)

func (f httpClientFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// TestCloseRequestAfterDeadline checks that a stream closed once its
// deadline has passed does not end its request cleanly, even while the
// context's error still lags the deadline: the server got a clean end of
// the request and answered it (seen in the fault matrix's deadline case).
func TestCloseRequestAfterDeadline(t *testing.T) {
	bodyErr := make(chan error, 1)
	hc := httpClientFunc(func(req *http.Request) (*http.Response, error) {
		_, err := io.ReadAll(req.Body)
		bodyErr <- err
		return nil, errors.New("no response")
	})
	spec := Spec{Procedure: "/test.v1.Echo/Client", StreamType: StreamTypeClient}
	c := NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, "http://x", spec)
	ctx := &movingDeadline{Context: context.Background()}
	ctx.at.Store(time.Now().Add(time.Hour).UnixNano())
	stream, err := c.CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(wrapperspb.String("x")) // starts the request
	ctx.at.Store(time.Now().Add(-time.Millisecond).UnixNano())
	_, _ = stream.CloseAndReceive()
	select {
	case err := <-bodyErr:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the request body ended with %v, want the deadline's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request was never sent")
	}
}
