package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// methodRecorder notes the HTTP method of each request.
func methodRecorder(h http.Handler, methods *[]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*methods = append(*methods, r.Method)
		h.ServeHTTP(w, r)
	})
}

func TestConnectGetFallsBackToPost(t *testing.T) {
	var methods []string
	srv, h2 := newH2CServer(t, methodRecorder(echoMux(), &methods))
	ctx := context.Background()
	short := rpc.NewClient[sv, sv](h2, srv.URL, specGet, rpc.WithGetURLMaxBytes(200))
	if _, err := short.CallUnary(ctx, wrapperspb.String("small")); err != nil {
		t.Fatal(err)
	}
	if _, err := short.CallUnary(ctx, wrapperspb.String(strings.Repeat("big", 100))); err != nil {
		t.Fatal(err)
	}
	noGet := rpc.NewClient[sv, sv](h2, srv.URL, specGet, rpc.WithoutHTTPGet())
	if _, err := noGet.CallUnary(ctx, wrapperspb.String("small")); err != nil {
		t.Fatal(err)
	}
	// Compressed GET requests put the compressed message in the URL, base64.
	gz := rpc.NewClient[sv, sv](h2, srv.URL, specGet, rpc.WithSendCompression("gzip"), rpc.WithProtoJSON())
	if _, err := gz.CallUnary(ctx, wrapperspb.String("zipped")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(methods, " "); got != "GET POST POST GET" {
		t.Fatalf("methods %q", got)
	}
}

// textCodec is a user codec: it carries a StringValue as raw text.
type textCodec struct{}

func (textCodec) Name() string { return "x-text" }

func (textCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	m, ok := msg.(*wrapperspb.StringValue)
	if !ok {
		return nil, errors.New("not a StringValue")
	}
	return append(dst, m.Value...), nil
}

func (textCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(*wrapperspb.StringValue)
	if !ok {
		return errors.New("not a StringValue")
	}
	m.Value = string(data)
	return nil
}

func TestUserCodec(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux(rpc.WithCodec(textCodec{})))
	for _, spec := range []rpc.Spec{specUnary, specGet} {
		res, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, rpc.WithCodec(textCodec{})).CallUnary(context.Background(), wrapperspb.String("plain text"))
		if err != nil || res.Value != "plain text" {
			t.Fatalf("%s: %v %v", spec.Procedure, res, err)
		}
	}
	// The wire really is the user codec.
	res, err := http.Post(srv.URL+specUnary.Procedure, "application/x-text", strings.NewReader("raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.Header.Get("Content-Type") != "application/x-text" || string(body) != "raw" {
		t.Fatalf("got %s %q", res.Header.Get("Content-Type"), body)
	}
	// A handler without the codec refuses it with 415.
	plain, _ := newH2CServer(t, echoMux())
	res2, err := http.Post(plain.URL+specUnary.Procedure, "application/x-text", strings.NewReader("raw"))
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("status %d", res2.StatusCode)
	}
}

func TestCodeText(t *testing.T) {
	for c := rpc.CodeCanceled; c <= rpc.CodeUnauthenticated; c++ {
		b, _ := c.MarshalText()
		var back rpc.Code
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Fatalf("%v: %q -> %v %v", c, b, back, err)
		}
		j, _ := json.Marshal(c)
		if !strings.Contains(string(j), c.String()) {
			t.Fatalf("json %s", j)
		}
	}
	var c rpc.Code
	if err := c.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("accepted an unknown name")
	}
	if rpc.CodeFromHTTPStatus(404) != rpc.CodeUnimplemented || rpc.CodeFromHTTPStatus(503) != rpc.CodeUnavailable || rpc.CodeFromHTTPStatus(418) != rpc.CodeUnknown {
		t.Fatal("http status mapping")
	}
	if rpc.CodeResourceExhausted.HTTPStatus() != 429 || rpc.CodeCanceled.HTTPStatus() != 499 {
		t.Fatal("code to http status")
	}
	if rpc.CodeOf(context.Canceled) != rpc.CodeCanceled || rpc.CodeOf(errors.New("x")) != rpc.CodeUnknown {
		t.Fatal("CodeOf")
	}
}

// A client built with an impossible configuration reports it from every
// call, before anything reaches the wire.
func TestClientConfigurationErrors(t *testing.T) {
	var hits int
	srv, h2 := newH2CServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	ctx := context.Background()
	for name, opt := range map[string]rpc.ClientOption{
		"unknown protocol":         rpc.WithProtocol(rpc.Protocol(42)),
		"unknown send compression": rpc.WithSendCompression("lz77"),
	} {
		want := rpc.CodeUnimplemented
		if name == "unknown send compression" {
			want = rpc.CodeInternal
		}
		if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, opt).CallUnary(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != want {
			t.Errorf("%s, unary: %v", name, err)
		}
		if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specServer, opt).CallServerStream(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != want {
			t.Errorf("%s, server stream: %v", name, err)
		}
		if bidi, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, opt).CallBidiStream(ctx); bidi != nil || rpc.CodeOf(err) != want {
			t.Errorf("%s, bidi: %v %v", name, bidi, err)
		}
		if cs, err := rpc.NewClient[sv, sv](h2, srv.URL, specClient, opt).CallClientStream(ctx); cs != nil || rpc.CodeOf(err) != want {
			t.Errorf("%s, client stream: %v %v", name, cs, err)
		}
	}
	if hits != 0 {
		t.Errorf("%d requests reached the server", hits)
	}
}
