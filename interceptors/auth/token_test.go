package auth_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"polyconnect.dev/interceptors/auth"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// source hands out "t1", "t2", … valid for life; each fetch waits for a
// value on release when gated, and reports on fetched when it is done.
type source struct {
	clock   *fakeClock
	life    time.Duration
	gated   bool
	release chan error
	fetched chan string

	mu sync.Mutex
	n  int
}

func newSource(clock *fakeClock, life time.Duration) *source {
	return &source{clock: clock, life: life, release: make(chan error), fetched: make(chan string, 100)}
}

func (s *source) Token(context.Context) (auth.Token, error) {
	if s.gated {
		if err := <-s.release; err != nil {
			s.fetched <- "error"
			return auth.Token{}, err
		}
	}
	s.mu.Lock()
	s.n++
	v := "t" + strconv.Itoa(s.n)
	s.mu.Unlock()
	s.fetched <- v
	return auth.Token{Value: v, Expiry: s.clock.Now().Add(s.life)}, nil
}

func (s *source) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func get(t *testing.T, src auth.TokenSource) string {
	t.Helper()
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

func TestCachedTokenSource(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src := newSource(clock, 10*time.Minute)
	cached := auth.CachedTokenSource(src, auth.WithCacheClock(clock.Now), auth.WithRefreshBefore(time.Minute))

	if got := get(t, cached); got != "t1" {
		t.Fatalf("first token %q", got)
	}
	clock.Advance(8 * time.Minute)
	if got := get(t, cached); got != "t1" || src.count() != 1 {
		t.Fatalf("within its life the token was fetched again: %q, %d fetches", got, src.count())
	}
	// In the refresh window: the valid token is used while one fetch runs.
	clock.Advance(90 * time.Second)
	if got := get(t, cached); got != "t1" {
		t.Fatalf("in the refresh window: %q, want the current t1", got)
	}
	<-src.fetched // t1
	if got := <-src.fetched; got != "t2" {
		t.Fatalf("background fetch got %q", got)
	}
	// The background fetch stores its token before it reports.
	waitFor(t, func() bool { return get(t, cached) == "t2" })

	// Past the expiry, callers wait for the fetch.
	clock.Advance(time.Hour)
	if got := get(t, cached); got != "t3" {
		t.Fatalf("after expiry: %q, want a fresh t3", got)
	}
}

// waitFor polls cond: the background fetch finishes on its own goroutine.
// Bounded by the test's deadline, not by a timer.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// Concurrent callers without a valid token share one fetch.
func TestCachedTokenSourceSingleFetch(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src := newSource(clock, time.Hour)
	src.gated = true
	cached := auth.CachedTokenSource(src, auth.WithCacheClock(clock.Now))
	const callers = 8
	results := make(chan string, callers)
	for range callers {
		go func() {
			tok, err := cached.Token(context.Background())
			if err != nil {
				results <- err.Error()
				return
			}
			results <- tok.Value
		}()
	}
	src.release <- nil
	for range callers {
		if got := <-results; got != "t1" {
			t.Errorf("caller got %q", got)
		}
	}
	if n := src.count(); n != 1 {
		t.Errorf("%d fetches for concurrent callers, want 1", n)
	}
}

// A failed fetch reaches the callers that waited for it; the next call
// tries again. A caller that gives up does not fail the fetch.
func TestCachedTokenSourceErrors(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src := newSource(clock, time.Hour)
	src.gated = true
	cached := auth.CachedTokenSource(src, auth.WithCacheClock(clock.Now))

	errc := make(chan error, 1)
	go func() {
		_, err := cached.Token(context.Background())
		errc <- err
	}()
	boom := errors.New("boom")
	src.release <- boom
	if err := <-errc; !errors.Is(err, boom) {
		t.Fatalf("got %v, want the fetch's error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := cached.Token(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller got %v", err)
	}
	src.release <- nil // the fetch goes on without the caller
	if got := <-src.fetched; got != "error" {
		t.Fatalf("first fetch reported %q", got)
	}
	if got := <-src.fetched; got != "t1" {
		t.Fatalf("second fetch reported %q", got)
	}
	waitFor(t, func() bool {
		tok, err := cached.Token(context.Background())
		return err == nil && tok.Value == "t1"
	})
	if n := src.count(); n != 1 {
		t.Errorf("%d successful fetches, want 1", n)
	}
}

// A token shorter-lived than the refresh margin is refreshed halfway
// through its life, not on every call.
func TestCachedTokenSourceShortLived(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src := newSource(clock, 40*time.Second)
	cached := auth.CachedTokenSource(src, auth.WithCacheClock(clock.Now), auth.WithRefreshBefore(time.Minute))
	get(t, cached)
	clock.Advance(19 * time.Second)
	for range 5 {
		get(t, cached)
	}
	if n := src.count(); n != 1 {
		t.Fatalf("%d fetches before half the life, want 1", n)
	}
	clock.Advance(2 * time.Second)
	get(t, cached)
	waitFor(t, func() bool { return src.count() == 2 })
}

// Tokens without an expiry are fetched once.
func TestCachedTokenSourceNoExpiry(t *testing.T) {
	n := 0
	cached := auth.CachedTokenSource(auth.TokenSourceFunc(func(context.Context) (auth.Token, error) {
		n++
		return auth.Token{Value: "forever"}, nil
	}))
	for range 3 {
		get(t, cached)
	}
	if n != 1 {
		t.Fatalf("%d fetches", n)
	}
}
