package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/types/known/wrapperspb"

	_ "polyconnect.dev/protocol/compress/brotli"
	_ "polyconnect.dev/protocol/compress/zstd"
	"polyconnect.dev/protocol/rpc"
)

type sv = wrapperspb.StringValue

const (
	procUnary  = "/interop.v1.Echo/Unary"
	procGet    = "/interop.v1.Echo/Get"
	procServer = "/interop.v1.Echo/Server"
	procClient = "/interop.v1.Echo/Client"
	procBidi   = "/interop.v1.Echo/Bidi"
)

// transportCase is one way to reach a server: HTTP/1.1, h2c or TLS HTTP/2.
type transportCase struct {
	name       string
	fullDuplex bool
	start      func(t *testing.T, h http.Handler) (url string, client *http.Client)
}

var transports = []transportCase{
	{"http1", false, func(t *testing.T, h http.Handler) (string, *http.Client) {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetHTTP1(true)
		t.Cleanup(tr.CloseIdleConnections)
		return srv.URL, &http.Client{Transport: tr}
	}},
	{"h2c", true, func(t *testing.T, h http.Handler) (string, *http.Client) {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		t.Cleanup(srv.Close)
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		t.Cleanup(tr.CloseIdleConnections)
		return srv.URL, &http.Client{Transport: tr}
	}},
	{"h2", true, func(t *testing.T, h http.Handler) (string, *http.Client) {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL, srv.Client()
	}},
}

var (
	codecs       = []string{"proto", "json"}
	compressions = []string{"identity", "gzip", "br", "zstd"}
)

// Peer-side compressors, built straight on the compression libraries so that
// the wire format, not our adapters, is what meets.
func newBr() connect.Decompressor { return &brReader{brotli.NewReader(nil)} }
func newBrW() connect.Compressor  { return brotli.NewWriterLevel(nil, 3) }
func newZstd() connect.Decompressor {
	d, _ := zstd.NewReader(nil)
	return &zstdReader{d}
}
func newZstdW() connect.Compressor {
	e, _ := zstd.NewWriter(nil)
	return e
}

func connectGoClientCompressions() connect.ClientOption {
	return connect.WithClientOptions(
		connect.WithAcceptCompression("br", newBr, newBrW),
		connect.WithAcceptCompression("zstd", newZstd, newZstdW),
	)
}

func connectGoHandlerCompressions() connect.HandlerOption {
	return connect.WithHandlerOptions(
		connect.WithCompression("br", newBr, newBrW),
		connect.WithCompression("zstd", newZstd, newZstdW),
	)
}

type brReader struct{ *brotli.Reader }

func (*brReader) Close() error { return nil }

type zstdReader struct{ *zstd.Decoder }

func (*zstdReader) Close() error              { return nil }
func (z *zstdReader) Reset(r io.Reader) error { return z.Decoder.Reset(r) }

// echo logic shared by both servers.
func echoValue(v string) (string, error) {
	if v == "fail" {
		return "", errors.New("fail")
	}
	return v, nil
}

// polyconnectService is the echo service on our handlers.
func polyconnectService() http.Handler {
	mux := http.NewServeMux()
	unary := func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
		info.ResponseTrailer().Set("X-Trailer", "t-"+info.RequestHeader().Get("X-Echo"))
		if _, err := echoValue(req.Value); err != nil {
			e := rpc.NewError(rpc.CodeFailedPrecondition, "told to fail")
			_ = e.AddDetail(wrapperspb.String("why"))
			return nil, e
		}
		return wrapperspb.String(req.Value), nil
	}
	mux.Handle(procUnary, rpc.NewUnaryHandler(rpc.Spec{Procedure: procUnary}, unary))
	mux.Handle(procGet, rpc.NewUnaryHandler(rpc.Spec{Procedure: procGet, IdempotencyLevel: rpc.IdempotencyNoSideEffects}, unary))
	mux.Handle(procServer, rpc.NewServerStreamHandler(rpc.Spec{Procedure: procServer}, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		for i := range 3 {
			if err := s.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
				return err
			}
		}
		return nil
	}))
	mux.Handle(procClient, rpc.NewClientStreamHandler(rpc.Spec{Procedure: procClient}, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		var parts []string
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			parts = append(parts, msg.Value)
		}
		return wrapperspb.String(strings.Join(parts, ",")), nil
	}))
	mux.Handle(procBidi, rpc.NewBidiStreamHandler(rpc.Spec{Procedure: procBidi}, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if err := s.Send(wrapperspb.String("echo:" + msg.Value)); err != nil {
				return err
			}
		}
		return nil
	}))
	return mux
}

// connectGoService is the same service on connect-go's handlers.
func connectGoService() http.Handler {
	opts := connectGoHandlerCompressions()
	mux := http.NewServeMux()
	unary := func(ctx context.Context, req *connect.Request[sv]) (*connect.Response[sv], error) {
		if _, err := echoValue(req.Msg.Value); err != nil {
			e := connect.NewError(connect.CodeFailedPrecondition, errors.New("told to fail"))
			d, _ := connect.NewErrorDetail(wrapperspb.String("why"))
			e.AddDetail(d)
			return nil, e
		}
		res := connect.NewResponse(wrapperspb.String(req.Msg.Value))
		res.Header().Set("X-Echo", req.Header().Get("X-Echo"))
		res.Trailer().Set("X-Trailer", "t-"+req.Header().Get("X-Echo"))
		return res, nil
	}
	mux.Handle(procUnary, connect.NewUnaryHandler(procUnary, unary, opts))
	mux.Handle(procGet, connect.NewUnaryHandler(procGet, unary, opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects)))
	mux.Handle(procServer, connect.NewServerStreamHandler(procServer, func(ctx context.Context, req *connect.Request[sv], s *connect.ServerStream[sv]) error {
		for i := range 3 {
			if err := s.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Msg.Value, i))); err != nil {
				return err
			}
		}
		return nil
	}, opts))
	mux.Handle(procClient, connect.NewClientStreamHandler(procClient, func(ctx context.Context, s *connect.ClientStream[sv]) (*connect.Response[sv], error) {
		var parts []string
		for s.Receive() {
			parts = append(parts, s.Msg().Value)
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return connect.NewResponse(wrapperspb.String(strings.Join(parts, ","))), nil
	}, opts))
	mux.Handle(procBidi, connect.NewBidiStreamHandler(procBidi, func(ctx context.Context, s *connect.BidiStream[sv, sv]) error {
		for {
			msg, err := s.Receive()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := s.Send(wrapperspb.String("echo:" + msg.Value)); err != nil {
				return err
			}
		}
	}, opts))
	return mux
}

// TestConnectGoClientAgainstPolyconnect drives our handlers with connect-go's
// client over every transport, codec and compression.
func TestConnectGoClientAgainstPolyconnect(t *testing.T) {
	for _, tc := range transports {
		url, hc := tc.start(t, polyconnectService())
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(tc.name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []connect.ClientOption{connectGoClientCompressions(), connect.WithHTTPGet()}
					if codec == "json" {
						opts = append(opts, connect.WithProtoJSON())
					}
					if comp != "identity" {
						opts = append(opts, connect.WithSendCompression(comp))
					}
					runConnectGoClient(t, hc, url, tc.fullDuplex, opts)
				})
			}
		}
	}
}

func runConnectGoClient(t *testing.T, hc *http.Client, url string, fullDuplex bool, opts []connect.ClientOption) {
	ctx := context.Background()
	for _, proc := range []string{procUnary, procGet} {
		var copts []connect.ClientOption
		copts = append(copts, opts...)
		if proc == procGet {
			copts = append(copts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))
		}
		c := connect.NewClient[sv, sv](hc, url+proc, copts...)
		req := connect.NewRequest(wrapperspb.String("hello"))
		req.Header().Set("X-Echo", "e1")
		res, err := c.CallUnary(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", proc, err)
		}
		if res.Msg.Value != "hello" || res.Header().Get("X-Echo") != "e1" || res.Trailer().Get("X-Trailer") != "t-e1" {
			t.Fatalf("%s: %v header %v trailer %v", proc, res.Msg, res.Header(), res.Trailer())
		}
		if proc == procGet && req.HTTPMethod() != http.MethodGet {
			t.Errorf("connect-go used %s for a no-side-effects method", req.HTTPMethod())
		}
		_, err = c.CallUnary(ctx, connect.NewRequest(wrapperspb.String("fail")))
		var cerr *connect.Error
		if !errors.As(err, &cerr) || cerr.Code() != connect.CodeFailedPrecondition || cerr.Message() != "told to fail" || len(cerr.Details()) != 1 {
			t.Fatalf("%s error: %v", proc, err)
		}
		if v, err := cerr.Details()[0].Value(); err != nil || v.(*sv).Value != "why" {
			t.Fatalf("detail: %v %v", v, err)
		}
	}
	ss, err := connect.NewClient[sv, sv](hc, url+procServer, opts...).CallServerStream(ctx, connect.NewRequest(wrapperspb.String("s")))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ss.Receive() {
		got = append(got, ss.Msg().Value)
	}
	if err := ss.Err(); err != nil || strings.Join(got, " ") != "s-0 s-1 s-2" {
		t.Fatalf("server stream: %v %v", got, err)
	}
	_ = ss.Close()
	cs := connect.NewClient[sv, sv](hc, url+procClient, opts...).CallClientStream(ctx)
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := cs.CloseAndReceive()
	if err != nil || res.Msg.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}
	bidi := connect.NewClient[sv, sv](hc, url+procBidi, opts...).CallBidiStream(ctx)
	values := []string{"x", "y", "z"}
	if !fullDuplex {
		// connect-go refuses bidi streams over HTTP/1.1 on its client side;
		// the refusal must surface as an error, not a hang. Our half-duplex
		// HTTP/1.1 bidi is checked by protocol's e2e tests and the
		// conformance suite, whose reference peers support it.
		_ = bidi.Send(wrapperspb.String("x"))
		_ = bidi.CloseRequest()
		if _, err := bidi.Receive(); err == nil {
			t.Fatal("connect-go accepted a bidi stream over HTTP/1.1")
		}
		_ = bidi.CloseResponse()
		return
	}
	{
		for _, v := range values {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi: %v %v", msg, err)
			}
		}
		_ = bidi.CloseRequest()
	}
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
	_ = bidi.CloseResponse()
}

// TestPolyconnectClientAgainstConnectGo drives connect-go's handlers with our
// client over every transport, codec and compression.
func TestPolyconnectClientAgainstConnectGo(t *testing.T) {
	for _, tc := range transports {
		url, hc := tc.start(t, connectGoService())
		for _, codec := range codecs {
			for _, comp := range compressions {
				t.Run(tc.name+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []rpc.ClientOption{rpc.WithSendCompression(comp)}
					if codec == "json" {
						opts = append(opts, rpc.WithProtoJSON())
					}
					runPolyconnectClient(t, hc, url, tc.fullDuplex, opts)
				})
			}
		}
	}
}

func runPolyconnectClient(t *testing.T, hc rpc.HTTPClient, url string, fullDuplex bool, opts []rpc.ClientOption) {
	ctx := context.Background()
	for _, spec := range []rpc.Spec{{Procedure: procUnary}, {Procedure: procGet, IdempotencyLevel: rpc.IdempotencyNoSideEffects}} {
		c := rpc.NewClient[sv, sv](hc, url, spec, opts...)
		cctx, info := rpc.NewClientContext(ctx)
		info.RequestHeader().Set("X-Echo", "e2")
		res, err := c.CallUnary(cctx, wrapperspb.String("hello"))
		if err != nil {
			t.Fatalf("%s: %v", spec.Procedure, err)
		}
		if res.Value != "hello" || info.ResponseHeader().Get("X-Echo") != "e2" || info.ResponseTrailer().Get("X-Trailer") != "t-e2" {
			t.Fatalf("%s: %v header %v trailer %v", spec.Procedure, res, info.ResponseHeader(), info.ResponseTrailer())
		}
		wantMethod := http.MethodPost
		if spec.IdempotencyLevel == rpc.IdempotencyNoSideEffects {
			wantMethod = http.MethodGet
		}
		if info.HTTPMethod() != wantMethod {
			t.Errorf("%s: method %s, want %s", spec.Procedure, info.HTTPMethod(), wantMethod)
		}
		_, err = c.CallUnary(ctx, wrapperspb.String("fail"))
		var rerr *rpc.Error
		if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || rerr.Message() != "told to fail" || len(rerr.Details()) != 1 {
			t.Fatalf("%s error: %v", spec.Procedure, err)
		}
		if d, err := rerr.Details()[0].UnmarshalNew(); err != nil || d.(*sv).Value != "why" {
			t.Fatalf("detail: %v %v", d, err)
		}
	}
	ss, err := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: procServer}, opts...).CallServerStream(ctx, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg, err := range ss.All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.Value)
	}
	if strings.Join(got, " ") != "s-0 s-1 s-2" {
		t.Fatalf("server stream: %v", got)
	}
	cs, err := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: procClient}, opts...).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := cs.CloseAndReceive()
	if err != nil || res.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}
	bidi, err := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: procBidi}, opts...).CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"x", "y", "z"}
	if !fullDuplex {
		// connect-go's handler answers bidi over HTTP/1.1 with 505; our
		// client must report that as an error, not hang.
		_ = bidi.Send(wrapperspb.String("x"))
		_ = bidi.CloseSend()
		if _, err := bidi.Receive(); err == nil {
			t.Fatal("bidi over HTTP/1.1 against connect-go did not fail")
		}
		_ = bidi.CloseReceive()
		return
	}
	{
		for _, v := range values {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi: %v %v", msg, err)
			}
		}
		_ = bidi.CloseSend()
	}
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
	_ = bidi.CloseReceive()

}
