package auth

import (
	"context"
	"sync"
	"time"
)

// Token is a credential with an optional expiry.
type Token struct {
	Value string
	// Expiry is when the token stops being valid; the zero time means
	// never.
	Expiry time.Time
}

// TokenSource returns tokens, such as OAuth 2 access tokens.
// Implementations must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc is a function that implements TokenSource.
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token implements TokenSource.
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// DefaultRefreshBefore is how long before its expiry CachedTokenSource
// replaces a token unless WithRefreshBefore says otherwise.
const DefaultRefreshBefore = time.Minute

// CacheOption configures CachedTokenSource.
type CacheOption interface{ applyCache(*cachedSource) }

type cacheOptionFunc func(*cachedSource)

func (f cacheOptionFunc) applyCache(c *cachedSource) { f(c) }

// WithRefreshBefore sets how long before a token's expiry a new one is
// fetched (DefaultRefreshBefore by default).
func WithRefreshBefore(d time.Duration) CacheOption {
	return cacheOptionFunc(func(c *cachedSource) { c.early = d })
}

// WithCacheClock sets the source of the current time, for tests; the
// default is time.Now.
func WithCacheClock(now func() time.Time) CacheOption {
	return cacheOptionFunc(func(c *cachedSource) { c.now = now })
}

// CachedTokenSource returns a TokenSource that keeps src's token until
// shortly before it expires (the refresh-before duration, or halfway through
// a shorter token's remaining life). One fetch runs at a time: callers that need a
// token while it runs wait for it (or for their context), and while the
// current token is still valid, callers keep using it and one fetch replaces
// it in the background. A failed fetch is reported to the callers that
// waited for it and tried again on the next call.
//
// A fetch runs with the first caller's context values but not its
// cancellation, so one caller giving up does not fail the others: src must
// bound its own time (an HTTP client timeout, say).
func CachedTokenSource(src TokenSource, opts ...CacheOption) TokenSource {
	c := &cachedSource{src: src, early: DefaultRefreshBefore, now: time.Now}
	for _, o := range opts {
		o.applyCache(c)
	}
	return c
}

type cachedSource struct {
	src   TokenSource
	early time.Duration
	now   func() time.Time

	mu        sync.Mutex
	tok       Token
	have      bool
	refreshAt time.Time // zero: never
	inflight  *fetch
}

type fetch struct {
	done chan struct{}
	tok  Token
	err  error
}

func (c *cachedSource) Token(ctx context.Context) (Token, error) {
	c.mu.Lock()
	now := c.now()
	tok := c.tok
	if c.have && (c.refreshAt.IsZero() || now.Before(c.refreshAt)) {
		c.mu.Unlock()
		return tok, nil
	}
	f := c.inflight
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		c.inflight = f
		go c.run(context.WithoutCancel(ctx), f)
	}
	stillValid := c.have && now.Before(tok.Expiry)
	c.mu.Unlock()
	if stillValid {
		return tok, nil
	}
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

func (c *cachedSource) run(ctx context.Context, f *fetch) {
	tok, err := c.src.Token(ctx)
	c.mu.Lock()
	if err == nil {
		c.tok, c.have = tok, true
		c.refreshAt = time.Time{}
		if !tok.Expiry.IsZero() {
			// Refresh early, but no earlier than halfway through the
			// token's life, so a short-lived token is not fetched again on
			// every call.
			early := min(c.early, max(tok.Expiry.Sub(c.now())/2, 0))
			c.refreshAt = tok.Expiry.Add(-early)
		}
	}
	c.inflight = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}
