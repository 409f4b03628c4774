package rpc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// grpcResult is a gRPC or gRPC-Web response read by hand.
type grpcResult struct {
	status  int
	header  http.Header
	trailer http.Header // HTTP trailers, or the gRPC-Web trailers frame
	frames  [][]byte    // data frames' payloads
	code    string      // grpc-status, wherever it was found
	message string
}

// grpcRawCall posts body to url and reads the whole response, decoding
// gRPC-Web (text or binary) bodies into frames and trailers.
func grpcRawCall(t *testing.T, hc *http.Client, url string, header map[string]string, body []byte) grpcResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := grpcResult{status: res.StatusCode, header: res.Header, trailer: res.Trailer}
	ct := res.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/grpc-web-text") {
		b = decodePieces(t, b)
	}
	// Only gRPC responses hold frames: a 415 explains itself in text/plain.
	for strings.HasPrefix(ct, "application/grpc") && len(b) >= 5 {
		flags := b[0]
		n := binary.BigEndian.Uint32(b[1:5])
		if int(n) > len(b)-5 {
			t.Fatalf("truncated response frame")
		}
		payload := b[5 : 5+n]
		b = b[5+n:]
		if flags&0x80 != 0 {
			r.trailer = parseTrailerBlock(t, payload)
			continue
		}
		r.frames = append(r.frames, payload)
	}
	for _, h := range []http.Header{r.trailer, res.Header} {
		if v, ok := h["Grpc-Status"]; ok {
			r.code, r.message = v[0], h.Get("Grpc-Message")
			break
		}
	}
	return r
}

// decodePieces decodes concatenated, separately padded base64 pieces.
func decodePieces(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for len(b) > 0 {
		end := len(b)
		if i := bytes.IndexByte(b, '='); i >= 0 {
			end = i
			for end < len(b) && b[end] == '=' {
				end++
			}
		}
		d, err := base64.StdEncoding.DecodeString(string(b[:end]))
		if err != nil {
			t.Fatalf("response base64: %v", err)
		}
		out = append(out, d...)
		b = b[end:]
	}
	return out
}

func parseTrailerBlock(t *testing.T, block []byte) http.Header {
	t.Helper()
	h := make(http.Header)
	for _, line := range strings.Split(string(block), "\r\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad trailer line %q", line)
		}
		if k != strings.ToLower(k) {
			t.Errorf("trailer name %q is not lower-case", k)
		}
		h.Add(k, strings.TrimSpace(v))
	}
	return h
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func msgFrame(t *testing.T, s string) []byte {
	b := mustMarshal(t, wrapperspb.String(s))
	return envelope(0, uint32(len(b)), b)
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGRPCBadInputHandler(t *testing.T) {
	const limit = 1024
	srv, h2 := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(limit)))
	unlimited, h2u := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(-1)))
	bomb := gzipBytes(t, mustMarshal(t, wrapperspb.String(strings.Repeat("\x00", 64<<20))))
	big := mustMarshal(t, wrapperspb.String(strings.Repeat("x", 2*limit)))
	ok := msgFrame(t, "ok")
	type tc struct {
		name   string
		path   string
		header map[string]string
		body   []byte
		want   string // grpc-status
	}
	for _, variant := range []struct{ name, ct string }{
		{"grpc", "application/grpc"},
		{"grpcweb", "application/grpc-web+proto"},
	} {
		clients := map[string]*http.Client{"h2c": h2}
		if variant.name == "grpcweb" {
			clients["http1"] = srv.Client()
		}
		cases := []tc{
			{"valid", specUnary.Procedure, nil, ok, "0"},
			{"no message", specUnary.Procedure, nil, nil, "12"},
			{"two messages", specUnary.Procedure, nil, append(append([]byte{}, ok...), ok...), "12"},
			{"server stream, no message", specServer.Procedure, nil, nil, "12"},
			{"server stream, two messages", specServer.Procedure, nil, append(append([]byte{}, ok...), ok...), "12"},
			{"truncated prefix", specUnary.Procedure, nil, []byte{0, 0, 0}, "3"},
			{"truncated payload", specClient.Procedure, nil, envelope(0, 10, []byte("abcd")), "3"},
			{"claims 4 GiB", specUnary.Procedure, nil, envelope(0, 0xFFFFFFFF, []byte("tiny")), "8"},
			{"control flag claims 4 GiB", specClient.Procedure, nil, envelope(0x80, 0xFFFFFFFF, []byte("tiny")), "8"},
			{"over limit", specUnary.Procedure, nil, envelope(0, uint32(len(big)), big), "8"},
			{"compressed without encoding", specUnary.Procedure, nil, envelope(1, 3, []byte{1, 2, 3}), "13"},
			{"compressed with identity", specUnary.Procedure, map[string]string{"Grpc-Encoding": "identity"}, envelope(1, 3, []byte{1, 2, 3}), "13"},
			{"invalid flags", specClient.Procedure, nil, envelope(0x02, 2, []byte{1, 2}), "13"},
			{"trailers frame from client", specClient.Procedure, nil, envelope(0x80, 2, []byte{1, 2}), "13"},
			{"invalid proto", specUnary.Procedure, nil, envelope(0, 3, []byte{0xff, 0xff, 0xff}), "3"},
			{"unknown encoding", specUnary.Procedure, map[string]string{"Grpc-Encoding": "lz77"}, ok, "12"},
			{"bad timeout", specUnary.Procedure, map[string]string{"Grpc-Timeout": "soon"}, ok, "3"},
			{"timeout of 9 digits", specUnary.Procedure, map[string]string{"Grpc-Timeout": "123456789S"}, ok, "3"},
			{"timeout without unit", specUnary.Procedure, map[string]string{"Grpc-Timeout": "100"}, ok, "3"},
			{"zero timeout", specUnary.Procedure, map[string]string{"Grpc-Timeout": "0m"}, ok, "4"},
			{"huge timeout", specUnary.Procedure, map[string]string{"Grpc-Timeout": "99999999H"}, ok, "0"},
			{"decompression bomb", specUnary.Procedure, map[string]string{"Grpc-Encoding": "gzip"}, envelope(1, uint32(len(bomb)), bomb), "8"},
			{"corrupt gzip", specUnary.Procedure, map[string]string{"Grpc-Encoding": "gzip"}, envelope(1, 4, []byte("junk")), "3"},
		}
		for cname, hc := range clients {
			for _, c := range cases {
				t.Run(variant.name+"/"+cname+"/"+c.name, func(t *testing.T) {
					h := map[string]string{"Content-Type": variant.ct, "Te": "trailers"}
					for k, v := range c.header {
						h[k] = v
					}
					r := grpcRawCall(t, hc, srv.URL+c.path, h, c.body)
					if r.status != http.StatusOK || r.code != c.want {
						t.Fatalf("HTTP %d, grpc-status %q (%s), want %s; headers %v trailers %v", r.status, r.code, r.message, c.want, r.header, r.trailer)
					}
					if c.want == "12" && c.name == "unknown encoding" {
						if acc := r.header.Get("Grpc-Accept-Encoding"); !strings.Contains(acc, "gzip") || !strings.Contains(r.message, "gzip") {
							t.Errorf("grpc-accept-encoding %q, message %q", acc, r.message)
						}
					}
				})
			}
			// Without a read limit, a 4 GiB claim must still end as soon
			// as the body does.
			t.Run(variant.name+"/"+cname+"/claims 4 GiB, no limit", func(t *testing.T) {
				hcu := unlimited.Client()
				if cname == "h2c" {
					hcu = h2u
				}
				r := grpcRawCall(t, hcu, unlimited.URL+specUnary.Procedure, map[string]string{"Content-Type": variant.ct}, envelope(0, 0xFFFFFFFF, []byte("tiny")))
				if r.code != "3" {
					t.Fatalf("grpc-status %q (%s)", r.code, r.message)
				}
			})
		}
	}
}

func TestGRPCHandlerResponses(t *testing.T) {
	mux := echoMux()
	mux.HandleFunc("/", rpc.NotFound)
	bare := rpc.Spec{Procedure: "/test.v1.Bare/Fail"}
	mux.Handle(bare.Procedure, rpc.NewUnaryHandler(bare, func(ctx context.Context, _ *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Trailer", "t")
		e := rpc.NewError(rpc.CodeFailedPrecondition, "bare")
		_ = e.AddDetail(wrapperspb.String("d"))
		e.Meta().Set("X-Err", "yes")
		return nil, e
	}))
	srv, h2 := newH2CServer(t, mux)
	ok := msgFrame(t, "hello")

	// gRPC over HTTP/1.1 is refused with a status, not a hang.
	r := grpcRawCall(t, srv.Client(), srv.URL+specUnary.Procedure, map[string]string{"Content-Type": "application/grpc"}, ok)
	if r.status != http.StatusOK || r.code != "12" || !strings.Contains(r.message, "HTTP/2") {
		t.Errorf("gRPC over HTTP/1.1: %d %q %q", r.status, r.code, r.message)
	}
	// Unknown codec: 415, which clients read as UNKNOWN.
	r = grpcRawCall(t, h2, srv.URL+specUnary.Procedure, map[string]string{"Content-Type": "application/grpc+foo"}, ok)
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("unknown codec: %d", r.status)
	}
	// Unknown procedure: a trailers-only UNIMPLEMENTED, for every variant.
	for _, ct := range []string{"application/grpc", "application/grpc+json", "application/grpc-web", "application/grpc-web-text+proto"} {
		r = grpcRawCall(t, h2, srv.URL+"/test.v1.Echo/Nope", map[string]string{"Content-Type": ct}, ok)
		if r.status != http.StatusOK || r.header.Get("Grpc-Status") != "12" || len(r.frames) != 0 || r.header.Get("Content-Type") != ct {
			t.Errorf("not found, %s: %d %v", ct, r.status, r.header)
		}
	}

	// A successful unary call: headers, one message, status in trailers.
	r = grpcRawCall(t, h2, srv.URL+specUnary.Procedure, map[string]string{"Content-Type": "application/grpc+proto", "X-Echo": "e"}, ok)
	if r.code != "0" || r.header.Get("Grpc-Status") != "" || len(r.frames) != 1 || r.trailer.Get("X-Method") != "POST" || r.header.Get("X-Echo") != "e" {
		t.Errorf("unary: %+v", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/grpc+proto" {
		t.Errorf("content type %q", ct)
	}
	// An error before any message from a handler that set a header:
	// headers, then the status, details and metadata in trailers.
	r = grpcRawCall(t, h2, srv.URL+specUnary.Procedure, map[string]string{"Content-Type": "application/grpc"}, msgFrame(t, "fail"))
	if r.code != "9" || r.message != "told to fail" || r.header.Get("Grpc-Status") != "" || r.trailer.Get("Grpc-Status-Details-Bin") == "" || r.trailer.Get("X-Err") != "yes" || r.trailer.Get("X-Method") != "POST" {
		t.Errorf("error with headers: %+v", r)
	}
	// The same from a handler that set no header: trailers-only, with the
	// details and metadata in the one header block.
	r = grpcRawCall(t, h2, srv.URL+"/test.v1.Bare/Fail", map[string]string{"Content-Type": "application/grpc"}, msgFrame(t, "x"))
	if r.status != http.StatusOK || r.code != "9" || r.message != "bare" || len(r.trailer) != 0 || len(r.frames) != 0 ||
		r.header.Get("Grpc-Status-Details-Bin") == "" || r.header.Get("X-Err") != "yes" || r.header.Get("X-Trailer") != "t" {
		t.Errorf("trailers-only error: %+v", r)
	}
	// An error after messages: in the trailers.
	r = grpcRawCall(t, h2, srv.URL+specServer.Procedure, map[string]string{"Content-Type": "application/grpc"}, msgFrame(t, "fail"))
	if r.code != "9" && r.code != "10" || len(r.frames) != 3 || r.trailer.Get("Grpc-Status") != "10" || r.trailer.Get("X-Count") != "3" {
		t.Errorf("stream error: %+v", r)
	}
	// Compressed requests get compressed answers.
	payload := gzipBytes(t, mustMarshal(t, wrapperspb.String(strings.Repeat("z", 1000))))
	r = grpcRawCall(t, h2, srv.URL+specUnary.Procedure, map[string]string{"Content-Type": "application/grpc", "Grpc-Encoding": "gzip"}, envelope(1, uint32(len(payload)), payload))
	if r.code != "0" || r.header.Get("Grpc-Encoding") != "gzip" || len(r.frames) != 1 {
		t.Errorf("gzip: %+v", r)
	}

	// gRPC-Web text: base64 pieces, each padded, in and out.
	for name, hc := range map[string]*http.Client{"http1": srv.Client(), "h2c": h2} {
		var body []byte
		for _, v := range []string{"a", "bb", "ccc"} {
			body = append(body, base64.StdEncoding.EncodeToString(msgFrame(t, v))...)
		}
		r = grpcRawCall(t, hc, srv.URL+specClient.Procedure, map[string]string{"Content-Type": "application/grpc-web-text"}, body)
		if r.code != "0" || len(r.frames) != 1 || r.header.Get("Content-Type") != "application/grpc-web-text" {
			t.Fatalf("%s: web text: %+v", name, r)
		}
		var got wrapperspb.StringValue
		if err := proto.Unmarshal(r.frames[0], &got); err != nil || got.Value != "a,bb,ccc" {
			t.Errorf("%s: web text response %v %v", name, got.Value, err)
		}
		r = grpcRawCall(t, hc, srv.URL+specServer.Procedure, map[string]string{"Content-Type": "application/grpc-web-text+proto"}, []byte(base64.StdEncoding.EncodeToString(msgFrame(t, "s"))))
		if r.code != "0" || len(r.frames) != 3 || r.trailer.Get("X-Count") != "3" {
			t.Errorf("%s: web text stream: %+v", name, r)
		}
		// Corrupt base64 is INVALID_ARGUMENT.
		for _, bad := range []string{"!!!!", "QQ=A", "Q", "AAAAAAAA====AAAA"} {
			r = grpcRawCall(t, hc, srv.URL+specClient.Procedure, map[string]string{"Content-Type": "application/grpc-web-text"}, []byte(bad))
			if r.code != "3" {
				t.Errorf("%s: corrupt base64 %q: %+v", name, bad, r)
			}
		}
	}
}

// fakeServer answers every request with respond after draining the request.
func fakeServer(t *testing.T, respond func(w http.ResponseWriter)) (string, *http.Client, *http.Client) {
	srv, h2 := newH2CServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		respond(w)
	}))
	return srv.URL, h2, srv.Client()
}

func webTrailers(block string) []byte { return envelope(0x80, uint32(len(block)), []byte(block)) }

func TestGRPCClientUnexpectedResponses(t *testing.T) {
	hello := func(t *testing.T) []byte { return msgFrame(t, "hello") }
	type tc struct {
		name    string
		web     bool
		spec    rpc.Spec
		opts    []rpc.ClientOption
		respond func(t *testing.T, w http.ResponseWriter)
		want    rpc.Code // 0: success
		check   func(t *testing.T, err error, info *rpc.CallInfo)
	}
	grpcOK := func(w http.ResponseWriter, ct string, body []byte, trailers ...string) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		for i := 0; i+1 < len(trailers); i += 2 {
			w.Header().Set(http.TrailerPrefix+trailers[i], trailers[i+1])
		}
	}
	bomb := gzipBytes(t, mustMarshal(t, wrapperspb.String(strings.Repeat("\x00", 64<<20))))
	cases := []tc{
		{name: "404 html", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
		}, want: rpc.CodeUnimplemented},
		{name: "503", respond: func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, want: rpc.CodeUnavailable},
		// The gRPC doc's table now says INTERNAL for 431; the conformance
		// suite, and CodeFromHTTPStatus, say UNKNOWN.
		{name: "431", respond: func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge) }, want: rpc.CodeUnknown},
		{name: "401", respond: func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) }, want: rpc.CodeUnauthenticated},
		{name: "200 html", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>"))
		}, want: rpc.CodeUnknown},
		{name: "no trailers", respond: func(t *testing.T, w http.ResponseWriter) { grpcOK(w, "application/grpc", hello(t)) }, want: rpc.CodeInternal},
		{name: "trailers without status", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", nil, "Grpc-Message", "error")
		}, want: rpc.CodeUnknown},
		{name: "garbled status", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", hello(t), "Grpc-Status", "abc")
		}, want: rpc.CodeInternal},
		{name: "status with leading zero", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", hello(t), "Grpc-Status", "00")
		}, want: rpc.CodeInternal},
		{name: "status out of range", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", nil, "Grpc-Status", "99")
		}, want: rpc.CodeUnknown},
		{name: "trailers-only", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "9")
			w.Header().Set("Grpc-Message", "caf%C3%A9 100%25 %zz")
			w.Header().Set("X-Custom", "v")
		}, want: rpc.CodeFailedPrecondition, check: func(t *testing.T, err error, info *rpc.CallInfo) {
			if e := err.(*rpc.Error); e.Message() != "café 100% %zz" || e.Meta().Get("X-Custom") != "v" {
				t.Errorf("message %q meta %v", e.Message(), e.Meta())
			}
			if info.ResponseTrailer().Get("X-Custom") != "v" || info.ResponseTrailer().Get("Grpc-Status") != "" {
				t.Errorf("trailers %v", info.ResponseTrailer())
			}
		}},
		{name: "header status ignored when body present", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Status", "8")
			grpcOK(w, "application/grpc", hello(t))
		}, want: rpc.CodeInternal},
		{name: "header status ignored when trailers present", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Status", "8")
			grpcOK(w, "application/grpc", nil, "Grpc-Status", "9", "Foo", "bar")
		}, want: rpc.CodeFailedPrecondition},
		{name: "bad details", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", nil, "Grpc-Status", "9", "Grpc-Status-Details-Bin", "%%%")
		}, want: rpc.CodeFailedPrecondition},
		{name: "unknown encoding", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Encoding", "lz77")
			grpcOK(w, "application/grpc", envelope(1, 3, []byte{1, 2, 3}), "Grpc-Status", "0")
		}, want: rpc.CodeInternal},
		{name: "compressed with identity", respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Encoding", "identity")
			grpcOK(w, "application/grpc", envelope(1, 3, []byte{1, 2, 3}), "Grpc-Status", "0")
		}, want: rpc.CodeInternal},
		{name: "unexpected codec", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc+json", []byte("{}"), "Grpc-Status", "0")
		}, want: rpc.CodeInternal},
		{name: "claims 4 GiB", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", envelope(0, 0xFFFFFFFF, []byte("tiny")), "Grpc-Status", "0")
		}, want: rpc.CodeResourceExhausted},
		{name: "decompression bomb", opts: []rpc.ClientOption{rpc.WithReadMaxBytes(1 << 20)}, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Encoding", "gzip")
			grpcOK(w, "application/grpc", envelope(1, uint32(len(bomb)), bomb), "Grpc-Status", "0")
		}, want: rpc.CodeResourceExhausted},
		{name: "unary, no message", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", nil, "Grpc-Status", "0")
		}, want: rpc.CodeUnimplemented},
		{name: "unary, two messages", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", append(hello(t), hello(t)...), "Grpc-Status", "0")
		}, want: rpc.CodeUnimplemented},
		{name: "client stream, no message", spec: specClient, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", nil, "Grpc-Status", "0")
		}, want: rpc.CodeUnimplemented},
		{name: "server stream, no trailers", spec: specServer, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", hello(t))
		}, want: rpc.CodeInternal},
		{name: "server stream, incomplete message", spec: specServer, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", append(hello(t), envelope(0, 10, []byte("AAAA"))...), "Grpc-Status", "0")
		}, want: rpc.CodeInternal},
		{name: "trailers frame in gRPC", respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", webTrailers("grpc-status: 0\r\n"), "Grpc-Status", "0")
		}, want: rpc.CodeInternal},

		// gRPC-Web.
		{name: "trailers frame, mixed case", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("X-Custom-Header", "foo")
			grpcOK(w, "application/grpc-web", webTrailers("Grpc-Status: 9\r\ngRPC-Message: error\r\nx-Custom-Trailer: bing\r\nx-custom-trailer: quuz\r\n"))
		}, want: rpc.CodeFailedPrecondition, check: func(t *testing.T, err error, info *rpc.CallInfo) {
			if e := err.(*rpc.Error); e.Message() != "error" {
				t.Errorf("message %q", e.Message())
			}
			if got := info.ResponseTrailer()["X-Custom-Trailer"]; len(got) != 2 || got[0] != "bing" || got[1] != "quuz" {
				t.Errorf("trailers %v", info.ResponseTrailer())
			}
			if info.ResponseHeader().Get("X-Custom-Header") != "foo" {
				t.Errorf("headers %v", info.ResponseHeader())
			}
		}},
		{name: "web ok", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web+proto", append(hello(t), webTrailers("grpc-status: 0\r\nx-t: 1\r\n")...))
		}, check: func(t *testing.T, err error, info *rpc.CallInfo) {
			if info.ResponseTrailer().Get("X-T") != "1" {
				t.Errorf("trailers %v", info.ResponseTrailer())
			}
		}},
		{name: "web text ok", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			body := base64.StdEncoding.EncodeToString(hello(t)) + base64.StdEncoding.EncodeToString(webTrailers("grpc-status: 0\r\n"))
			grpcOK(w, "application/grpc-web-text", []byte(body))
		}},
		{name: "web text corrupt", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web-text", []byte("AAAA!!!!"))
		}, want: rpc.CodeInternal},
		{name: "web trailers-only", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/grpc-web")
			w.Header().Set("Grpc-Status", "9")
			w.Header().Set("X-Custom-Trailer", "bing")
		}, want: rpc.CodeFailedPrecondition, check: func(t *testing.T, err error, info *rpc.CallInfo) {
			if info.ResponseTrailer().Get("X-Custom-Trailer") != "bing" {
				t.Errorf("trailers %v", info.ResponseTrailer())
			}
		}},
		{name: "web trailers-only ok, no message", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/grpc-web")
			w.Header().Set("Grpc-Status", "0")
		}, want: rpc.CodeUnimplemented},
		{name: "web header status ignored when trailers frame present", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Status", "8")
			grpcOK(w, "application/grpc-web", webTrailers("grpc-status: 9\r\n"))
		}, want: rpc.CodeFailedPrecondition},
		{name: "web missing trailers frame", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web", hello(t))
		}, want: rpc.CodeInternal},
		{name: "web trailers frame without status", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web", webTrailers("grpc-message: error\r\n"))
		}, want: rpc.CodeUnknown},
		{name: "web malformed trailers", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web", webTrailers("no colon here\r\n"))
		}, want: rpc.CodeInternal},
		{name: "web compressed trailers", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Grpc-Encoding", "gzip")
			block := gzipBytes(t, []byte("grpc-status: 9\r\ngrpc-message: zipped\r\n"))
			grpcOK(w, "application/grpc-web", envelope(0x81, uint32(len(block)), block))
		}, want: rpc.CodeFailedPrecondition, check: func(t *testing.T, err error, info *rpc.CallInfo) {
			if err.(*rpc.Error).Message() != "zipped" {
				t.Errorf("message %q", err.(*rpc.Error).Message())
			}
		}},
		{name: "web trailers frame claims 4 GiB", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc-web", envelope(0x80, 0xFFFFFFFF, []byte("grpc-status: 0\r\n")))
		}, want: rpc.CodeResourceExhausted},
		{name: "web 200 grpc content type", web: true, respond: func(t *testing.T, w http.ResponseWriter) {
			grpcOK(w, "application/grpc", hello(t), "Grpc-Status", "0")
		}, want: rpc.CodeUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, h2, h1 := fakeServer(t, func(w http.ResponseWriter) { c.respond(t, w) })
			spec := c.spec
			if spec.Procedure == "" {
				spec = specUnary
			}
			protocol := rpc.ProtocolGRPC
			clients := map[string]*http.Client{"h2c": h2}
			if c.web {
				protocol = rpc.ProtocolGRPCWeb
				clients["http1"] = h1
			}
			for cname, hc := range clients {
				client := rpc.NewClient[sv, sv](hc, url, spec, append([]rpc.ClientOption{rpc.WithProtocol(protocol)}, c.opts...)...)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ctx, info := rpc.NewClientContext(ctx)
				var err error
				switch spec.StreamType {
				case rpc.StreamTypeUnary:
					_, err = client.CallUnary(ctx, wrapperspb.String("x"))
				case rpc.StreamTypeClient:
					var cs *rpc.ClientStreamCall[sv, sv]
					if cs, err = client.CallClientStream(ctx); err == nil {
						_ = cs.Send(wrapperspb.String("x"))
						_, err = cs.CloseAndReceive()
					}
				case rpc.StreamTypeServer:
					var ss *rpc.ServerStreamCall[sv]
					ss, err = client.CallServerStream(ctx, wrapperspb.String("x"))
					if err == nil {
						for _, e := range ss.All() {
							if e != nil {
								err = e
							}
						}
					}
				}
				cancel()
				if rpc.CodeOf(err) != c.want {
					t.Fatalf("%s: got %v, want code %v", cname, err, c.want)
				}
				if c.check != nil {
					c.check(t, err, info)
				}
			}
		})
	}
}
