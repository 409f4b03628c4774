package raw_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

var specSay = rpc.Spec{Procedure: "/example.v1.Upper/Say", StreamType: rpc.StreamTypeUnary}

// serveUnary serves method as a raw unary handler and returns its URL and
// how many calls reached the method.
func serveUnary(t *testing.T, method raw.UnaryFunc, opts ...rpc.HandlerOption) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	h := raw.NewHandler(specSay, func(ctx context.Context, call raw.Call) error {
		req := new(wrapperspb.StringValue)
		if err := call.Receive(req); err != nil {
			return err
		}
		res, err := call.Unary(ctx, req, func(ctx context.Context, req proto.Message) (proto.Message, error) {
			calls.Add(1)
			return method(ctx, req)
		})
		if err != nil {
			return err
		}
		return call.Send(res)
	}, opts...)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

func upper(_ context.Context, req proto.Message) (proto.Message, error) {
	return wrapperspb.String(strings.ToUpper(req.(*wrapperspb.StringValue).GetValue())), nil
}

// wantCode fails t unless err has code and its message contains msg.
func wantCode(t *testing.T, err error, code rpc.Code, msg string) {
	t.Helper()
	if rpc.CodeOf(err) != code || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %v, want %v containing %q", err, code, msg)
	}
}

func TestInvokeNilResponse(t *testing.T) {
	url, calls := serveUnary(t, upper)
	for _, opts := range [][]rpc.ClientOption{nil, {rpc.WithClientInterceptors(rpc.ClientUnaryInterceptorFunc(
		func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc { return next }))}} {
		err := raw.NewClient(nil, url, specSay, opts...).Invoke(context.Background(), wrapperspb.String("a"), nil)
		wantCode(t, err, rpc.CodeInternal, "nil response message")
	}
	if calls.Load() != 0 {
		t.Errorf("%d calls reached the handler", calls.Load())
	}
}

// A client interceptor may answer without calling next (a cache): its
// message is merged into the caller's, or refused if of another type.
func TestInvokeInterceptorAnswers(t *testing.T) {
	url, calls := serveUnary(t, upper)
	answer := func(msg proto.Message) rpc.ClientOption {
		return rpc.WithClientInterceptors(rpc.ClientUnaryInterceptorFunc(
			func(_ rpc.Spec, _ rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
				return func(context.Context, any) (any, error) { return msg, nil }
			}))
	}
	res := wrapperspb.String("stale")
	if err := raw.NewClient(nil, url, specSay, answer(wrapperspb.String("cached"))).Invoke(context.Background(), wrapperspb.String("a"), res); err != nil {
		t.Fatal(err)
	}
	if res.GetValue() != "cached" {
		t.Errorf("response %q, want the interceptor's %q", res.GetValue(), "cached")
	}
	err := raw.NewClient(nil, url, specSay, answer(wrapperspb.Int32(7))).Invoke(context.Background(), wrapperspb.String("a"), new(wrapperspb.StringValue))
	wantCode(t, err, rpc.CodeInternal, "response of the wrong type")
	if calls.Load() != 0 {
		t.Errorf("%d calls reached the handler", calls.Load())
	}
}

// A method that returns neither a response nor an error fails the call
// with internal, with and without unary interceptors on the handler; so
// does a unary interceptor that answers with something not a message.
func TestHandlerBadResponses(t *testing.T) {
	nothing := func(context.Context, proto.Message) (proto.Message, error) { return nil, nil }
	passThrough := rpc.WithHandlerInterceptors(rpc.HandlerUnaryInterceptorFunc(
		func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc { return next }))
	notAMessage := rpc.WithHandlerInterceptors(rpc.HandlerUnaryInterceptorFunc(
		func(_ rpc.Spec, _ rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
			return func(context.Context, any) (any, error) { return "a string", nil }
		}))
	cases := []struct {
		name   string
		method raw.UnaryFunc
		opts   []rpc.HandlerOption
		msg    string
	}{
		{"nil response", nothing, nil, "nil response"},
		{"nil response through interceptors", nothing, []rpc.HandlerOption{passThrough}, "nil response"},
		{"interceptor answers a string", upper, []rpc.HandlerOption{notAMessage}, "not a proto.Message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := serveUnary(t, tc.method, tc.opts...)
			err := raw.NewClient(nil, url, specSay).Invoke(context.Background(), wrapperspb.String("a"), new(wrapperspb.StringValue))
			wantCode(t, err, rpc.CodeInternal, tc.msg)
		})
	}
}
