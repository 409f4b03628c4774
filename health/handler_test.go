package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"polyconnect.dev/health"
	"polyconnect.dev/health/internal/healthv1"
	"polyconnect.dev/health/internal/healthv1/healthv1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// clientCase is one way of calling the service: a protocol, a codec and an
// HTTP version.
type clientCase struct {
	name  string
	http2 bool
	opts  []rpc.ClientOption
}

var clientCases = []clientCase{
	{name: "connect-http1", opts: nil},
	{name: "connect-json-h2c", http2: true, opts: []rpc.ClientOption{rpc.WithProtoJSON()}},
	{name: "grpc-h2c", http2: true, opts: []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC)}},
	{name: "grpcweb-http1", opts: []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb)}},
}

// served mounts checker's handler on an in-memory server. done receives one
// value each time a call's handler returns, so tests can wait for a Watch to
// end on the server side.
type served struct {
	srv  *rpctest.Server
	done chan string
}

func serve(t *testing.T, checker *health.Checker) *served {
	t.Helper()
	path, h := health.NewHandler(checker)
	if path != "/grpc.health.v1.Health/" {
		t.Fatalf("mount path %q", path)
	}
	s := &served{done: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			select {
			case s.done <- r.URL.Path:
			default:
			}
		}()
		h.ServeHTTP(w, r)
	}))
	s.srv = rpctest.NewServer(t, mux)
	return s
}

func (s *served) client(c clientCase) healthv1rpc.HealthClient {
	hc := s.srv.Client()
	if c.http2 {
		hc = s.srv.HTTP2Client()
	}
	return healthv1rpc.NewHealthClient(hc, s.srv.URL(), c.opts...)
}

func check(ctx context.Context, t *testing.T, c healthv1rpc.HealthClient, service string) (healthv1.HealthCheckResponse_ServingStatus, error) {
	t.Helper()
	res, err := c.Check(ctx, &healthv1.HealthCheckRequest{Service: service})
	if err != nil {
		return 0, err
	}
	return res.GetStatus(), nil
}

func wantStatus(ctx context.Context, t *testing.T, c healthv1rpc.HealthClient, service string, want healthv1.HealthCheckResponse_ServingStatus) {
	t.Helper()
	got, err := check(ctx, t, c, service)
	if err != nil || got != want {
		t.Fatalf("Check(%q) = %v, %v; want %v", service, got, err, want)
	}
}

func wantNotFound(ctx context.Context, t *testing.T, c healthv1rpc.HealthClient, service string) {
	t.Helper()
	got, err := check(ctx, t, c, service)
	if rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("Check(%q) = %v, %v; want a NOT_FOUND error", service, got, err)
	}
}

func TestCheck(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name, func(t *testing.T) {
			ctx := t.Context()
			checker := health.NewChecker()
			c := serve(t, checker).client(cc)

			wantStatus(ctx, t, c, "", healthv1.HealthCheckResponse_SERVING)
			wantNotFound(ctx, t, c, "greet.v1.GreetService")

			checker.SetStatus("greet.v1.GreetService", health.StatusNotServing)
			checker.SetStatus("other.v1.Other", health.StatusUnknown)
			wantStatus(ctx, t, c, "greet.v1.GreetService", healthv1.HealthCheckResponse_NOT_SERVING)
			wantStatus(ctx, t, c, "other.v1.Other", healthv1.HealthCheckResponse_UNKNOWN)
			checker.SetStatus("greet.v1.GreetService", health.StatusServing)
			wantStatus(ctx, t, c, "greet.v1.GreetService", healthv1.HealthCheckResponse_SERVING)

			checker.Shutdown()
			wantStatus(ctx, t, c, "", healthv1.HealthCheckResponse_NOT_SERVING)
			wantStatus(ctx, t, c, "greet.v1.GreetService", healthv1.HealthCheckResponse_NOT_SERVING)
			wantStatus(ctx, t, c, "never.set.Service", healthv1.HealthCheckResponse_NOT_SERVING)
			checker.SetStatus("greet.v1.GreetService", health.StatusNotServing) // kept for Resume
			checker.SetStatus("late.v1.Late", health.StatusServing)
			wantStatus(ctx, t, c, "late.v1.Late", healthv1.HealthCheckResponse_NOT_SERVING)

			checker.Resume()
			wantStatus(ctx, t, c, "", healthv1.HealthCheckResponse_SERVING)
			wantStatus(ctx, t, c, "greet.v1.GreetService", healthv1.HealthCheckResponse_NOT_SERVING)
			wantStatus(ctx, t, c, "late.v1.Late", healthv1.HealthCheckResponse_SERVING)
			wantNotFound(ctx, t, c, "never.set.Service")

			checker.Remove("greet.v1.GreetService")
			wantNotFound(ctx, t, c, "greet.v1.GreetService")
			checker.Remove("")
			wantNotFound(ctx, t, c, "")
		})
	}
}

// TestCheckHTTPGet calls Check the way a plain HTTP health probe can: a Connect
// GET with the request in the query string, answered with JSON.
func TestCheckHTTPGet(t *testing.T) {
	checker := health.NewChecker()
	s := serve(t, checker)
	get := func(service string) (int, map[string]any) {
		t.Helper()
		q := url.Values{"encoding": {"json"}, "message": {`{"service":"` + service + `"}`}}
		res, err := s.srv.Client().Get(s.srv.URL() + healthv1rpc.HealthCheckProcedure + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("GET: status %d, body: %v", res.StatusCode, err)
		}
		return res.StatusCode, body
	}
	if code, body := get(""); code != http.StatusOK || body["status"] != "SERVING" {
		t.Errorf("GET Check(\"\") = %d %v; want 200 SERVING", code, body)
	}
	if code, body := get("missing.v1.Missing"); code != http.StatusNotFound || body["code"] != "not_found" {
		t.Errorf("GET Check(missing) = %d %v; want 404 not_found", code, body)
	}

	// The generated Connect client uses GET by itself for Check and List.
	var methods []string
	var mu sync.Mutex
	path, h := health.NewHandler(checker)
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	srv := rpctest.NewServer(t, mux)
	c := healthv1rpc.NewHealthClient(srv.Client(), srv.URL())
	wantStatus(t.Context(), t, c, "", healthv1.HealthCheckResponse_SERVING)
	if _, err := c.List(t.Context(), &healthv1.HealthListRequest{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(methods) != 2 || methods[0] != http.MethodGet || methods[1] != http.MethodGet {
		t.Errorf("HTTP methods %v; want [GET GET]", methods)
	}
}

func TestList(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name, func(t *testing.T) {
			checker := health.NewChecker()
			c := serve(t, checker).client(cc)
			checker.SetStatus("a.v1.A", health.StatusServing)
			checker.SetStatus("b.v1.B", health.StatusNotServing)
			list := func() map[string]healthv1.HealthCheckResponse_ServingStatus {
				t.Helper()
				res, err := c.List(t.Context(), &healthv1.HealthListRequest{})
				if err != nil {
					t.Fatal(err)
				}
				out := make(map[string]healthv1.HealthCheckResponse_ServingStatus)
				for name, st := range res.GetStatuses() {
					out[name] = st.GetStatus()
				}
				return out
			}
			want := map[string]healthv1.HealthCheckResponse_ServingStatus{
				"":       healthv1.HealthCheckResponse_SERVING,
				"a.v1.A": healthv1.HealthCheckResponse_SERVING,
				"b.v1.B": healthv1.HealthCheckResponse_NOT_SERVING,
			}
			if got := list(); !equalStatuses(got, want) {
				t.Errorf("List = %v; want %v", got, want)
			}
			checker.Shutdown()
			for name := range want {
				want[name] = healthv1.HealthCheckResponse_NOT_SERVING
			}
			if got := list(); !equalStatuses(got, want) {
				t.Errorf("List after Shutdown = %v; want %v", got, want)
			}
		})
	}
}

func equalStatuses(a, b map[string]healthv1.HealthCheckResponse_ServingStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// watchStream is a Watch call whose messages a test takes one at a time.
type watchStream struct {
	t      *testing.T
	stream *rpc.ServerStreamCall[healthv1.HealthCheckResponse]
	cancel context.CancelFunc
}

func watch(t *testing.T, c healthv1rpc.HealthClient, service string) *watchStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stream, err := c.Watch(ctx, &healthv1.HealthCheckRequest{Service: service})
	if err != nil {
		cancel()
		t.Fatalf("Watch(%q): %v", service, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = stream.Close()
	})
	return &watchStream{t: t, stream: stream, cancel: cancel}
}

// next waits for the next status; the test's deadline bounds the wait.
func (w *watchStream) next(want healthv1.HealthCheckResponse_ServingStatus) {
	w.t.Helper()
	res, err := w.stream.Receive()
	if err != nil {
		w.t.Fatalf("Watch: Receive: %v; want %v", err, want)
	}
	if res.GetStatus() != want {
		w.t.Fatalf("Watch: got %v; want %v", res.GetStatus(), want)
	}
}

// end expects the stream to end without an error.
func (w *watchStream) end() {
	w.t.Helper()
	res, err := w.stream.Receive()
	if !errors.Is(err, io.EOF) {
		w.t.Fatalf("Watch: Receive = %v, %v; want the end of the stream", res, err)
	}
}

func TestWatch(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name, func(t *testing.T) {
			checker := health.NewChecker()
			s := serve(t, checker)
			c := s.client(cc)

			server := watch(t, c, "")
			server.next(healthv1.HealthCheckResponse_SERVING)

			svc := watch(t, c, "greet.v1.GreetService")
			svc.next(healthv1.HealthCheckResponse_SERVICE_UNKNOWN)
			checker.SetStatus("greet.v1.GreetService", health.StatusNotServing)
			svc.next(healthv1.HealthCheckResponse_NOT_SERVING)
			// Setting the same status again sends nothing: the next message
			// is the next change.
			checker.SetStatus("greet.v1.GreetService", health.StatusNotServing)
			checker.SetStatus("greet.v1.GreetService", health.StatusServing)
			svc.next(healthv1.HealthCheckResponse_SERVING)
			checker.Remove("greet.v1.GreetService")
			svc.next(healthv1.HealthCheckResponse_SERVICE_UNKNOWN)
			checker.SetStatus("greet.v1.GreetService", health.StatusServing)
			svc.next(healthv1.HealthCheckResponse_SERVING)

			// Statuses of other services do not reach this watcher.
			checker.SetStatus("other.v1.Other", health.StatusNotServing)
			checker.SetStatus("", health.StatusNotServing)
			server.next(healthv1.HealthCheckResponse_NOT_SERVING)
			checker.SetStatus("greet.v1.GreetService", health.StatusUnknown)
			svc.next(healthv1.HealthCheckResponse_UNKNOWN)

			// Shutdown sends NOT_SERVING and ends every stream; the server
			// watcher already saw NOT_SERVING, so it only sees the end.
			checker.Shutdown()
			svc.next(healthv1.HealthCheckResponse_NOT_SERVING)
			svc.end()
			server.end()

			// A Watch during the shutdown gets NOT_SERVING and ends.
			late := watch(t, c, "unknown.v1.Unknown")
			late.next(healthv1.HealthCheckResponse_NOT_SERVING)
			late.end()

			// After Resume, watching works again.
			checker.Resume()
			again := watch(t, c, "greet.v1.GreetService")
			again.next(healthv1.HealthCheckResponse_UNKNOWN)
			checker.SetStatus("greet.v1.GreetService", health.StatusServing)
			again.next(healthv1.HealthCheckResponse_SERVING)
		})
	}
}

// TestWatchEndsWhenClientGoesAway checks that a Watch handler returns, and
// forgets its watcher, once the client cancels.
func TestWatchEndsWhenClientGoesAway(t *testing.T) {
	for _, cc := range clientCases {
		t.Run(cc.name, func(t *testing.T) {
			checker := health.NewChecker()
			s := serve(t, checker)
			w := watch(t, s.client(cc), "greet.v1.GreetService")
			w.next(healthv1.HealthCheckResponse_SERVICE_UNKNOWN)
			if n := health.WatcherCount(checker); n != 1 {
				t.Fatalf("%d watchers; want 1", n)
			}
			w.cancel()
			if path := <-s.done; path != healthv1rpc.HealthWatchProcedure {
				t.Fatalf("handler for %s returned; want Watch", path)
			}
			if n := health.WatcherCount(checker); n != 0 {
				t.Fatalf("%d watchers after the client went away; want 0", n)
			}
			// The checker goes on working for others.
			checker.SetStatus("greet.v1.GreetService", health.StatusServing)
			wantStatus(t.Context(), t, s.client(cc), "greet.v1.GreetService", healthv1.HealthCheckResponse_SERVING)
		})
	}
}

// TestWatchConcurrentUpdates races many setters against several watchers:
// every watcher must end up at the last status set, whatever it skipped.
func TestWatchConcurrentUpdates(t *testing.T) {
	checker := health.NewChecker()
	s := serve(t, checker)
	c := s.client(clientCases[2]) // gRPC over h2c: many streams on one connection
	const service = "busy.v1.Busy"
	var watchers []*watchStream
	for range 4 {
		w := watch(t, c, service)
		w.next(healthv1.HealthCheckResponse_SERVICE_UNKNOWN)
		watchers = append(watchers, w)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				if (i+j)%2 == 0 {
					checker.SetStatus(service, health.StatusServing)
				} else {
					checker.SetStatus(service, health.StatusNotServing)
				}
			}
		})
	}
	wg.Wait()
	checker.SetStatus(service, health.StatusUnknown) // differs from both values above
	for _, w := range watchers {
		var last healthv1.HealthCheckResponse_ServingStatus = -1
		for {
			res, err := w.stream.Receive()
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if res.GetStatus() == last {
				t.Fatalf("the same status %v twice in a row", last)
			}
			last = res.GetStatus()
			if last == healthv1.HealthCheckResponse_UNKNOWN {
				break
			}
		}
	}
}

func TestSetStatusRejectsOtherValues(t *testing.T) {
	for _, status := range []health.Status{-1, 3, 42} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetStatus(%v) did not panic", status)
				}
			}()
			health.NewChecker().SetStatus("x", status)
		}()
	}
}

func TestStatusString(t *testing.T) {
	for status, want := range map[health.Status]string{
		health.StatusUnknown:    "UNKNOWN",
		health.StatusServing:    "SERVING",
		health.StatusNotServing: "NOT_SERVING",
		7:                       "Status(7)",
	} {
		if got := status.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int32(status), got, want)
		}
	}
}
