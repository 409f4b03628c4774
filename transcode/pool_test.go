package transcode_test

// Tests of what the transcoder reuses or shares between calls: the context
// it gives the RPC handler (its own type, in the call's one allocation) and
// the recorders of unary responses, which go back to a pool.

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/transcode"
)

type ctxKey struct{}

// TestCallContextIsTheRequests checks that the RPC handler's context is the
// REST request's: its values, its deadline and its cancellation, with the
// route on top, and that contexts derived from it are cancelled with it.
func TestCallContextIsTheRequests(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	type result struct {
		value                any
		routeOK, hasDeadline bool
		err, derivedErr      error
	}
	results := make(chan result, 1)
	wait := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			derived, cancel := context.WithCancel(ctx)
			defer cancel()
			_, ok := transcode.RouteFromContext(derived)
			_, hasDeadline := ctx.Deadline()
			close(started)
			<-derived.Done() // the test cancels the REST request's context
			results <- result{ctx.Value(ctxKey{}), ok, hasDeadline, ctx.Err(), derived.Err()}
			return nil, ctx.Err()
		}
	})
	mux, _ := newLibrary(t, []rpc.HandlerOption{rpc.WithHandlerInterceptors(wait)})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "from the REST request"))
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/v1/shelves/s/books/b", nil)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		mux.ServeHTTP(w, r)
	}()
	<-started
	cancel()
	<-done
	got := <-results
	if got.value != "from the REST request" {
		t.Errorf("value %v, want the REST request's", got.value)
	}
	if !got.routeOK {
		t.Error("no route in a context derived from the call's")
	}
	if got.hasDeadline {
		t.Error("the call has a deadline; the REST request had none")
	}
	if !errors.Is(got.err, context.Canceled) || !errors.Is(got.derivedErr, context.Canceled) {
		t.Errorf("errors %v and %v, want context.Canceled", got.err, got.derivedErr)
	}
	if !strings.Contains(w.Body.String(), `"code":1,`) {
		t.Errorf("status %d, body %s; want CANCELED (code 1)", w.Code, w.Body)
	}
}

// TestPooledRecordersKeepCallsApart runs calls whose RPC handler sets a
// header and a trailer of its own value in turn and at once: a recorder
// back from the pool must carry nothing of the call before.
func TestPooledRecordersKeepCallsApart(t *testing.T) {
	t.Parallel()
	tag := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			info, _ := rpc.HandlerCallInfo(ctx)
			id := info.RequestHeader().Get("X-Id")
			// Only even calls set headers, so a stale one would show on an odd call.
			if n, _ := strconv.Atoi(id); n%2 == 0 {
				info.ResponseHeader().Set("X-Echo-"+id, id)
				info.ResponseTrailer().Set("X-Trailer-"+id, id)
			}
			return next(ctx, req)
		}
	})
	mux, _ := newLibrary(t, []rpc.HandlerOption{rpc.WithHandlerInterceptors(tag)})
	call := func(i int) error {
		id := strconv.Itoa(i)
		r := httptest.NewRequest("GET", "/v1/shelves/s/books/b"+id, nil)
		r.Header.Set("X-Id", id)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != 200 {
			return errors.New("call " + id + ": status " + strconv.Itoa(w.Code) + ": " + w.Body.String())
		}
		var echoes []string
		for k := range w.Header() {
			if len(k) > 7 && (k[:7] == "X-Echo-" || k[:7] == "X-Trail") {
				echoes = append(echoes, k)
			}
		}
		if i%2 == 0 {
			if len(echoes) != 2 || w.Header().Get("X-Echo-"+id) != id || w.Header().Get("X-Trailer-"+id) != id {
				return fmt.Errorf("call %s: headers %q, want its own two", id, echoes)
			}
		} else if len(echoes) != 0 {
			return errors.New("call " + id + ": stale headers " + echoes[0])
		}
		if want := `"name":"shelves/s/books/b` + id + `"`; !strings.Contains(w.Body.String(), want) {
			return errors.New("call " + id + ": body " + w.Body.String())
		}
		return nil
	}
	for i := range 50 {
		if err := call(i); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			if err := call(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
