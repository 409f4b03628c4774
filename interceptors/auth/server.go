// Package auth checks credentials on handlers and sends them from clients.
//
// On a handler, [NewServer] runs an [AuthFunc] before the method: it sees the
// request headers (bearer tokens, basic credentials, API keys), the peer and,
// behind [TLSMiddleware], the client's TLS certificate; it returns an identity
// that the handler reads with [Identity], or an error: UNAUTHENTICATED by
// default, or the *rpc.Error it returns, such as PERMISSION_DENIED.
//
//	check := func(ctx context.Context, req *auth.Request) (any, error) {
//		token, ok := req.BearerToken()
//		if !ok {
//			return nil, rpc.NewError(rpc.CodeUnauthenticated, "bearer token required")
//		}
//		return users.ByToken(ctx, token) // becomes auth.Identity[*User](ctx)
//	}
//	rpc.WithInterceptors(auth.NewServer(check))
//
// Streaming methods are checked before any request message is read. Unary
// methods are checked after the request message has been read and decoded,
// because package rpc decodes a unary request before it runs the handler's
// interceptors; the read limit (rpc.WithReadMaxBytes) bounds what an
// unauthenticated caller can make the server read.
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
	tls  *tls.ConnectionState
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
// came without TLS or the handler is not behind TLSMiddleware (package rpc's
// call info does not carry the TLS state).
func (r *Request) TLS() *tls.ConnectionState { return r.tls }

// ClientCertificate returns the client's certificate if the server verified
// it (tls.Config.ClientAuth of VerifyClientCertIfGiven or
// RequireAndVerifyClientCert): the leaf of the first verified chain. A
// certificate the server only requested, without verifying it, is not
// returned: read TLS().PeerCertificates if you verify it yourself.
func (r *Request) ClientCertificate() (*x509.Certificate, bool) {
	if r.tls == nil || len(r.tls.VerifiedChains) == 0 || len(r.tls.VerifiedChains[0]) == 0 {
		return nil, false
	}
	return r.tls.VerifiedChains[0][0], true
}

type identityKey struct{}

// Identity returns the identity the AuthFunc returned for the current call,
// if it is a T.
func Identity[T any](ctx context.Context) (T, bool) {
	id, ok := ctx.Value(identityKey{}).(T)
	return id, ok
}

// NewServer returns a handler interceptor that runs check before each call
// and puts the identity it returns on the handler's context. On clients it
// does nothing.
func NewServer(check AuthFunc) rpc.Interceptor { return &server{check: check} }

type server struct{ check AuthFunc }

func (s *server) authenticate(ctx context.Context, info *rpc.CallInfo) (context.Context, error) {
	req := &Request{info: info}
	req.tls, _ = ctx.Value(tlsKey{}).(*tls.ConnectionState)
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

func (s *server) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.CallInfoFromContext(ctx)
		if ok && info.IsClient() {
			return next(ctx, req)
		}
		if !ok {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "unauthenticated: no call info")
		}
		ctx, err := s.authenticate(ctx, info)
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (s *server) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return next
}

func (s *server) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		info, ok := rpc.CallInfoFromContext(ctx)
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
