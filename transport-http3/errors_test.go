package h3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"polyconnect.dev/protocol/transport"
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
	var (
		resetErr *transport.StreamResetError
		lost     *transport.ConnectionLostError
		dial     *transport.DialError
		tlsErr   *transport.TLSError
		goAway   *transport.GoAwayError
	)
	for _, tt := range []struct {
		name     string
		ctx      context.Context
		err      error
		wantIs   []error
		wantAs   any
		wantText string
	}{
		{"cancelled call", cancelled, reset(http3.ErrCodeRequestCanceled, false), []error{context.Canceled}, nil, ""},
		{"expired call", expired, reset(http3.ErrCodeRequestCanceled, true), []error{context.DeadlineExceeded}, nil, ""},
		{"context error", live, context.DeadlineExceeded, []error{context.DeadlineExceeded}, nil, ""},
		{"rejected", live, reset(http3.ErrCodeRequestRejected, true), []error{transport.ErrNotProcessed, transport.ErrStreamReset}, &resetErr, "stream reset by the peer with HTTP/3 H3_REQUEST_REJECTED"},
		{"cancelled by server", live, reset(http3.ErrCodeRequestCanceled, true), []error{transport.ErrStreamReset}, &resetErr, "H3_REQUEST_CANCELLED"},
		{"excessive load", live, reset(http3.ErrCodeExcessiveLoad, true), []error{transport.ErrStreamReset}, &resetErr, "H3_EXCESSIVE_LOAD"},
		{"internal", live, reset(http3.ErrCodeInternalError, true), []error{transport.ErrStreamReset}, &resetErr, "H3_INTERNAL_ERROR"},
		{"connection closed", live, &quic.ApplicationError{ErrorCode: quic.ApplicationErrorCode(http3.ErrCodeNoError), Remote: true}, []error{transport.ErrConnectionLost}, &lost, "connection lost to srv:443"},
		{"closed with a code", live, &quic.ApplicationError{ErrorCode: quic.ApplicationErrorCode(http3.ErrCodeExcessiveLoad), Remote: true, ErrorMessage: "slow down"}, []error{transport.ErrConnectionLost}, &goAway, `H3_EXCESSIVE_LOAD ("slow down")`},
		{"idle timeout", live, &quic.IdleTimeoutError{}, []error{transport.ErrConnectionLost}, &lost, ""},
		{"stateless reset", live, &quic.StatelessResetError{}, []error{transport.ErrConnectionLost}, &lost, ""},
		{"handshake timeout", live, &quic.HandshakeTimeoutError{}, []error{transport.ErrDial, transport.ErrNotProcessed}, &dial, "cannot connect to srv:443"},
		{"refused", live, &quic.TransportError{ErrorCode: quic.ConnectionRefused, Remote: true}, []error{transport.ErrConnectionLost}, &lost, ""},
		{"bad certificate", live, &dialError{addr: "srv:443", err: x509.UnknownAuthorityError{}}, []error{transport.ErrTLS, transport.ErrNotProcessed}, &tlsErr, "TLS handshake with srv:443 failed"},
		{"TLS alert", live, &quic.TransportError{ErrorCode: 0x100 + 42, Remote: true}, []error{transport.ErrTLS}, &tlsErr, "TLS handshake"},
		{"dial", live, &dialError{addr: "srv:443", err: errors.New("no such host")}, []error{transport.ErrDial}, &dial, "cannot connect to srv:443: no such host"},
		{"closed client", live, http3.ErrTransportClosed, []error{http3.ErrTransportClosed}, nil, ""},
		{"other", live, other, []error{other}, nil, ""},
	} {
		got := mapError(tt.ctx, "srv:443", tt.err)
		for _, is := range tt.wantIs {
			if !errors.Is(got, is) {
				t.Errorf("%s: got %v, want one that is %v", tt.name, got, is)
			}
		}
		if tt.wantAs != nil && !errors.As(got, tt.wantAs) {
			t.Errorf("%s: got %v (%T), want a %T", tt.name, got, got, tt.wantAs)
		}
		if !strings.Contains(fmt.Sprint(got), tt.wantText) {
			t.Errorf("%s: got %q, want it to mention %q", tt.name, got, tt.wantText)
		}
	}
}

// TestNoRPCImport checks that the package knows nothing of RPC, as the
// transport contract says: it imports neither package rpc nor anything
// below it.
func TestNoRPCImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(path, "polyconnect.dev/protocol/rpc") {
				t.Errorf("%s imports %s", name, path)
			}
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
