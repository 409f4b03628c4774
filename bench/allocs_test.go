package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
	"polyconnect.dev/bench/gen/bench/v1/benchv1rpc"
	"polyconnect.dev/bench/internal/harness"
)

// BenchmarkServerAllocs and BenchmarkClientAllocs measure one side of a
// unary call of 100 bytes each way at a time, with no network: the server's
// http.Handler is driven with a reused request and a ResponseWriter that
// discards, and the client talks to an HTTP client that answers from
// memory. Their allocs/op and B/op are what each side costs per call,
// messages included, which the end-to-end benchmarks cannot separate.
//
// grpc-go appears only on the server side, through grpc.Server.ServeHTTP:
// its client has no pluggable HTTP client, and its own HTTP/2 server, the
// one the end-to-end benchmarks use, cannot be driven without a connection.

// allocTarget is one implementation and protocol of the in-process
// benchmarks; there is no transport.
type allocTarget struct{ impl, protocol string }

func (t allocTarget) String() string { return "impl=" + t.impl + "/protocol=" + t.protocol }

func (t allocTarget) unfinished() bool {
	return t.impl == harness.ImplPolyconnect && t.protocol != harness.ProtocolConnect
}

var (
	serverAllocTargets = []allocTarget{
		{harness.ImplPolyconnect, harness.ProtocolConnect},
		{harness.ImplPolyconnect, harness.ProtocolGRPC},
		{harness.ImplPolyconnect, harness.ProtocolGRPCWeb},
		{harness.ImplConnectGo, harness.ProtocolConnect},
		{harness.ImplConnectGo, harness.ProtocolGRPC},
		{harness.ImplConnectGo, harness.ProtocolGRPCWeb},
		{harness.ImplGRPCGo, harness.ProtocolGRPC},
		{implGRPCCompat, harness.ProtocolConnect},
		{implGRPCCompat, harness.ProtocolGRPC},
		{implGRPCCompat, harness.ProtocolGRPCWeb},
		{harness.ImplRaw, harness.ProtocolNone},
	}
	clientAllocTargets = []allocTarget{
		{harness.ImplPolyconnect, harness.ProtocolConnect},
		{harness.ImplPolyconnect, harness.ProtocolGRPC},
		{harness.ImplPolyconnect, harness.ProtocolGRPCWeb},
		{harness.ImplConnectGo, harness.ProtocolConnect},
		{harness.ImplConnectGo, harness.ProtocolGRPC},
		{harness.ImplConnectGo, harness.ProtocolGRPCWeb},
		{harness.ImplRaw, harness.ProtocolNone},
	}
)

// unaryBodies returns the request body, response body, request headers and
// response headers and trailers of a unary call carrying msg under protocol.
func unaryBodies(tb testing.TB, protocol string, msg *benchv1.Payload) (body []byte, header, trailer http.Header) {
	tb.Helper()
	data, err := proto.Marshal(msg)
	if err != nil {
		tb.Fatal(err)
	}
	switch protocol {
	case harness.ProtocolConnect:
		return data, http.Header{"Content-Type": {"application/proto"}, "Connect-Protocol-Version": {"1"}}, nil
	case harness.ProtocolGRPC:
		return envelope(nil, 0, data), http.Header{"Content-Type": {"application/grpc"}, "Te": {"trailers"}},
			http.Header{"Grpc-Status": {"0"}, "Grpc-Message": {""}}
	case harness.ProtocolGRPCWeb:
		return envelope(nil, 0, data), http.Header{"Content-Type": {"application/grpc-web+proto"}, "X-Grpc-Web": {"1"}}, nil
	default:
		return msg.Payload, http.Header{"Content-Type": {"application/octet-stream"}}, nil
	}
}

// envelope appends a gRPC / Connect streaming frame.
func envelope(dst []byte, flags byte, data []byte) []byte {
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

// readerBody is a request or response body that can be rewound without
// allocating.
type readerBody struct{ bytes.Reader }

func (*readerBody) Close() error { return nil }

// discardWriter is a ResponseWriter that keeps only the status and the
// headers. It flushes, for the handlers that insist.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
func (w *discardWriter) Flush() {}

func serverHandler(t allocTarget) http.Handler {
	switch t.impl {
	case harness.ImplPolyconnect:
		_, h := harness.PolyconnectHandler()
		return h
	case harness.ImplConnectGo:
		_, h := harness.ConnectGoHandler()
		return h
	case harness.ImplGRPCGo:
		return harness.NewGRPCGoServer()
	case implGRPCCompat:
		return grpcCompatHandler()
	default:
		return harness.RawHandler()
	}
}

// BenchmarkServerAllocs is the server side of one unary call, 100 bytes
// each way.
func BenchmarkServerAllocs(b *testing.B) {
	msg := harness.NewPayload(smallSize)
	for _, t := range serverAllocTargets {
		b.Run(t.String(), func(b *testing.B) {
			h := serverHandler(t)
			if s, ok := h.(interface{ Stop() }); ok {
				defer s.Stop()
			}
			data, header, _ := unaryBodies(b, t.protocol, msg)
			body := &readerBody{}
			req, err := http.NewRequest(http.MethodPost, "http://bench"+benchv1connect.BenchServiceUnaryProcedure, body)
			if err != nil {
				b.Fatal(err)
			}
			req.Header = header
			req.ContentLength = int64(len(data))
			if t.protocol == harness.ProtocolGRPC {
				req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
				req.ContentLength = -1
			}
			w := &discardWriter{h: make(http.Header)}
			serve := func() error {
				body.Reset(data)
				clear(w.h)
				w.code, w.n = 0, 0
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK || w.n == 0 {
					return &statusError{w.code, w.h}
				}
				if s := w.h.Get("Grpc-Status"); s != "" && s != "0" {
					return &statusError{w.code, w.h}
				}
				if s := w.h.Get(http.TrailerPrefix + "Grpc-Status"); s != "" && s != "0" {
					return &statusError{w.code, w.h}
				}
				return nil
			}
			if err := serve(); err != nil {
				if t.unfinished() {
					b.Skipf("%s not working yet: %v", t, err)
				}
				b.Fatalf("%s: %v", t, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := serve(); err != nil {
					b.Fatalf("%s: %v", t, err)
				}
			}
		})
	}
}

type statusError struct {
	code int
	h    http.Header
}

func (e *statusError) Error() string {
	return "HTTP " + http.StatusText(e.code) + ", headers " + headerString(e.h)
}

func headerString(h http.Header) string {
	var b bytes.Buffer
	_ = h.Write(&b)
	return b.String()
}

// memoryHTTPClient answers every request with the same canned response,
// restored before each answer so that a client changing it cannot affect
// the next call. Do does not allocate.
type memoryHTTPClient struct {
	res        http.Response
	header     http.Header
	trailer    http.Header
	headerKV   http.Header // the canned values, copied into header and trailer
	trailerKV  http.Header
	body       readerBody
	data       []byte
	protoMajor int
}

func newMemoryHTTPClient(protocol string, data []byte, header, trailer http.Header) *memoryHTTPClient {
	m := &memoryHTTPClient{data: data, headerKV: header, trailerKV: trailer, header: make(http.Header), protoMajor: 1}
	if trailer != nil {
		m.trailer = make(http.Header)
	}
	if protocol == harness.ProtocolGRPC {
		m.protoMajor = 2
	}
	return m
}

func (m *memoryHTTPClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	clear(m.header)
	for k, v := range m.headerKV {
		m.header[k] = v
	}
	if m.trailer != nil {
		clear(m.trailer)
		for k, v := range m.trailerKV {
			m.trailer[k] = v
		}
	}
	m.body.Reset(m.data)
	m.res = http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    m.protoMajor,
		Header:        m.header,
		Trailer:       m.trailer,
		Body:          &m.body,
		ContentLength: int64(len(m.data)),
		Request:       req,
	}
	if m.protoMajor == 2 {
		m.res.Proto = "HTTP/2.0"
		m.res.ContentLength = -1
	}
	return &m.res, nil
}

func (m *memoryHTTPClient) CloseIdleConnections() {}

// cannedResponse returns the response body, headers and trailers of a
// successful unary call answering msg under protocol.
func cannedResponse(tb testing.TB, protocol string, msg *benchv1.Payload) (data []byte, header, trailer http.Header) {
	tb.Helper()
	raw, err := proto.Marshal(msg)
	if err != nil {
		tb.Fatal(err)
	}
	switch protocol {
	case harness.ProtocolConnect:
		return raw, http.Header{"Content-Type": {"application/proto"}}, nil
	case harness.ProtocolGRPC:
		return envelope(nil, 0, raw), http.Header{"Content-Type": {"application/grpc"}},
			http.Header{"Grpc-Status": {"0"}, "Grpc-Message": {""}}
	case harness.ProtocolGRPCWeb:
		data := envelope(nil, 0, raw)
		data = envelope(data, 0x80, []byte("grpc-status: 0\r\ngrpc-message: \r\n"))
		return data, http.Header{"Content-Type": {"application/grpc-web+proto"}}, nil
	default:
		return msg.Payload, http.Header{"Content-Type": {"application/octet-stream"}}, nil
	}
}

// unaryCaller makes one unary call with a client of an implementation.
type unaryCaller func(ctx context.Context, msg *benchv1.Payload) error

func newUnaryCaller(t allocTarget, hc *memoryHTTPClient) unaryCaller {
	const baseURL = "http://bench"
	switch t.impl {
	case harness.ImplPolyconnect:
		c := benchv1rpc.NewBenchServiceClient(hc, baseURL, harness.PolyconnectClientOptions(t.protocol))
		return func(ctx context.Context, msg *benchv1.Payload) error {
			_, err := c.Unary(ctx, msg)
			return err
		}
	case harness.ImplConnectGo:
		c := benchv1connect.NewBenchServiceClient(hc, baseURL, harness.ConnectGoClientOptions(t.protocol)...)
		return func(ctx context.Context, msg *benchv1.Payload) error {
			_, err := c.Unary(ctx, connect.NewRequest(msg))
			return err
		}
	default:
		c := harness.NewRawClient(hc, baseURL)
		return func(ctx context.Context, msg *benchv1.Payload) error { return c.Unary(ctx, msg) }
	}
}

// BenchmarkClientAllocs is the client side of one unary call, 100 bytes
// each way.
func BenchmarkClientAllocs(b *testing.B) {
	msg := harness.NewPayload(smallSize)
	for _, t := range clientAllocTargets {
		b.Run(t.String(), func(b *testing.B) {
			data, header, trailer := cannedResponse(b, t.protocol, msg)
			call := newUnaryCaller(t, newMemoryHTTPClient(t.protocol, data, header, trailer))
			ctx := context.Background()
			if err := call(ctx, msg); err != nil {
				if t.unfinished() {
					b.Skipf("%s not working yet: %v", t, err)
				}
				b.Fatalf("%s: %v", t, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := call(ctx, msg); err != nil {
					b.Fatalf("%s: %v", t, err)
				}
			}
		})
	}
}
