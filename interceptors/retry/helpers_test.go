package retry_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// fakeTime is the retry interceptor's clock in tests: sleeping records the
// delay and moves the clock on at once, so no test waits for real time.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// block, if set, makes sleeps wait for a value (or the context).
	block chan struct{}
	// slept is told of each sleep as it begins, if set.
	slept chan time.Duration
}

func newFakeTime() *fakeTime { return &fakeTime{now: time.Now()} }

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	block, slept := f.block, f.slept
	f.mu.Unlock()
	if slept != nil {
		slept <- d
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// option installs f with a jitter of one half.
func (f *fakeTime) option() retry.Option {
	return retry.WithClock(f.Now, f.Sleep, func() float64 { return 0.5 })
}

// flakyServer serves the four kinds of method. It records each attempt's
// Polyconnect-Attempt header ("1" when absent) and fails the first failures
// attempts with code, before reading any request message. Otherwise it
// echoes (streams join or repeat the messages) and reports the attempt in
// the response header X-Attempt and the trailer X-Trailer.
type flakyServer struct {
	mu       sync.Mutex
	attempts []string
	failures int
	code     rpc.Code
	pushback string // grpc-retry-pushback-ms trailer on failures, if set
}

func (s *flakyServer) begin(ctx context.Context) error {
	info, _ := rpc.HandlerCallInfo(ctx)
	n := info.RequestHeader().Get(retry.AttemptHeader)
	if n == "" {
		n = "1"
	}
	s.mu.Lock()
	s.attempts = append(s.attempts, n)
	fail := s.failures > 0
	if fail {
		s.failures--
	}
	s.mu.Unlock()
	if fail {
		if s.pushback != "" {
			info.ResponseTrailer().Set("Grpc-Retry-Pushback-Ms", s.pushback)
		}
		info.ResponseTrailer().Set("X-Trailer", "failed "+n)
		return rpc.NewError(s.code, "attempt "+n+" failed")
	}
	info.ResponseHeader().Set("X-Attempt", n)
	info.ResponseHeader().Set("X-Inner", strings.Join(info.RequestHeader().Values("X-Inner"), ","))
	info.ResponseTrailer().Set("X-Trailer", "ok "+n)
	return nil
}

func (s *flakyServer) Attempts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.attempts...)
}

func (s *flakyServer) handlers() testsvc.Handlers {
	return testsvc.Handlers{
		Unary: func(ctx context.Context, req *testsvc.Msg) (*testsvc.Msg, error) {
			if err := s.begin(ctx); err != nil {
				return nil, err
			}
			return req, nil
		},
		ServerStream: func(ctx context.Context, req *testsvc.Msg, st *rpc.ServerStream[testsvc.Msg]) error {
			if err := s.begin(ctx); err != nil {
				return err
			}
			return st.Send(req)
		},
		ClientStream: func(ctx context.Context, st *rpc.ClientStream[testsvc.Msg]) (*testsvc.Msg, error) {
			if err := s.begin(ctx); err != nil {
				return nil, err
			}
			var ins []string
			for msg, err := range st.All() {
				if err != nil {
					return nil, err
				}
				ins = append(ins, msg.GetValue())
			}
			return wrapperspb.String(strings.Join(ins, ",")), nil
		},
		Bidi: func(ctx context.Context, st *rpc.BidiStream[testsvc.Msg, testsvc.Msg]) error {
			if err := s.begin(ctx); err != nil {
				return err
			}
			for msg, err := range st.All() {
				if err != nil {
					return err
				}
				if err := st.Send(msg); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// unreachable is an HTTP client whose first failures requests fail to
// connect, as a dial to a server that is down does.
type unreachable struct {
	inner    rpc.HTTPClient
	failures atomic.Int32
}

func (u *unreachable) Do(req *http.Request) (*http.Response, error) {
	if u.failures.Add(-1) >= 0 {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: syscall.ECONNREFUSED.Error(), Addr: req.URL.Host}}
	}
	return u.inner.Do(req)
}

// start serves s for variant v and returns clients at idempotency idem
// that go through hc (the server's own client if nil).
func start(t *testing.T, s *flakyServer, v testsvc.Variant, idem rpc.IdempotencyLevel, wrap func(rpc.HTTPClient) rpc.HTTPClient, opts ...rpc.ClientOption) testsvc.Clients {
	t.Helper()
	srv := rpctest.NewServer(t, testsvc.NewMux(s.handlers(), idem))
	var hc rpc.HTTPClient = v.HTTPClient(srv)
	if wrap != nil {
		hc = wrap(hc)
	}
	return testsvc.NewClients(hc, srv.URL(), v, idem, opts...)
}
