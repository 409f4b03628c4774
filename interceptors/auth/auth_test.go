package auth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/protocol/rpc"
)

// check accepts the bearer token "good" as user "ada" and basic credentials
// "bob:pw" as "bob"; the token "banned" is known but not allowed.
func check(_ context.Context, req *auth.Request) (any, error) {
	if user, pass, ok := req.BasicAuth(); ok {
		if user == "bob" && pass == "pw" {
			return "bob", nil
		}
		return nil, errors.New("wrong password for " + user)
	}
	switch token, _ := req.BearerToken(); token {
	case "good":
		return "ada", nil
	case "banned":
		return nil, rpc.NewError(rpc.CodePermissionDenied, "banned")
	}
	return nil, rpc.NewError(rpc.CodeUnauthenticated, "bearer token required")
}

// whoami answers with the identity on the context.
func whoami(ctx context.Context, in string) (string, error) {
	id, ok := auth.Identity[string](ctx)
	if !ok {
		return "", rpc.NewError(rpc.CodeInternal, "no identity")
	}
	return id + ":" + in, nil
}

// receiveCounter counts request messages read by handlers after it, unary
// requests included.
type receiveCounter struct {
	rpc.HandlerCallInterceptorFunc // for its WrapHandlerUnary, which passes through
	n                              atomic.Int32
}

func (c *receiveCounter) WrapHandlerCall(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		return next(ctx, &countingConn{StreamingHandlerConn: conn, n: &c.n})
	}
}

type countingConn struct {
	rpc.StreamingHandlerConn
	n *atomic.Int32
}

func (c *countingConn) Receive(msg any) error {
	c.n.Add(1)
	return c.StreamingHandlerConn.Receive(msg)
}

func TestServerAndClient(t *testing.T) {
	tests := []struct {
		name  string
		creds auth.Credentials // nil: none
		want  rpc.Code         // 0: success
		who   string
	}{
		{"bearer", auth.Bearer("good"), 0, "ada"},
		{"basic", auth.Basic("bob", "pw"), 0, "bob"},
		{"token source", auth.TokenBearer(auth.TokenSourceFunc(func(context.Context) (auth.Token, error) {
			return auth.Token{Value: "good"}, nil
		})), 0, "ada"},
		{"none", nil, rpc.CodeUnauthenticated, ""},
		{"wrong token", auth.Bearer("bad"), rpc.CodeUnauthenticated, ""},
		{"wrong password", auth.Basic("bob", "nope"), rpc.CodeUnauthenticated, ""},
		{"denied", auth.Bearer("banned"), rpc.CodePermissionDenied, ""},
	}
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var reads receiveCounter
			mux := testsvc.NewMux(testsvc.Handlers{Handle: whoami}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(auth.NewServer(check), &reads))
			srv, _ := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, tt := range tests {
				var opts []rpc.ClientOption
				if tt.creds != nil {
					opts = append(opts, rpc.WithClientInterceptors(auth.NewClient(tt.creds)))
				}
				clients := testsvc.NewClients(v.HTTPClient(srv), srv.URL(), v, rpc.IdempotencyUnknown, opts...)
				for _, k := range testsvc.Kinds {
					reads.n.Store(0)
					out, err := k.Call(context.Background(), clients, "x")
					if tt.want == 0 {
						if err != nil || !slices.Equal(out, []string{tt.who + ":x"}) {
							t.Errorf("%s %s: %v %v", tt.name, k.Name, out, err)
						}
						continue
					}
					if rpc.CodeOf(err) != tt.want {
						t.Errorf("%s %s: %v, want %v", tt.name, k.Name, err, tt.want)
					}
					if reads.n.Load() != 0 {
						t.Errorf("%s %s: the handler read a request message before the check failed", tt.name, k.Name)
					}
				}
			}
		})
	}
}

// A plain error from the AuthFunc is UNAUTHENTICATED with a generic message:
// its text stays on the server.
func TestPlainErrorStaysLocal(t *testing.T) {
	mux := testsvc.NewMux(testsvc.Handlers{Handle: whoami}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(auth.NewServer(check)))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[0], rpc.IdempotencyUnknown,
		rpc.WithClientInterceptors(auth.NewClient(auth.Basic("bob", "wrong"))))
	_, err := testsvc.CallUnary(context.Background(), clients, "x")
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeUnauthenticated || rerr.Message() != "unauthenticated" {
		t.Fatalf("got %v", err)
	}
}

// A client whose credentials fail does not send the call.
func TestClientCredentialsError(t *testing.T) {
	var seen testsvc.Recorder
	failing := auth.TokenBearer(auth.TokenSourceFunc(func(context.Context) (auth.Token, error) {
		return auth.Token{}, errors.New("token service down")
	}))
	denied := auth.CredentialsFunc(func(context.Context, http.Header) error {
		return rpc.NewError(rpc.CodeFailedPrecondition, "log in first")
	})
	for _, v := range testsvc.Variants {
		mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(&seen))
		srv, _ := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
		for _, c := range []struct {
			creds auth.Credentials
			want  rpc.Code
		}{{failing, rpc.CodeUnauthenticated}, {denied, rpc.CodeFailedPrecondition}} {
			creds, want := c.creds, c.want
			clients := testsvc.NewClients(v.HTTPClient(srv), srv.URL(), v, rpc.IdempotencyUnknown, rpc.WithClientInterceptors(auth.NewClient(creds)))
			for _, k := range testsvc.Kinds {
				if _, err := k.Call(context.Background(), clients, "x"); rpc.CodeOf(err) != want {
					t.Errorf("%s %s: %v, want %v", v.Name, k.Name, err, want)
				}
			}
		}
	}
	if calls := seen.Calls(); len(calls) != 0 {
		t.Errorf("calls without credentials reached the server: %v", calls)
	}
}

func TestRequestParsing(t *testing.T) {
	tests := []struct {
		header      string
		bearer      string
		bearerOK    bool
		user, pass  string
		basicOK     bool
		description string
	}{
		{"Bearer abc", "abc", true, "", "", false, "bearer"},
		{"bearer  abc ", "abc", true, "", "", false, "scheme is case-insensitive, spaces trimmed"},
		{"Bearer ", "", false, "", "", false, "empty token"},
		{"Basic Ym9iOnB3", "", false, "bob", "pw", true, "basic"},
		{"Basic Ym9iOnA6dw==", "", false, "bob", "p:w", true, "colon in the password"},
		{"Basic !!!", "", false, "", "", false, "bad base64"},
		{"Basic Ym9i", "", false, "", "", false, "no colon"},
		{"Token abc", "", false, "", "", false, "other scheme"},
		{"", "", false, "", "", false, "no header"},
	}
	for _, tt := range tests {
		var got struct {
			bearer     string
			bearerOK   bool
			user, pass string
			basicOK    bool
		}
		srvCheck := func(_ context.Context, req *auth.Request) (any, error) {
			got.bearer, got.bearerOK = req.BearerToken()
			got.user, got.pass, got.basicOK = req.BasicAuth()
			if req.Procedure() != testsvc.Unary || req.Spec().StreamType != rpc.StreamTypeUnary || req.Peer().Addr == "" || req.TLS() != nil {
				t.Errorf("request: %s %v %v", req.Procedure(), req.Peer(), req.TLS())
			}
			if _, ok := req.ClientCertificate(); ok {
				t.Error("a client certificate without TLS")
			}
			return nil, nil
		}
		mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(auth.NewServer(srvCheck)))
		_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
		ctx, info := rpc.NewClientContext(context.Background())
		if tt.header != "" {
			info.RequestHeader().Set("Authorization", tt.header)
		}
		if _, err := testsvc.CallUnary(ctx, clients, "x"); err != nil {
			t.Fatal(err)
		}
		if got.bearer != tt.bearer || got.bearerOK != tt.bearerOK || got.user != tt.user || got.pass != tt.pass || got.basicOK != tt.basicOK {
			t.Errorf("%s: got %+v", tt.description, got)
		}
	}
}
