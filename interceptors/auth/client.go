package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"polyconnect.dev/protocol/rpc"
)

// Credentials add a caller's credentials to the request headers of a call.
// Implementations must be safe for concurrent use.
type Credentials interface {
	// Apply sets the credentials on the headers of one call.
	Apply(ctx context.Context, header http.Header) error
}

// CredentialsFunc is a function that implements Credentials.
type CredentialsFunc func(ctx context.Context, header http.Header) error

// Apply implements Credentials.
func (f CredentialsFunc) Apply(ctx context.Context, h http.Header) error { return f(ctx, h) }

// Bearer sends "Authorization: Bearer <token>" with every call.
func Bearer(token string) Credentials { return staticHeader("Bearer " + token) }

// Basic sends "Authorization: Basic …" (RFC 7617) with every call.
func Basic(username, password string) Credentials {
	return staticHeader("Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password)))
}

type staticHeader string

func (s staticHeader) Apply(_ context.Context, h http.Header) error {
	h["Authorization"] = []string{string(s)}
	return nil
}

// TokenBearer sends "Authorization: Bearer <token>" with a token from src,
// asked for each call; wrap src in CachedTokenSource unless it caches itself.
func TokenBearer(src TokenSource) Credentials {
	return CredentialsFunc(func(ctx context.Context, h http.Header) error {
		tok, err := src.Token(ctx)
		if err != nil {
			return err
		}
		h["Authorization"] = []string{"Bearer " + tok.Value}
		return nil
	})
}

// NewClient returns a client interceptor that applies creds to every call,
// unary and streaming. Put it after a retry interceptor in the list to ask
// for credentials again on each attempt. A call whose credentials cannot be
// had fails before it is sent (a stream, as it opens), with the *rpc.Error
// creds returned or, for another error, UNAUTHENTICATED with that error as
// its local cause.
func NewClient(creds Credentials) rpc.ClientInterceptor { return &client{creds: creds} }

type client struct{ creds Credentials }

func (c *client) apply(ctx context.Context) error {
	info, ok := rpc.ClientCallInfo(ctx)
	if !ok {
		return nil
	}
	if err := c.creds.Apply(ctx, info.RequestHeader()); err != nil {
		var rerr *rpc.Error
		if errors.As(err, &rerr) {
			return rerr
		}
		return rpc.NewError(rpc.CodeUnauthenticated, "credentials: "+err.Error()).WithCause(err)
	}
	return nil
}

// WrapClientUnary implements rpc.ClientInterceptor.
func (c *client) WrapClientUnary(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if err := c.apply(ctx); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// WrapClientStream implements rpc.ClientInterceptor.
func (c *client) WrapClientStream(_ rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		if err := c.apply(ctx); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}
