package validate_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/interceptors/validate"
	validatetestv1 "polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1"
	"polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1/validatetestv1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// service greets; the name "rude" gets a greeting that breaks the response
// rules. It counts the requests it processes.
type service struct {
	validatetestv1rpc.UnimplementedTestServiceHandler
	processed atomic.Int32
}

func (s *service) greet(req *validatetestv1.Request) *validatetestv1.Response {
	s.processed.Add(1)
	if req.GetName() == "rude" {
		return &validatetestv1.Response{Greeting: "Go away"}
	}
	return &validatetestv1.Response{Greeting: "Hello " + req.GetName()}
}

func (s *service) Unary(_ context.Context, req *validatetestv1.Request) (*validatetestv1.Response, error) {
	return s.greet(req), nil
}

func (s *service) ServerStream(_ context.Context, req *validatetestv1.Request, st *rpc.ServerStream[validatetestv1.Response]) error {
	return st.Send(s.greet(req))
}

func (s *service) ClientStream(_ context.Context, st *rpc.ClientStream[validatetestv1.Request]) (*validatetestv1.Response, error) {
	var names []string
	for req, err := range st.All() {
		if err != nil {
			return nil, err
		}
		names = append(names, s.greet(req).GetGreeting())
	}
	return &validatetestv1.Response{Greeting: strings.Join(names, ", ")}, nil
}

func (s *service) Bidi(_ context.Context, st *rpc.BidiStream[validatetestv1.Request, validatetestv1.Response]) error {
	for req, err := range st.All() {
		if err != nil {
			return err
		}
		if err := st.Send(s.greet(req)); err != nil {
			return err
		}
	}
	return nil
}

type variant struct {
	name     string
	protocol rpc.Protocol
	http2    bool
}

var variants = []variant{
	{"connect/h1", rpc.ProtocolConnect, false},
	{"connect/h2c", rpc.ProtocolConnect, true},
	{"grpc/h2c", rpc.ProtocolGRPC, true},
	{"grpcweb/h1", rpc.ProtocolGRPCWeb, false},
	{"grpcweb/h2c", rpc.ProtocolGRPCWeb, true},
}

func start(t *testing.T, v variant, server []rpc.HandlerOption, client ...rpc.ClientOption) (*service, validatetestv1rpc.TestServiceClient) {
	t.Helper()
	svc := &service{}
	mux := http.NewServeMux()
	mux.Handle(validatetestv1rpc.NewTestServiceHandler(svc, server...))
	srv := rpctest.NewServer(t, mux)
	var hc rpc.HTTPClient = srv.Client()
	if v.http2 {
		hc = srv.HTTP2Client()
	}
	return svc, validatetestv1rpc.NewTestServiceClient(hc, srv.URL(), append([]rpc.ClientOption{rpc.WithProtocol(v.protocol)}, client...)...)
}

// kinds calls each kind of method with one request and returns the
// greeting(s) or the error.
var kinds = []struct {
	name string
	call func(context.Context, validatetestv1rpc.TestServiceClient, *validatetestv1.Request) (string, error)
}{
	{"unary", func(ctx context.Context, c validatetestv1rpc.TestServiceClient, req *validatetestv1.Request) (string, error) {
		res, err := c.Unary(ctx, req)
		return res.GetGreeting(), err
	}},
	{"server", func(ctx context.Context, c validatetestv1rpc.TestServiceClient, req *validatetestv1.Request) (string, error) {
		st, err := c.ServerStream(ctx, req)
		if err != nil {
			return "", err
		}
		var out []string
		for res, err := range st.All() {
			if err != nil {
				return "", err
			}
			out = append(out, res.GetGreeting())
		}
		return strings.Join(out, ", "), nil
	}},
	{"client", func(ctx context.Context, c validatetestv1rpc.TestServiceClient, req *validatetestv1.Request) (string, error) {
		st, err := c.ClientStream(ctx)
		if err != nil {
			return "", err
		}
		if err := st.Send(req); err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		res, err := st.CloseAndReceive()
		return res.GetGreeting(), err
	}},
	{"bidi", func(ctx context.Context, c validatetestv1rpc.TestServiceClient, req *validatetestv1.Request) (string, error) {
		st, err := c.Bidi(ctx)
		if err != nil {
			return "", err
		}
		defer st.CloseReceive()
		if err := st.Send(req); err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if err := st.CloseSend(); err != nil {
			return "", err
		}
		var out []string
		for res, err := range st.All() {
			if err != nil {
				return "", err
			}
			out = append(out, res.GetGreeting())
		}
		return strings.Join(out, ", "), nil
	}},
}

// violations returns the buf.validate.Violations detail of err.
func violations(t *testing.T, err error) *validatepb.Violations {
	t.Helper()
	var rerr *rpc.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("not an rpc error: %v", err)
	}
	for _, d := range rerr.Details() {
		v := &validatepb.Violations{}
		if d.MessageIs(v) {
			if uerr := d.UnmarshalTo(v); uerr != nil {
				t.Fatal(uerr)
			}
			return v
		}
	}
	t.Fatalf("no violations in %v", err)
	return nil
}

// checkViolation checks that err has code and one violation of rule on field.
func checkViolation(t *testing.T, what string, err error, code rpc.Code, field, rule string) {
	t.Helper()
	if rpc.CodeOf(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
		return
	}
	vs := violations(t, err).GetViolations()
	if len(vs) != 1 || vs[0].GetRuleId() != rule || len(vs[0].GetField().GetElements()) != 1 || vs[0].GetField().GetElements()[0].GetFieldName() != field {
		t.Errorf("%s: violations %v, want %s on %s", what, vs, rule, field)
	}
}

// On a handler, an invalid request fails with INVALID_ARGUMENT and its
// violations before the method sees it; a valid one goes through.
func TestServerRequests(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			svc, client := start(t, v, []rpc.HandlerOption{rpc.WithHandlerInterceptors(validate.New())})
			for _, k := range kinds {
				got, err := k.call(context.Background(), client, &validatetestv1.Request{Name: "Ada", Count: 3})
				if err != nil || got != "Hello Ada" {
					t.Errorf("%s valid: %q %v", k.name, got, err)
				}
				svc.processed.Store(0)
				_, err = k.call(context.Background(), client, &validatetestv1.Request{Name: "", Count: 3})
				checkViolation(t, k.name+" empty name", err, rpc.CodeInvalidArgument, "name", "string.min_len")
				var rerr *rpc.Error
				if errors.As(err, &rerr) && !rerr.IsWireError() {
					t.Errorf("%s: the error did not come from the server", k.name)
				}
				_, err = k.call(context.Background(), client, &validatetestv1.Request{Name: "Ada", Count: 11})
				checkViolation(t, k.name+" count", err, rpc.CodeInvalidArgument, "count", "int32.lte")
				if n := svc.processed.Load(); n != 0 {
					t.Errorf("%s: the method processed %d invalid requests", k.name, n)
				}
			}
		})
	}
}

// On a client, an invalid request fails locally and is not sent.
func TestClientRequests(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			var seen atomic.Int32
			count := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
				return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
					seen.Add(1)
					return next(ctx, conn)
				}
			})
			svc, client := start(t, v, []rpc.HandlerOption{rpc.WithHandlerInterceptors(count)}, rpc.WithClientInterceptors(validate.New()))
			for _, k := range kinds {
				_, err := k.call(context.Background(), client, &validatetestv1.Request{})
				checkViolation(t, k.name, err, rpc.CodeInvalidArgument, "name", "string.min_len")
				var rerr *rpc.Error
				if errors.As(err, &rerr) && rerr.IsWireError() {
					t.Errorf("%s: the invalid request reached the server", k.name)
				}
			}
			if n := svc.processed.Load() + seen.Load(); n != 0 {
				t.Errorf("the server saw %d invalid requests", n)
			}
		})
	}
}

// WithResponses: a handler does not send an invalid response, and a client
// does not return one; both fail with INTERNAL.
func TestResponses(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			_, onServer := start(t, v, []rpc.HandlerOption{rpc.WithHandlerInterceptors(validate.New(validate.WithResponses()))})
			_, onClient := start(t, v, nil, rpc.WithClientInterceptors(validate.New(validate.WithResponses())))
			_, unchecked := start(t, v, []rpc.HandlerOption{rpc.WithHandlerInterceptors(validate.New())})
			for _, k := range kinds {
				rude := &validatetestv1.Request{Name: "rude"}
				_, err := k.call(context.Background(), onServer, rude)
				checkViolation(t, k.name+" server", err, rpc.CodeInternal, "greeting", "string.prefix")
				_, err = k.call(context.Background(), onClient, rude)
				checkViolation(t, k.name+" client", err, rpc.CodeInternal, "greeting", "string.prefix")
				if got, err := k.call(context.Background(), unchecked, rude); err != nil || got != "Go away" {
					t.Errorf("%s: responses checked without WithResponses: %q %v", k.name, got, err)
				}
			}
		})
	}
}

// brokenValidator fails the way protovalidate does when rules cannot be
// compiled.
type brokenValidator struct{}

func (brokenValidator) Validate(proto.Message, ...protovalidate.ValidationOption) error {
	return &protovalidate.CompilationError{}
}

// A message whose rules cannot be evaluated fails with INTERNAL; values that
// are not proto messages pass unchecked.
func TestBrokenRulesAndOtherMessages(t *testing.T) {
	ic := validate.New(validate.WithValidator(brokenValidator{}))
	call := ic.WrapHandlerUnary(rpc.Spec{}, func(_ context.Context, req any) (any, error) { return req, nil })
	if _, err := call(context.Background(), &validatetestv1.Request{Name: "x"}); rpc.CodeOf(err) != rpc.CodeInternal {
		t.Errorf("broken rules: %v", err)
	}
	if res, err := call(context.Background(), "not a proto message"); err != nil || res != "not a proto message" {
		t.Errorf("non-proto message: %v %v", res, err)
	}
}
