package h3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/rpc"
)

func TestMapError(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel2()
	reset := func(code http3.ErrCode, remote bool) error {
		return fmt.Errorf("reading: %w", &quic.StreamError{ErrorCode: quic.StreamErrorCode(code), Remote: remote})
	}
	other := errors.New("http3: invalid method")
	for _, tt := range []struct {
		name     string
		ctx      context.Context
		err      error
		wantCode rpc.Code // 0: not an *rpc.Error
		wantIs   error
		wantText string
	}{
		{"cancelled call", cancelled, reset(http3.ErrCodeRequestCanceled, false), 0, context.Canceled, ""},
		{"expired call", expired, reset(http3.ErrCodeRequestCanceled, true), 0, context.DeadlineExceeded, ""},
		{"context error", live, context.DeadlineExceeded, 0, context.DeadlineExceeded, ""},
		{"rejected", live, reset(http3.ErrCodeRequestRejected, true), rpc.CodeUnavailable, nil, "stream reset by the server"},
		{"cancelled by server", live, reset(http3.ErrCodeRequestCanceled, true), rpc.CodeCanceled, nil, "H3_REQUEST_CANCELLED"},
		{"excessive load", live, reset(http3.ErrCodeExcessiveLoad, true), rpc.CodeResourceExhausted, nil, ""},
		{"internal", live, reset(http3.ErrCodeInternalError, true), rpc.CodeInternal, nil, ""},
		{"message error", live, reset(http3.ErrCodeMessageError, true), rpc.CodeInternal, nil, ""},
		{"connection closed", live, &quic.ApplicationError{ErrorCode: quic.ApplicationErrorCode(http3.ErrCodeNoError), Remote: true}, rpc.CodeUnavailable, nil, "connection to srv:443 closed by the server"},
		{"idle timeout", live, &quic.IdleTimeoutError{}, rpc.CodeUnavailable, nil, "nothing heard"},
		{"handshake timeout", live, &quic.HandshakeTimeoutError{}, rpc.CodeUnavailable, nil, "during the handshake"},
		{"refused", live, &quic.TransportError{ErrorCode: quic.ConnectionRefused, Remote: true}, rpc.CodeUnavailable, nil, ""},
		{"bad certificate", live, &dialError{addr: "srv:443", err: x509.UnknownAuthorityError{}}, rpc.CodeUnavailable, nil, "TLS handshake with srv:443 failed"},
		{"TLS alert", live, &quic.TransportError{ErrorCode: 0x100 + 42, Remote: true}, rpc.CodeUnavailable, nil, "TLS handshake"},
		{"dial", live, &dialError{addr: "srv:443", err: errors.New("no such host")}, rpc.CodeUnavailable, nil, "connect to srv:443"},
		{"closed client", live, http3.ErrTransportClosed, rpc.CodeUnavailable, nil, "client is closed"},
		{"other", live, other, 0, other, ""},
	} {
		got := mapError(tt.ctx, "srv:443", tt.err)
		var rerr *rpc.Error
		isRPC := errors.As(got, &rerr)
		switch {
		case tt.wantCode == 0 && isRPC:
			t.Errorf("%s: got rpc error %v, want a plain error", tt.name, got)
		case tt.wantCode != 0 && (!isRPC || rerr.Code() != tt.wantCode):
			t.Errorf("%s: got %v, want code %v", tt.name, got, tt.wantCode)
		case tt.wantIs != nil && !errors.Is(got, tt.wantIs):
			t.Errorf("%s: got %v, want one that is %v", tt.name, got, tt.wantIs)
		case !strings.Contains(fmt.Sprint(got), tt.wantText):
			t.Errorf("%s: got %q, want it to mention %q", tt.name, got, tt.wantText)
		}
		if isRPC && !errors.Is(got, tt.err) {
			t.Errorf("%s: %v does not wrap its cause", tt.name, got)
		}
	}
}

func TestAuthority(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":      "example.com:443",
		"example.com:8443": "example.com:8443",
		"[::1]":            "[::1]:443",
		"[::1]:8443":       "[::1]:8443",
		"127.0.0.1":        "127.0.0.1:443",
	} {
		if got := authority(in); got != want {
			t.Errorf("authority(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCloseIdleReleasesSocket checks that the client gives its UDP socket
// back once no connection is left, and opens a new one when needed.
func TestCloseIdleReleasesSocket(t *testing.T) {
	p := newPool(nil, time.Second, 0)
	qt, err := p.transport()
	if err != nil {
		t.Fatal(err)
	}
	conn := p.conn
	p.closeIdle()
	if p.conn != nil || p.qt != nil {
		t.Fatal("socket still held after closeIdle")
	}
	if _, err := conn.WriteTo([]byte("x"), conn.LocalAddr()); err == nil {
		t.Error("the socket is still open")
	}
	qt2, err := p.transport()
	if err != nil || qt2 == qt {
		t.Fatalf("transport after closeIdle = %p, %v; want a new one", qt2, err)
	}
	p.close()
	if _, err := p.transport(); !errors.Is(err, errClientClosed) {
		t.Errorf("transport after close = %v", err)
	}
}
