package transport_test

import (
	"errors"
	"fmt"
	"testing"

	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/protocol/transport/balance"
)

func TestStreamResetReason(t *testing.T) {
	cases := []struct {
		code  uint64
		http3 bool
		want  transport.ResetReason
		name  string
	}{
		{transport.HTTP2NoError, false, transport.ResetNoError, "NO_ERROR"},
		{transport.HTTP2ProtocolError, false, transport.ResetOther, "PROTOCOL_ERROR"},
		{transport.HTTP2InternalError, false, transport.ResetOther, "INTERNAL_ERROR"},
		{transport.HTTP2RefusedStream, false, transport.ResetRefused, "REFUSED_STREAM"},
		{transport.HTTP2Cancel, false, transport.ResetCancel, "CANCEL"},
		{transport.HTTP2EnhanceYourCalm, false, transport.ResetExcessiveLoad, "ENHANCE_YOUR_CALM"},
		{transport.HTTP2InadequateSecurity, false, transport.ResetInadequateSecurity, "INADEQUATE_SECURITY"},
		{transport.HTTP2HTTP11Required, false, transport.ResetOther, "HTTP_1_1_REQUIRED"},
		{0xe, false, transport.ResetOther, "0xe"},
		{transport.HTTP3NoError, true, transport.ResetNoError, "H3_NO_ERROR"},
		{transport.HTTP3InternalError, true, transport.ResetOther, "H3_INTERNAL_ERROR"},
		{transport.HTTP3RequestRejected, true, transport.ResetRefused, "H3_REQUEST_REJECTED"},
		{transport.HTTP3RequestCancelled, true, transport.ResetCancel, "H3_REQUEST_CANCELLED"},
		{transport.HTTP3ExcessiveLoad, true, transport.ResetExcessiveLoad, "H3_EXCESSIVE_LOAD"},
		{transport.HTTP3VersionFallback, true, transport.ResetOther, "H3_VERSION_FALLBACK"},
		{0x201, true, transport.ResetOther, "QPACK_ENCODER_STREAM_ERROR"},
		{transport.HTTP2Cancel, true, transport.ResetOther, "0x8"}, // an HTTP/2 code read as HTTP/3 means nothing
		{0x111, true, transport.ResetOther, "0x111"},
	}
	for _, c := range cases {
		e := &transport.StreamResetError{Code: c.code, HTTP3: c.http3}
		if got := e.Reason(); got != c.want {
			t.Errorf("%s: reason %v, want %v", c.name, got, c.want)
		}
		if got := transport.CodeName(c.code, c.http3); got != c.name {
			t.Errorf("code %#x (HTTP/3 %v): name %q, want %q", c.code, c.http3, got, c.name)
		}
		if !errors.Is(e, transport.ErrStreamReset) {
			t.Errorf("%s: not ErrStreamReset", c.name)
		}
		if got, want := errors.Is(e, transport.ErrNotProcessed), c.want == transport.ResetRefused; got != want {
			t.Errorf("%s: Is(ErrNotProcessed) = %v, want %v", c.name, got, want)
		}
		if errors.Is(e, transport.ErrConnectionLost) || errors.Is(e, transport.ErrDial) || errors.Is(e, transport.ErrTLS) {
			t.Errorf("%s: matches another kind", c.name)
		}
	}
}

// TestErrorKinds checks that each type matches its own sentinels and no
// other, through wrapping, and keeps its cause.
func TestErrorKinds(t *testing.T) {
	cause := errors.New("cause")
	all := []error{transport.ErrStreamReset, transport.ErrNotProcessed, transport.ErrConnectionLost, transport.ErrDial, transport.ErrTLS}
	cases := []struct {
		err  error
		is   []error
		text string
	}{
		{&transport.StreamResetError{Code: transport.HTTP2InternalError, Remote: true, Err: cause},
			[]error{transport.ErrStreamReset}, "transport: stream reset by the peer with HTTP/2 INTERNAL_ERROR"},
		{&transport.StreamResetError{Code: transport.HTTP3RequestCancelled, HTTP3: true, Err: cause},
			[]error{transport.ErrStreamReset}, "transport: stream reset by this side with HTTP/3 H3_REQUEST_CANCELLED"},
		{&transport.NotProcessedError{Err: &transport.GoAwayError{Code: transport.HTTP2NoError, Debug: "bye"}},
			[]error{transport.ErrNotProcessed}, `transport: the server did not process the request: transport: the peer sent GOAWAY with HTTP/2 NO_ERROR ("bye")`},
		{&transport.NotProcessedError{Err: &transport.StreamResetError{Code: transport.HTTP2RefusedStream, Remote: true}},
			[]error{transport.ErrNotProcessed, transport.ErrStreamReset}, "transport: the server did not process the request: transport: stream reset by the peer with HTTP/2 REFUSED_STREAM"},
		{&transport.ConnectionLostError{Addr: "10.0.0.1:443", Err: cause},
			[]error{transport.ErrConnectionLost}, "transport: connection lost to 10.0.0.1:443: cause"},
		{&transport.ConnectionLostError{Err: &transport.GoAwayError{Code: transport.HTTP3ExcessiveLoad, HTTP3: true}},
			[]error{transport.ErrConnectionLost}, "transport: connection lost: transport: the peer sent GOAWAY with HTTP/3 H3_EXCESSIVE_LOAD"},
		{&transport.DialError{Addr: "10.0.0.1:443", Err: cause},
			[]error{transport.ErrDial, transport.ErrNotProcessed}, "transport: cannot connect to 10.0.0.1:443: cause"},
		{&transport.TLSError{Addr: "10.0.0.1:443", Err: cause, Hint: "it is a cleartext port"},
			[]error{transport.ErrTLS, transport.ErrNotProcessed}, "transport: TLS handshake with 10.0.0.1:443 failed: cause (it is a cleartext port)"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.text {
			t.Errorf("Error() = %q, want %q", got, c.text)
		}
		wrapped := fmt.Errorf("outer: %w", c.err)
		for _, target := range all {
			want := false
			for _, is := range c.is {
				want = want || is == target
			}
			if got := errors.Is(wrapped, target); got != want {
				t.Errorf("%v: Is(%v) = %v, want %v", c.err, target, got, want)
			}
		}
		if errors.Is(wrapped, transport.ErrNotProcessed) != errors.Is(wrapped, balance.ErrNotSent) {
			t.Errorf("%v: a balancer must resend exactly what was not processed", c.err)
		}
		if errors.Unwrap(c.err) == nil {
			t.Errorf("%v: no cause", c.err)
		}
	}
	var goAway *transport.GoAwayError
	if !errors.As(fmt.Errorf("x: %w", cases[5].err), &goAway) || goAway.Code != transport.HTTP3ExcessiveLoad {
		t.Errorf("the GOAWAY is not reachable with errors.As")
	}
}
