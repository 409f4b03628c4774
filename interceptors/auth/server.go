// Package auth checks credentials on handlers and sends them from clients.
//
// On a handler, [NewServer] runs an [AuthFunc] before the method: it sees the
// request headers (bearer tokens, basic credentials, API keys), the peer and
// the client's TLS certificate; it returns an identity that the handler reads
// with [Identity], or an error: UNAUTHENTICATED by default, or the *rpc.Error
// it returns, such as PERMISSION_DENIED.
//
//	check := func(ctx context.Context, req *auth.Request) (any, error) {
//		token, ok := req.BearerToken()
//		if !ok {
//			return nil, rpc.NewError(rpc.CodeUnauthenticated, "bearer token required")
//		}
//		return users.ByToken(ctx, token) // becomes auth.Identity[*User](ctx)
//	}
//	rpc.WithHandlerInterceptors(recovery.New(), logging.New(logger), auth.NewServer(check))
//
// Every call, unary or streaming, is checked in the handler's call chain,
// before its request message is read or decoded, so an unauthenticated
// caller cannot make the server read a request. The interceptors placed
// before it (logging, tracing, metrics, recovery) see a refused call end with
// its code; those after it never see the call.
//
// On a client, [NewClient] adds credentials to every call: [Bearer] and
// [Basic] are static, [TokenBearer] takes them from a [TokenSource], which
// [CachedTokenSource] caches and refreshes before they expire.
package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"polyconnect.dev/protocol/rpc"
)

// AuthFunc checks the credentials of a call and returns the caller's
// identity, which may be nil. An error that is an *rpc.Error is sent as it
// is (use CodeUnauthenticated for missing or invalid credentials,
// CodePermissionDenied for a caller who may not make the call); any other
// error is sent as UNAUTHENTICATED "unauthenticated", its text kept local.
// It must be safe for concurrent use.
type AuthFunc func(ctx context.Context, req *Request) (identity any, err error)

// Request is what an AuthFunc can check. It is valid only during the
// AuthFunc's call.
type Request struct {
	info *rpc.CallInfo
}

// Procedure returns the called procedure, such as "/greet.v1.GreetService/Greet".
func (r *Request) Procedure() string { return r.info.Procedure() }

// Spec returns the called procedure's Spec.
func (r *Request) Spec() rpc.Spec { return r.info.Spec() }

// Header returns the request headers.
func (r *Request) Header() http.Header { return r.info.RequestHeader() }

// Peer returns the client's address and protocol.
func (r *Request) Peer() rpc.Peer { return r.info.Peer() }

// BearerToken returns the token of an "Authorization: Bearer <token>" header.
func (r *Request) BearerToken() (string, bool) {
	scheme, value, ok := strings.Cut(r.info.RequestHeader().Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	value = strings.TrimSpace(value)
	return value, value != ""
}

// BasicAuth returns the credentials of an "Authorization: Basic …" header
// (RFC 7617).
func (r *Request) BasicAuth() (username, password string, ok bool) {
	scheme, value, ok := strings.Cut(r.info.RequestHeader().Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", false
	}
	username, password, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	return username, password, true
}

// TLS returns the state of the TLS connection the call came on, or nil if it
// came without TLS.
func (r *Request) TLS() *tls.ConnectionState { return r.info.Peer().TLS }

// ClientCertificate returns the client's certificate if the server verified
// it (tls.Config.ClientAuth of VerifyClientCertIfGiven or
// RequireAndVerifyClientCert): the leaf of the first verified chain. A
// certificate the server only requested, without verifying it, is not
// returned: read TLS().PeerCertificates if you verify it yourself.
func (r *Request) ClientCertificate() (*x509.Certificate, bool) {
	st := r.TLS()
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return nil, false
	}
	return st.VerifiedChains[0][0], true
}

type identityKey struct{}

// Identity returns the identity the AuthFunc returned for the current call,
// if it is a T.
func Identity[T any](ctx context.Context) (T, bool) {
	id, ok := ctx.Value(identityKey{}).(T)
	return id, ok
}

// NewServer returns a handler interceptor that runs check before each call,
// before the request is read, and puts the identity it returns on the
// handler's context.
func NewServer(check AuthFunc) rpc.HandlerInterceptor { return &server{check: check} }

type server struct{ check AuthFunc }

func (s *server) authenticate(ctx context.Context, info *rpc.CallInfo) (context.Context, error) {
	req := &Request{info: info}
	id, err := s.check(ctx, req)
	if err != nil {
		var rerr *rpc.Error
		if errors.As(err, &rerr) {
			return nil, rerr
		}
		return nil, rpc.NewError(rpc.CodeUnauthenticated, "unauthenticated").WithCause(err)
	}
	return context.WithValue(ctx, identityKey{}, id), nil
}

// WrapHandlerCall implements rpc.HandlerInterceptor: the check runs before
// the request is read, for every kind of call.
func (s *server) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		info, ok := rpc.HandlerCallInfo(ctx)
		if !ok {
			return rpc.NewError(rpc.CodeUnauthenticated, "unauthenticated: no call info")
		}
		ctx, err := s.authenticate(ctx, info)
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// WrapHandlerUnary implements rpc.HandlerInterceptor: unary calls were
// checked in the call chain.
func (s *server) WrapHandlerUnary(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	return next
}
