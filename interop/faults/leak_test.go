package faults_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/interceptors/recovery"
	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// The leak test (issue 22): a request carrying a recognisable secret goes
// through every transport, every protocol (Connect POST and GET, gRPC,
// gRPC-Web) and every failure path, with tracing, metrics and logging on
// both sides, and the secret (raw, or as the base64 of the request a
// Connect GET puts in its URL) must appear in no error text, span (name,
// status, attributes, events, links), metric attribute or log record.

// leakSecret is what the request carries: a card number, as in the report.
const leakSecret = "CARD-4111111111111111-SECRET"

var leakRequest = wrapperspb.String(leakSecret)

// leakNeedles are the forms in which the request could leak: the secret
// itself, the query parameter name of a Connect GET, and the request as
// the base64 encodings a GET URL may use.
func leakNeedles(t *testing.T) []string {
	b, err := proto.Marshal(leakRequest)
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		leakSecret,
		"message=",
		base64.RawURLEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.StdEncoding.EncodeToString(b),
	}
}

// Procedures of the leak test, one a failure path. All are
// NO_SIDE_EFFECTS, so Connect clients call them with GET unless told not
// to.
var (
	leakError    = rpc.Spec{Procedure: "/leak.v1.Leak/Error", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	leakPanic    = rpc.Spec{Procedure: "/leak.v1.Leak/Panic", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	leakDeadline = rpc.Spec{Procedure: "/leak.v1.Leak/Deadline", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	leakKilled   = rpc.Spec{Procedure: "/leak.v1.Leak/Killed", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	leakOK       = rpc.Spec{Procedure: "/leak.v1.Leak/OK", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
)

// leakProtocol is a protocol as the test calls it.
type leakProtocol struct {
	name     string
	protocol rpc.Protocol
	opts     []rpc.ClientOption
}

var leakProtocols = []leakProtocol{
	{"connect-post", rpc.ProtocolConnect, []rpc.ClientOption{rpc.WithoutHTTPGet()}},
	{"connect-get", rpc.ProtocolConnect, nil},
	// JSON puts the message in the query as escaped text, the secret as is.
	{"connect-get-json", rpc.ProtocolConnect, []rpc.ClientOption{rpc.WithProtoJSON()}},
	{"grpc", rpc.ProtocolGRPC, nil},
	{"grpcweb", rpc.ProtocolGRPCWeb, nil},
}

// sinks is where telemetry of one case goes: spans, metrics, log records,
// and the error text both sides saw.
type sinks struct {
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	logs   *recordCapture
	mu     sync.Mutex
	errs   []string
}

func newSinks(t *testing.T) *sinks {
	s := &sinks{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader(), logs: newRecordCapture()}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(s.spans))
	s.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		_ = s.tp.Shutdown(context.Background())
		_ = s.mp.Shutdown(context.Background())
	})
	return s
}

// addError records the text of err and of every error in its chain.
func (s *sinks) addError(where string, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		s.errs = append(s.errs, where+": "+e.Error())
		var re *rpc.Error
		if errors.As(e, &re) {
			s.errs = append(s.errs, where+" (message): "+re.Message())
			for k, vs := range re.Meta() {
				s.errs = append(s.errs, where+" (metadata): "+k+": "+strings.Join(vs, ","))
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
}

// errorTap is a handler interceptor that records the error each call
// ends with, as the interceptors before it see it.
func (s *sinks) errorTap() rpc.HandlerInterceptor {
	return rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			err := next(ctx, conn)
			s.addError("handler", err)
			return err
		}
	})
}

// telemetry returns what every client and handler of the case records
// with: tracing and metrics (message events and metrics on), logging.
func (s *sinks) telemetry() (*otelrpc.Interceptor, *logging.Interceptor) {
	o := otelrpc.NewInterceptor(
		otelrpc.WithTracerProvider(s.tp),
		otelrpc.WithMeterProvider(s.mp),
		otelrpc.WithPropagators(propagation.TraceContext{}),
		otelrpc.WithMessageEvents(),
		otelrpc.WithMessageMetrics(),
	)
	return o, logging.New(slog.New(s.logs))
}

// texts returns every string the case recorded, each with where it was
// found.
func (s *sinks) texts(t *testing.T) []string {
	var out []string
	s.mu.Lock()
	out = append(out, s.errs...)
	s.mu.Unlock()
	for _, span := range s.spans.GetSpans() {
		where := "span " + span.Name
		out = append(out, where+" name: "+span.Name, where+" status: "+span.Status.Description)
		out = appendAttrs(out, where+" attribute", span.Attributes)
		for _, ev := range span.Events {
			out = append(out, where+" event: "+ev.Name)
			out = appendAttrs(out, where+" event "+ev.Name, ev.Attributes)
		}
		for _, l := range span.Links {
			out = appendAttrs(out, where+" link", l.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			where := "metric " + m.Name
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = appendAttrs(out, where, p.Attributes.ToSlice())
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out = appendAttrs(out, where, p.Attributes.ToSlice())
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out = appendAttrs(out, where, p.Attributes.ToSlice())
				}
			default:
				t.Fatalf("%s: data of type %T, which the test does not read", where, m.Data)
			}
		}
	}
	return append(out, s.logs.texts()...)
}

func appendAttrs(out []string, where string, kvs []attribute.KeyValue) []string {
	for _, kv := range kvs {
		out = append(out, where+" "+string(kv.Key)+"="+kv.Value.Emit())
	}
	return out
}

// recordCapture is a slog.Handler that keeps the text of every record,
// with the attributes and groups of the loggers derived from it.
type recordCapture struct {
	store  *recordStore
	attrs  []slog.Attr
	groups string
}

type recordStore struct {
	mu    sync.Mutex
	lines []string
}

func newRecordCapture() *recordCapture { return &recordCapture{store: &recordStore{}} }

func (h *recordCapture) texts() []string {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return append([]string(nil), h.store.lines...)
}

func (h *recordCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("log " + r.Message + ":")
	for _, a := range h.attrs {
		writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.groups, a)
		return true
	})
	h.store.mu.Lock()
	h.store.lines = append(h.store.lines, b.String())
	h.store.mu.Unlock()
	return nil
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, inner := range v.Group() {
			writeAttr(b, prefix+a.Key+".", inner)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%s", prefix, a.Key, v.String())
}

func (h *recordCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	for _, a := range attrs {
		c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], slog.Attr{Key: h.groups + a.Key, Value: a.Value})
	}
	return &c
}

func (h *recordCapture) WithGroup(name string) slog.Handler {
	c := *h
	c.groups += name + "."
	return &c
}

// leakServer serves the procedures of the leak test, instrumented with
// the case's sinks. done receives once for every call a handler ended,
// after every interceptor has recorded it.
type leakServer struct {
	transport string
	srv       transport.Server
	kill      func()
	reached   chan struct{} // the Killed handler is running
	release   chan struct{} // closed when the Killed handler may return
	done      chan struct{}
}

func startLeakServer(t *testing.T, name string, s *sinks) *leakServer {
	ls := &leakServer{transport: name, reached: make(chan struct{}, 1), release: make(chan struct{}), done: make(chan struct{}, 16)}
	o, l := s.telemetry()
	tap := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			err := next(ctx, conn)
			s.addError("handler", err)
			ls.done <- struct{}{}
			return err
		}
	})
	opts := rpc.WithHandlerInterceptors(tap, o, l, recovery.New(recovery.WithLogger(slog.New(s.logs))))
	mux := http.NewServeMux()
	handle := func(spec rpc.Spec, fn func(context.Context, *sv) (*sv, error)) {
		mux.Handle(spec.Procedure, rpc.NewUnaryHandler(spec, fn, opts))
	}
	handle(leakOK, func(_ context.Context, req *sv) (*sv, error) { return req, nil })
	handle(leakError, func(context.Context, *sv) (*sv, error) {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "the request was refused")
	})
	handle(leakPanic, func(context.Context, *sv) (*sv, error) { panic("leak test: the handler panics") })
	handle(leakDeadline, func(ctx context.Context, _ *sv) (*sv, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	handle(leakKilled, func(ctx context.Context, _ *sv) (*sv, error) {
		ls.reached <- struct{}{}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ls.release:
			return nil, rpc.NewError(rpc.CodeAborted, "released by the test")
		}
	})
	ls.srv, ls.kill = killable(t, name, mux)
	t.Cleanup(func() {
		select {
		case <-ls.release:
		default:
			close(ls.release)
		}
	})
	return ls
}

// waitHandler waits for a handler to end and be recorded.
func (ls *leakServer) waitHandler(t *testing.T) {
	select {
	case <-ls.done:
	case <-time.After(waitBound):
		t.Fatal("the handler did not end")
	}
}

// deadAddress returns a loopback address on which nothing listens: a port
// that was free a moment ago, of the transport's network.
func deadAddress(t *testing.T, name string) string {
	if name == transport.NameH3 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		_ = pc.Close()
		return addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// leakPath is one way for a call to end.
type leakPath struct {
	name string
	// run makes the call; it returns the client's error.
	run func(t *testing.T, ls *leakServer, call func(ctx context.Context, spec rpc.Spec, url string) error) error
	// wantCode is the client's code (0: success).
	wantCode rpc.Code
	// wantCodes are other codes the client may see instead.
	alsoCodes []rpc.Code
}

var leakPaths = []leakPath{
	{
		name: "success",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			err := call(context.Background(), leakOK, ls.srv.URL())
			ls.waitHandler(t)
			return err
		},
	},
	{
		name: "handler error",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			err := call(context.Background(), leakError, ls.srv.URL())
			ls.waitHandler(t)
			return err
		},
		wantCode: rpc.CodeInvalidArgument,
	},
	{
		name: "handler panics (recovered)",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			err := call(context.Background(), leakPanic, ls.srv.URL())
			ls.waitHandler(t)
			return err
		},
		wantCode: rpc.CodeInternal,
	},
	{
		name: "deadline",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			// The handler waits for its context, so the deadline passes
			// whatever the machine's speed; the server gets it too.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := call(ctx, leakDeadline, ls.srv.URL())
			ls.waitHandler(t)
			return err
		},
		wantCode: rpc.CodeDeadlineExceeded,
	},
	{
		name: "server closes the connection mid-call",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			errc := make(chan error, 1)
			go func() { errc <- call(context.Background(), leakKilled, ls.srv.URL()) }()
			select {
			case <-ls.reached:
			case err := <-errc:
				t.Fatalf("the call ended before reaching the handler: %v", err)
			case <-time.After(waitBound):
				t.Fatal("the call did not reach the handler")
			}
			ls.kill()
			err := <-errc
			close(ls.release)
			ls.waitHandler(t)
			return err
		},
		wantCode: rpc.CodeUnavailable,
		// HTTP/2 and HTTP/3 may see the connection's end as a reset stream.
		alsoCodes: []rpc.Code{rpc.CodeInternal, rpc.CodeCanceled},
	},
	{
		name: "URL of the wrong scheme",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			// A configuration mistake the transports explain in their
			// error: http:// to a TLS transport, https:// to a cleartext one.
			url := ls.srv.URL()
			if rest, ok := strings.CutPrefix(url, "https://"); ok {
				url = "http://" + rest
			} else {
				url = "https://" + strings.TrimPrefix(url, "http://")
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitBound)
			defer cancel()
			return call(ctx, leakOK, url)
		},
		wantCode:  rpc.CodeUnavailable,
		alsoCodes: []rpc.Code{rpc.CodeUnknown, rpc.CodeInternal, rpc.CodeDeadlineExceeded},
	},
	{
		name: "connection refused",
		run: func(t *testing.T, ls *leakServer, call func(context.Context, rpc.Spec, string) error) error {
			url := ls.srv.URL()
			scheme := url[:strings.Index(url, "://")+3]
			// A bound only: TCP refuses at once; QUIC may wait for its
			// handshake timeout.
			ctx, cancel := context.WithTimeout(context.Background(), waitBound)
			defer cancel()
			return call(ctx, leakOK, scheme+deadAddress(t, ls.transport))
		},
		wantCode:  rpc.CodeUnavailable,
		alsoCodes: []rpc.Code{rpc.CodeDeadlineExceeded},
	},
}

// TestNoPayloadLeaks is the leak test of issue 22.
func TestNoPayloadLeaks(t *testing.T) {
	needles := leakNeedles(t)
	for _, name := range transports {
		for _, lp := range leakProtocols {
			if !valid(name, lp.protocol) {
				continue
			}
			for _, path := range leakPaths {
				t.Run(name+"/"+lp.name+"/"+path.name, func(t *testing.T) {
					s := newSinks(t)
					ls := startLeakServer(t, name, s)
					httpClient := newClient(t, name)
					o, l := s.telemetry()
					call := func(ctx context.Context, spec rpc.Spec, url string) error {
						opts := append([]rpc.ClientOption{rpc.WithProtocol(lp.protocol), rpc.WithClientInterceptors(o, l)}, lp.opts...)
						c := rpc.NewClient[sv, sv](httpClient, url, spec, opts...)
						_, err := c.CallUnary(ctx, leakRequest)
						return err
					}
					err := path.run(t, ls, call)
					s.addError("client", err)
					if code := rpc.CodeOf(err); code != path.wantCode && !containsCode(path.alsoCodes, code) {
						t.Errorf("client error %v, want code %v", err, path.wantCode)
					}
					texts := s.texts(t)
					checkRecorded(t, texts, path.wantCode != 0)
					for _, text := range texts {
						for _, needle := range needles {
							if strings.Contains(text, needle) {
								t.Errorf("%q found in %s", needle, text)
								break
							}
						}
					}
				})
			}
		}
	}
}

func containsCode(codes []rpc.Code, c rpc.Code) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// checkRecorded makes sure the case looked at something: a client span
// and a log record, a client error when the call failed.
func checkRecorded(t *testing.T, texts []string, failed bool) {
	t.Helper()
	var span, log, clientErr bool
	for _, text := range texts {
		span = span || strings.HasPrefix(text, "span ")
		log = log || strings.HasPrefix(text, "log rpc call")
		clientErr = clientErr || strings.HasPrefix(text, "client: ")
	}
	if !span || !log || clientErr != failed {
		t.Fatalf("nothing to search: spans %v, log records %v, client error %v (want %v)", span, log, clientErr, failed)
	}
}

// TestLeakDetector checks that the leak test would see a leak: with
// logging's WithPayloads, which logs messages on purpose, the secret is
// found.
func TestLeakDetector(t *testing.T) {
	s := newSinks(t)
	mux := http.NewServeMux()
	l := logging.New(slog.New(s.logs), logging.WithPayloads())
	mux.Handle(leakOK.Procedure, rpc.NewUnaryHandler(leakOK, func(_ context.Context, req *sv) (*sv, error) { return req, nil }))
	srv := serve(t, transport.NameH2C, mux)
	c := rpc.NewClient[sv, sv](newClient(t, transport.NameH2C), srv.URL(), leakOK, rpc.WithClientInterceptors(l))
	if _, err := c.CallUnary(context.Background(), leakRequest); err != nil {
		t.Fatal(err)
	}
	for _, text := range s.texts(t) {
		if strings.Contains(text, leakSecret) {
			return
		}
	}
	t.Fatal("the secret, logged on purpose, was not found")
}
