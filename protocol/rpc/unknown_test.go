package rpc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
	"polyconnect.dev/protocol/rpc"
)

// TestUnknownProcedureConnect checks that a Connect call to a path no
// handler serves gets a Connect error that names the path, whether the call
// is made by a client or by hand, and however the mux reaches rpc.NotFound.
func TestUnknownProcedureConnect(t *testing.T) {
	mux := echoMux()
	mux.HandleFunc("/", rpc.NotFound)
	srv, h2 := newH2CServer(t, mux)
	const missing = "/test.v1.Echo/Nope"

	for _, spec := range []rpc.Spec{
		{Procedure: missing, StreamType: rpc.StreamTypeUnary},
		{Procedure: "/no.such.v1.Service/Method", StreamType: rpc.StreamTypeUnary},
	} {
		_, err := rpc.NewClient[sv, sv](h2, srv.URL, spec).CallUnary(context.Background(), wrapperspb.String("x"))
		if rpc.CodeOf(err) != rpc.CodeUnimplemented || !strings.Contains(err.Error(), `unknown procedure "`+spec.Procedure+`"`) {
			t.Errorf("Connect client, %s: %v, want unimplemented naming the procedure", spec.Procedure, err)
		}
	}

	stream, err := rpc.NewClient[sv, sv](h2, srv.URL, rpc.Spec{Procedure: missing, StreamType: rpc.StreamTypeServer}).CallServerStream(context.Background(), wrapperspb.String("x"))
	if err == nil {
		_, err = stream.Receive()
		_ = stream.Close()
	}
	if rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("Connect server stream: %v, want unimplemented", err)
	}

	for _, ct := range []string{"application/json", "application/proto", "application/connect+proto", ""} {
		status, h, body := rawCall(t, h2, "POST", srv.URL+missing, map[string]string{"Content-Type": ct}, nil)
		if status != http.StatusNotFound || h.Get("Content-Type") != "application/json" {
			t.Errorf("POST %q: status %d, Content-Type %q, want 404 application/json", ct, status, h.Get("Content-Type"))
			continue
		}
		code, msg := unaryCode(t, body)
		if code != "unimplemented" || !strings.Contains(msg, missing) {
			t.Errorf("POST %q: body %s, want code unimplemented and a message naming %s", ct, body, missing)
		}
	}
}

// TestUnknownProcedureGRPC checks the raw answer to gRPC and gRPC-Web
// requests for an unknown procedure: a trailers-only grpc-status 12.
func TestUnknownProcedureGRPC(t *testing.T) {
	mux := echoMux()
	mux.HandleFunc("/", rpc.NotFound)
	srv, h2 := newH2CServer(t, mux)
	for _, ct := range []string{"application/grpc", "application/grpc+proto", "application/grpc-web+proto"} {
		status, h, _ := rawCall(t, h2, "POST", srv.URL+"/test.v1.Echo/Nope", map[string]string{"Content-Type": ct}, nil)
		if status != http.StatusOK || h.Get("Grpc-Status") != "12" || !strings.Contains(h.Get("Grpc-Message"), "Nope") {
			t.Errorf("%s: status %d, grpc-status %q, grpc-message %q; want 200, 12 and a message naming the path", ct, status, h.Get("Grpc-Status"), h.Get("Grpc-Message"))
		}
	}
}

// TestUnsupportedContentType checks that a request with a missing or
// unusable Content-Type gets 415 with the accepted types both in
// Accept-Post and in a body a person can read.
func TestUnsupportedContentType(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	cases := []struct {
		name, procedure, ct, says string
	}{
		{"missing", specUnary.Procedure, "", "no Content-Type header"},
		{"unknown", specUnary.Procedure, "text/plain", `"text/plain" is not accepted`},
		{"unknown Connect codec", specUnary.Procedure, "application/yaml", `"application/yaml" is not accepted`},
		{"stream type to a unary method", specUnary.Procedure, "application/connect+proto", `"application/connect+proto" is not accepted`},
		{"unknown gRPC codec", specUnary.Procedure, "application/grpc+yaml", `"application/grpc+yaml" is not accepted`},
		{"unary type to a stream method", specServer.Procedure, "application/proto", `"application/proto" is not accepted`},
	}
	for _, c := range cases {
		status, h, body := rawCall(t, h2, "POST", srv.URL+c.procedure, map[string]string{"Content-Type": c.ct}, nil)
		if status != http.StatusUnsupportedMediaType {
			t.Errorf("%s: status %d, want 415", c.name, status)
			continue
		}
		accept := h.Get("Accept-Post")
		want := "application/proto"
		if c.procedure == specServer.Procedure {
			want = "application/connect+proto"
		}
		if !strings.Contains(accept, want) || !strings.Contains(accept, "application/grpc+proto") {
			t.Errorf("%s: Accept-Post %q", c.name, accept)
		}
		text := string(body)
		if !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(text, c.says) ||
			!strings.Contains(text, c.procedure) || !strings.Contains(text, "it accepts "+accept) {
			t.Errorf("%s: body %q (Content-Type %q), want it to say %q, name %s and list %q", c.name, text, h.Get("Content-Type"), c.says, c.procedure, accept)
		}
	}
}
