package rpc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// Native fuzz targets for every decoder of wire input. Each checks, beyond
// "no panic", a property the decoder must keep: bounded memory, the right
// error codes, and agreement with the encoder or with a plain reference
// implementation. scripts/fuzz.sh runs each one briefly in CI; seeds found
// by longer runs live in testdata/fuzz/<target>.

// fuzzCode checks that err is nil, io.EOF, or an *Error with one of codes.
func fuzzCode(t *testing.T, what string, err error, codes ...Code) {
	t.Helper()
	if err == nil || errors.Is(err, io.EOF) {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %T %v is not an *rpc.Error", what, err, err)
	}
	for _, c := range codes {
		if e.Code() == c {
			return
		}
	}
	t.Fatalf("%s: code %v (%v), want one of %v", what, e.Code(), e, codes)
}

func FuzzEnvelopeReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 3, 'a', 'b', 'c', 2, 0, 0, 0, 2, '{', '}'}, uint16(10), true, true)
	f.Add([]byte{0, 0, 0, 0}, uint16(0), false, false)
	f.Add([]byte{0x80, 0, 0, 0, 5, 'x', ':', ' ', 'y', '\n'}, uint16(1), true, false)
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0}, uint16(100), false, true)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, buffered, server bool) {
		r := envelopeReader{r: bytes.NewReader(data), limit: int64(limit), buffered: buffered, server: server}
		defer r.release()
		buf := &buffer{}
		read := 0
		for {
			flags, err := r.read(buf)
			if err != nil {
				if server {
					fuzzCode(t, "server read", err, CodeInvalidArgument, CodeResourceExhausted)
				} else {
					fuzzCode(t, "client read", err, CodeInternal, CodeResourceExhausted)
				}
				return
			}
			max := int64(limit)
			if flags&(flagEndStream|flagGRPCWebTrail) != 0 && max > 0 && max < controlFrameMinLimit {
				max = controlFrameMinLimit
			}
			if max > 0 && int64(buf.Len()) > max {
				t.Fatalf("read a %d-byte payload past the limit of %d", buf.Len(), max)
			}
			read += envelopePrefix + buf.Len()
			if read > len(data) {
				t.Fatalf("read %d bytes from %d", read, len(data))
			}
			// The memory held follows what arrived, not what a prefix
			// claims: at most 64 KiB on a claim alone.
			if buf.Cap() > 2*len(data)+minRead+64<<10 {
				t.Fatalf("buffer grew to %d for %d input bytes", buf.Cap(), len(data))
			}
		}
	})
}

// rawCodec passes bytes through: Unmarshal copies into a *[]byte. It lets
// the Connect GET target compare the message the handler sees with the one
// the client encoded.
type rawCodec struct{ binary bool }

func (c rawCodec) Name() string {
	if c.binary {
		return "x-raw"
	}
	return "x-text"
}
func (c rawCodec) IsBinary() bool { return c.binary }
func (rawCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	return append(dst, *msg.(*[]byte)...), nil
}
func (rawCodec) Unmarshal(data []byte, msg any) error {
	*msg.(*[]byte) = append([]byte(nil), data...)
	return nil
}

func FuzzConnectGetQuery(f *testing.F) {
	f.Add([]byte("hello"), "connect=v1&encoding=x-raw&base64=1&message=aGVsbG8")
	f.Add([]byte{0, 1, 2, 0xff}, "encoding=x-text&message=%ZZ")
	f.Add([]byte(`{"a":1}`), "encoding=json&message=%7B%7D&compression=gzip&base64=1")
	f.Add([]byte(""), "encoding=x-raw&base64=1&message=!!&connect=v2")
	f.Add([]byte("a b"), "encoding=x-raw;message=1")
	spec := Spec{Procedure: "/fuzz.v1.F/Get", StreamType: StreamTypeUnary, IdempotencyLevel: IdempotencyNoSideEffects}
	h := NewUnaryHandler(spec, func(_ context.Context, req *[]byte) (*[]byte, error) { return req, nil },
		WithCodec(rawCodec{binary: true}), WithCodec(rawCodec{}))
	serve := func(t *testing.T, query string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "http://fuzz/", nil)
		req.URL.Path = spec.Procedure
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	f.Fuzz(func(t *testing.T, payload []byte, query string) {
		// Whatever the query, the answer is a success or a Connect error.
		w := serve(t, query)
		if w.Code != http.StatusOK {
			if _, ok := parseConnectError(w.Body.Bytes(), CodeUnknown); !ok {
				t.Fatalf("status %d with a body that is no Connect error: %q", w.Code, w.Body.Bytes())
			}
		}
		// What the client encodes, the handler decodes unchanged.
		for _, c := range []rawCodec{{binary: true}, {}} {
			if !c.binary && !utf8.Valid(payload) {
				continue
			}
			w := serve(t, connectGetQuery(c, payload, ""))
			if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), payload) {
				t.Fatalf("%s: round trip of %q: status %d, %q", c.Name(), payload, w.Code, w.Body.Bytes())
			}
		}
	})
}

func FuzzConnectErrorJSON(f *testing.F) {
	f.Add([]byte(`{"code":"not_found","message":"gone","details":[{"type":"google.protobuf.StringValue","value":"CgF4"}]}`), uint16(404))
	f.Add([]byte(`{"code":null}`), uint16(503))
	f.Add([]byte(`{"code":"unknown_code","message":7}`), uint16(200))
	f.Add([]byte(`[]`), uint16(0))
	f.Fuzz(func(t *testing.T, body []byte, status uint16) {
		fallback := CodeFromHTTPStatus(int(status))
		e, ok := parseConnectError(body, fallback)
		if !ok {
			return
		}
		if e.Code() < minCode || e.Code() > maxCode {
			t.Fatalf("code %d out of range", e.Code())
		}
		// What we decode, we encode back to the same error.
		back, ok := parseConnectError(marshalConnectError(e), CodeUnknown)
		if !ok || back.Code() != e.Code() || (utf8.ValidString(e.Message()) && back.Message() != e.Message()) || len(back.Details()) != len(e.Details()) {
			t.Fatalf("round trip: %v became %v", e, back)
		}
	})
}

func FuzzConnectEndStream(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"error":{"code":"aborted","message":"x"},"metadata":{"x-a":["1","2"],"X-A":["3"]}}`))
	f.Add([]byte(`{"metadata":{"":[""]},"error":null}`))
	f.Add([]byte(`{"error":{"code":"ok"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		trailer, status, perr := parseConnectEndStream(payload)
		if perr != nil {
			fuzzCode(t, "end-of-stream", perr, CodeInternal)
			return
		}
		for k := range trailer {
			if k != http.CanonicalHeaderKey(k) {
				t.Fatalf("trailer key %q is not canonical", k)
			}
		}
		if status != nil && (status.Code() < minCode || status.Code() > maxCode) {
			t.Fatalf("status code %d out of range", status.Code())
		}
	})
}

func FuzzTimeouts(f *testing.F) {
	for _, s := range []string{"1S", "99999999H", "0n", "+5000", "5000", "18446744073709551615", "1 ", "00000000001", "3m", "1u"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// grpc-timeout: 1 to 8 digits and a unit, nothing else.
		d, ok := grpcwire.ParseTimeout(s)
		wantOK := len(s) >= 2 && len(s) <= 9 && strings.IndexFunc(s[:len(s)-1], func(r rune) bool { return r < '0' || r > '9' }) < 0 &&
			strings.IndexByte("numSMH", s[len(s)-1]) >= 0
		if ok != wantOK {
			t.Fatalf("grpcwire.ParseTimeout(%q) ok=%v", s, ok)
		}
		if ok && d > 0 {
			// The encoding of what we parsed never shortens the deadline.
			back, ok := grpcwire.ParseTimeout(grpcwire.EncodeTimeout(d))
			if !ok || back < d {
				t.Fatalf("%q: %v encodes to %q, which parses to %v", s, d, grpcwire.EncodeTimeout(d), back)
			}
		}
		// Connect-Timeout-Ms: 1 to 10 digits.
		ms, err := parseConnectTimeout(s)
		n, perr := strconv.ParseUint(s, 10, 64)
		wantOK = perr == nil && len(s) <= 10 && s[0] != '+'
		switch {
		case !wantOK:
			if err == nil || err.Code() != CodeInvalidArgument {
				t.Fatalf("parseConnectTimeout(%q) = %v, %v; want invalid_argument", s, ms, err)
			}
		case n == 0:
			if err == nil || err.Code() != CodeDeadlineExceeded {
				t.Fatalf("parseConnectTimeout(%q) = %v, %v; want deadline_exceeded", s, ms, err)
			}
		case err != nil || ms != time.Duration(n)*time.Millisecond:
			t.Fatalf("parseConnectTimeout(%q) = %v, %v", s, ms, err)
		}
	})
}

func FuzzGRPCStatusDetails(f *testing.F) {
	detail, _ := anypb.New(wrapperspb.String("detail"))
	f.Add(grpcwire.AppendStatusProto(nil, uint32(CodeNotFound), "gone", []*anypb.Any{detail}), "5", "gone%20away")
	f.Add([]byte{0x08, 0x96, 0x01}, "0", "")
	f.Add([]byte{0x1a, 0x02, 0x0a, 0xff}, "01", "%")
	f.Add([]byte{}, " 3 ", "%zz%4")
	f.Fuzz(func(t *testing.T, b []byte, status, message string) {
		code, msg, details, err := grpcwire.ParseStatusProto(b)
		if err == nil {
			// Whatever parses re-encodes to something that parses the same.
			c2, m2, d2, err := grpcwire.ParseStatusProto(grpcwire.AppendStatusProto(nil, code, msg, details))
			if err != nil || (code != 0 && int32(c2) != int32(code)) || m2 != msg || len(d2) != len(details) {
				t.Fatalf("round trip: %v %q %d became %v %q %d (%v)", code, msg, len(details), c2, m2, len(d2), err)
			}
			// Each detail keeps its type URL and value; unknown fields
			// inside an Any are not carried over.
			for i := range details {
				if details[i].GetTypeUrl() != d2[i].GetTypeUrl() || !bytes.Equal(details[i].GetValue(), d2[i].GetValue()) {
					t.Fatalf("detail %d changed", i)
				}
			}
		}
		// The status entries as a client reads them from trailers.
		fields := grpcwire.StatusFields{Status: status, StatusCount: 1, Message: message, HasMessage: message != "", Details: base64.RawStdEncoding.EncodeToString(b)}
		e, found := grpcStatusError(fields)
		if !found {
			t.Fatal("a grpc-status entry was not found")
		}
		if e != nil && (e.Code() < minCode || e.Code() > maxCode) {
			t.Fatalf("code %d out of range", e.Code())
		}
		// A message survives encoding for the header unchanged.
		if back := grpcwire.PercentDecode(grpcwire.PercentEncode(message)); back != message {
			t.Fatalf("percent round trip of %q gave %q", message, back)
		}
	})
}

// refDecodeGRPCWebText decodes a gRPC-Web text body quantum by quantum,
// which is what concatenated padded pieces allow: the reference for the
// streaming decoder.
func refDecodeGRPCWebText(in []byte) ([]byte, bool) {
	var clean []byte
	for _, c := range in {
		if c != '\r' && c != '\n' {
			clean = append(clean, c)
		}
	}
	var out []byte
	for len(clean) >= 4 {
		b, err := base64.StdEncoding.DecodeString(string(clean[:4]))
		if err != nil {
			return out, false
		}
		out = append(out, b...)
		clean = clean[4:]
	}
	if len(clean) > 0 {
		b, err := base64.RawStdEncoding.DecodeString(string(clean))
		if err != nil {
			return out, false
		}
		out = append(out, b...)
	}
	return out, true
}

func FuzzGRPCWebText(f *testing.F) {
	f.Add([]byte("QUJD\r\nQQ==QUI"), uint8(0))
	f.Add([]byte("Q"), uint8(1))
	f.Add([]byte("QQ=AQUJD"), uint8(2))
	f.Add([]byte("AAAAAAVoZWxsbw==gAAAAA9ncnBjLXN0YXR1czogMA0K"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var r io.Reader = bytes.NewReader(data)
		switch mode % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		got, err := io.ReadAll(newBase64StreamReader(r, true))
		want, ok := refDecodeGRPCWebText(data)
		if ok != (err == nil) {
			t.Fatalf("decoder error %v, reference ok=%v", err, ok)
		}
		if err != nil {
			fuzzCode(t, "decode", err, CodeInvalidArgument)
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("decoded %q, reference %q", got, want)
		}
	})
}

func FuzzGRPCWebTrailers(f *testing.F) {
	f.Add([]byte("grpc-status: 0\r\nx-a: 1\r\n"), "X-Id", "abc", "message")
	f.Add([]byte("grpc-status: 3\r\ngrpc-message: a%0Ab\r\ngrpc-status-details-bin: CAM\r\n"), "X-Id", "a\r\ngrpc-status: 0", "m")
	f.Add([]byte("nocolon\r\n"), "Bad Key", "v\x00", "")
	f.Add([]byte(": x\n\n"), "X-Bin-Bin", "\xff", "\r\n")
	f.Fuzz(func(t *testing.T, block []byte, key, value, message string) {
		// Reading: a block parses, or fails with Internal.
		fields, meta, err := parseGRPCWebTrailers(block)
		if err != nil {
			fuzzCode(t, "parse", err, CodeInternal)
		} else {
			for k, vs := range meta {
				if !validHeaderName(k) {
					t.Fatalf("parsed invalid name %q", k)
				}
				for _, v := range vs {
					if !validHeaderValue(v) {
						t.Fatalf("parsed invalid value %q", v)
					}
				}
			}
			if e, found := grpcStatusError(fields); found && e != nil && (e.Code() < minCode || e.Code() > maxCode) {
				t.Fatalf("code %d out of range", e.Code())
			}
		}
		// Writing: whatever the handler puts in its trailers and error,
		// the frame carries exactly our status, and nothing it did not say.
		e := NewError(CodeAborted, message)
		e.Meta().Add(key, value)
		buf := getBuffer()
		defer putBuffer(buf)
		appendGRPCWebTrailers(buf, e, http.Header{key: {value}, "X-Fixed": {"1"}})
		frame := buf.Bytes()
		if frame[0] != flagGRPCWebTrail || int(binary.BigEndian.Uint32(frame[1:5])) != len(frame)-5 {
			t.Fatalf("bad frame prefix % x", frame[:5])
		}
		fields, meta, err = parseGRPCWebTrailers(frame[5:])
		if err != nil {
			t.Fatalf("our own frame does not parse: %v\n%q", err, frame[5:])
		}
		status, found := grpcStatusError(fields)
		if !found || status == nil || status.Code() != CodeAborted || status.Message() != message {
			t.Fatalf("status %v, want aborted %q; frame %q", status, message, frame[5:])
		}
		if http.CanonicalHeaderKey(key) != "X-Fixed" && meta.Get("X-Fixed") != "1" {
			t.Fatalf("lost a valid trailer; frame %q", frame[5:])
		}
		for k, vs := range meta {
			if k == "X-Fixed" && http.CanonicalHeaderKey(key) != "X-Fixed" {
				continue
			}
			if k != http.CanonicalHeaderKey(key) {
				t.Fatalf("frame carries %q, which no one set; frame %q", k, frame[5:])
			}
			for _, v := range vs {
				if v != strings.Trim(value, " \t") && !(k == "X-Fixed" && v == "1") {
					t.Fatalf("value %q became %q", value, v)
				}
			}
		}
	})
}

func FuzzCompressionNegotiation(f *testing.F) {
	f.Add("gzip;q=0.5, br", "application/grpc-web-text+PROTO; charset=utf-8", "gzip")
	f.Add(",,identity,", "application/connect+json", "identity")
	f.Add("x, GZIP , gzip", "application/grpc+", "")
	f.Add("\x00", "application/grpc-webx", "br")
	set := newCompressionSet([]compressionEdit{{add: namedTestCompression("br")}})
	f.Fuzz(func(t *testing.T, accept, contentType, encoding string) {
		got := set.negotiate(accept)
		if got != "" {
			if set.get(got) == nil {
				t.Fatalf("negotiated unsupported %q", got)
			}
			found := false
			for _, tok := range strings.Split(accept, ",") {
				tok, _, _ = strings.Cut(tok, ";")
				if strings.TrimSpace(tok) == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("negotiated %q, which %q does not offer", got, accept)
			}
		}
		if set.supports(encoding) != (encoding == "" || encoding == "identity" || encoding == "gzip" || encoding == "br") {
			t.Fatalf("supports(%q) = %v", encoding, set.supports(encoding))
		}
		if v, codec, ok := grpcwire.ParseContentType(contentType); ok {
			if codec == "" || codec != strings.ToLower(codec) || v > grpcwire.WebText {
				t.Fatalf("grpcwire.ParseContentType(%q) = %v, %q", contentType, v, codec)
			}
		}
		_ = connectwire.CodecName(contentType, connectwire.StreamPrefix)
	})
}

// namedTestCompression is gzip under another name.
type namedTestCompression string

func (n namedTestCompression) Name() string { return string(n) }
func (namedTestCompression) NewCompressor(w io.Writer) Compressor {
	return gzipCompression{}.NewCompressor(w)
}
func (namedTestCompression) NewDecompressor(r io.Reader) (Decompressor, error) {
	return gzipCompression{}.NewDecompressor(r)
}

// fuzzMux serves every kind of method, echoing, with small limits so that
// limit paths are reachable.
func fuzzMux() http.Handler {
	mux := http.NewServeMux()
	opts := []HandlerOption{WithReadMaxBytes(4 << 10), WithCompression(namedTestCompression("br"))}
	unary := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if info, ok := HandlerCallInfo(ctx); ok {
			info.ResponseTrailer().Set("X-Echo", req.GetValue())
		}
		if strings.HasPrefix(req.GetValue(), "fail") {
			e := NewError(CodeAborted, req.GetValue())
			e.Meta().Set("X-Fail", req.GetValue())
			return nil, e
		}
		return req, nil
	}
	mux.Handle("/f.F/Unary", NewUnaryHandler(Spec{Procedure: "/f.F/Unary"}, unary, opts...))
	mux.Handle("/f.F/Get", NewUnaryHandler(Spec{Procedure: "/f.F/Get", IdempotencyLevel: IdempotencyNoSideEffects}, unary, opts...))
	mux.Handle("/f.F/Server", NewServerStreamHandler(Spec{Procedure: "/f.F/Server"}, func(ctx context.Context, req *wrapperspb.StringValue, s *ServerStream[wrapperspb.StringValue]) error {
		for range 2 {
			if err := s.Send(req); err != nil {
				return err
			}
		}
		_, err := unary(ctx, req)
		return err
	}, opts...))
	mux.Handle("/f.F/Client", NewClientStreamHandler(Spec{Procedure: "/f.F/Client"}, func(ctx context.Context, s *ClientStream[wrapperspb.StringValue]) (*wrapperspb.StringValue, error) {
		var last *wrapperspb.StringValue
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			last = msg
		}
		if last == nil {
			last = wrapperspb.String("")
		}
		return unary(ctx, last)
	}, opts...))
	mux.Handle("/f.F/Bidi", NewBidiStreamHandler(Spec{Procedure: "/f.F/Bidi"}, func(ctx context.Context, s *BidiStream[wrapperspb.StringValue, wrapperspb.StringValue]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if _, err := unary(ctx, msg); err != nil {
				return err
			}
			if err := s.Send(msg); err != nil {
				return err
			}
		}
		return nil
	}, opts...))
	return mux
}

var fuzzPaths = [...]string{"/f.F/Unary", "/f.F/Get", "/f.F/Server", "/f.F/Client", "/f.F/Bidi", "/f.F/Missing"}

// fuzzHeaders parses "Name: value" lines; at most 16 of them.
func fuzzHeaders(h http.Header, s string) {
	for i, line := range strings.Split(s, "\n") {
		if i == 16 {
			return
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
}

func FuzzHandler(f *testing.F) {
	msg, _ := proto.Marshal(wrapperspb.String("hello"))
	env := func(flags byte, p []byte) []byte {
		return append([]byte{flags, 0, 0, 0, byte(len(p))}, p...)
	}
	f.Add(uint8(0), true, "application/proto", "Connect-Protocol-Version: 1\nConnect-Timeout-Ms: 5000", msg)
	f.Add(uint8(1), false, "", "", []byte(nil))
	f.Add(uint8(2), true, "application/connect+proto", "Connect-Content-Encoding: gzip", env(0, msg))
	f.Add(uint8(3), true, "application/grpc", "Grpc-Timeout: 1S\nTe: trailers", append(env(0, msg), env(0, msg)...))
	f.Add(uint8(4), true, "application/grpc-web-text+proto", "X-User: a", []byte(base64.StdEncoding.EncodeToString(env(0, msg))))
	f.Add(uint8(4), true, "application/grpc-web", "", env(1, []byte{0x1f, 0x8b}))
	f.Add(uint8(2), true, "application/grpc-web+json", "Grpc-Encoding: br", env(0, []byte(`"fail"`)))
	f.Add(uint8(0), true, "application/json", "Content-Encoding: gzip", []byte(`"x"`))
	handler := fuzzMux()
	f.Fuzz(func(t *testing.T, path uint8, post bool, contentType, headers string, body []byte) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "http://fuzz"+fuzzPaths[int(path)%len(fuzzPaths)], bytes.NewReader(body))
		if !post {
			req.URL.RawQuery = string(body)
		}
		req.ProtoMajor, req.ProtoMinor, req.Proto = 2, 0, "HTTP/2.0"
		if path&0x80 != 0 {
			req.ProtoMajor, req.ProtoMinor, req.Proto = 1, 1, "HTTP/1.1"
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		fuzzHeaders(req.Header, headers)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			handler.ServeHTTP(w, req)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute): // generous: a loaded machine, not a bound on speed
			t.Fatal("the handler did not return on a finite request body")
		}
		checkFuzzResponse(t, contentType, w.Result())
	})
}

// checkFuzzResponse checks that a handler's answer is well formed for the
// protocol the request named.
func checkFuzzResponse(t *testing.T, contentType string, res *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(res.Body)
	if http.StatusText(res.StatusCode) == "" {
		t.Fatalf("status %d", res.StatusCode)
	}
	ct := res.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		if strings.HasPrefix(ct, grpcwire.WebTextContentType) {
			var err error
			if body, err = io.ReadAll(newBase64StreamReader(bytes.NewReader(body), false)); err != nil {
				t.Fatalf("gRPC-Web text response is not base64: %v", err)
			}
		}
		if res.Header.Get("Grpc-Status") != "" {
			return // trailers-only
		}
		var last []byte
		for len(body) > 0 {
			if len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) > len(body)-5 {
				t.Fatalf("truncated gRPC-Web response")
			}
			n := 5 + int(binary.BigEndian.Uint32(body[1:5]))
			last, body = body[:n], body[n:]
		}
		if last == nil || last[0]&flagGRPCWebTrail == 0 {
			t.Fatalf("gRPC-Web response without a trailers frame")
		}
		fields, _, err := parseGRPCWebTrailers(last[5:])
		if err != nil || fields.StatusCount != 1 {
			t.Fatalf("trailers frame %q: %v", last[5:], err)
		}
	case strings.HasPrefix(ct, "application/grpc"):
		if res.Header.Get("Grpc-Status") == "" && res.Trailer.Get("Grpc-Status") == "" {
			t.Fatalf("gRPC response without a status")
		}
	case strings.HasPrefix(ct, connectwire.StreamPrefix):
		var last []byte
		for len(body) > 0 {
			if len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) > len(body)-5 {
				t.Fatalf("truncated Connect stream")
			}
			n := 5 + int(binary.BigEndian.Uint32(body[1:5]))
			last, body = body[:n], body[n:]
		}
		if last == nil || last[0]&flagEndStream == 0 || !json.Valid(last[5:]) {
			t.Fatalf("Connect stream without a valid end-of-stream message: %q", last)
		}
	case res.StatusCode != http.StatusOK && ct == "application/json":
		if _, ok := parseConnectError(body, CodeUnknown); !ok {
			t.Fatalf("error body %q", body)
		}
	}
	_ = contentType
}

// fuzzClient answers every request with one canned response.
type fuzzClient struct {
	status int
	header http.Header
	body   []byte
}

func (c *fuzzClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := c.header.Clone()
	trailer := http.Header{}
	for k, vs := range h {
		if t, ok := strings.CutPrefix(k, "Trailer-X-"); ok {
			trailer[http.CanonicalHeaderKey(t)] = vs
		}
	}
	return &http.Response{StatusCode: c.status, Status: strconv.Itoa(c.status), Header: h, Trailer: trailer,
		Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: -1, ProtoMajor: 2}, nil
}

func FuzzClientResponse(f *testing.F) {
	msg, _ := proto.Marshal(wrapperspb.String("hello"))
	env := func(flags byte, p []byte) []byte {
		return append([]byte{flags, 0, 0, 0, byte(len(p))}, p...)
	}
	f.Add(uint8(0), uint16(200), "Content-Type: application/proto", msg)
	f.Add(uint8(1), uint16(200), "Content-Type: application/connect+proto", append(env(0, msg), env(2, []byte(`{"error":{"code":"aborted"}}`))...))
	f.Add(uint8(2), uint16(200), "Content-Type: application/grpc\nTrailer-X-Grpc-Status: 0", env(0, msg))
	f.Add(uint8(3), uint16(200), "Content-Type: application/grpc-web+proto", append(env(0, msg), env(0x80, []byte("grpc-status: 0\r\n"))...))
	f.Add(uint8(4), uint16(200), "Content-Type: application/grpc-web-text\nGrpc-Status: 5", []byte(nil))
	f.Add(uint8(5), uint16(404), "Content-Type: application/json", []byte(`{"code":"not_found"}`))
	f.Fuzz(func(t *testing.T, kind uint8, status uint16, headers string, body []byte) {
		h := http.Header{}
		fuzzHeaders(h, headers)
		fc := &fuzzClient{status: int(status), header: h, body: body}
		protocols := [...]Protocol{ProtocolConnect, ProtocolGRPC, ProtocolGRPCWeb}
		p := protocols[int(kind)%len(protocols)]
		opts := []ClientOption{WithProtocol(p), WithReadMaxBytes(4 << 10), WithCompression(namedTestCompression("br"))}
		if kind&0x10 != 0 {
			opts = append(opts, WithGRPCWebText())
		}
		ctx := context.Background()
		req := wrapperspb.String("x")
		validCode := func(err error) {
			var e *Error
			if err != nil && errors.As(err, &e) && (e.Code() < minCode || e.Code() > maxCode) {
				t.Fatalf("code %d out of range", e.Code())
			}
			if err != nil && !errors.As(err, &e) && !errors.Is(err, io.EOF) {
				t.Fatalf("%T %v is not an *rpc.Error", err, err)
			}
		}
		if kind&0x20 == 0 {
			c := NewClient[wrapperspb.StringValue, wrapperspb.StringValue](fc, "http://fuzz", Spec{Procedure: "/f.F/Unary"}, opts...)
			_, err := c.CallUnary(ctx, req)
			validCode(err)
			return
		}
		c := NewClient[wrapperspb.StringValue, wrapperspb.StringValue](fc, "http://fuzz", Spec{Procedure: "/f.F/Server", StreamType: StreamTypeServer}, opts...)
		stream, err := c.CallServerStream(ctx, req)
		if err != nil {
			validCode(err)
			return
		}
		defer stream.Close()
		for _, err := range stream.All() {
			validCode(err)
		}
	})
}

// validHeaderName and validHeaderValue are the reference for what may
// appear in a trailer line: an RFC 9110 token, and a field value without
// control characters other than tab.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
