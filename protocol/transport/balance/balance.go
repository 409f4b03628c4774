package balance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

var errNoReplica = errors.New("balance: no replica to send the request to")

// Backend is the HTTP client for one replica address, as built by the
// newBackend function given to [New]: a transport.Client or an
// *http.Client both qualify. It must be safe for concurrent use.
type Backend interface {
	Do(*http.Request) (*http.Response, error)
	CloseIdleConnections()
}

// Client sends each request to one replica of its target; see the package
// documentation. It satisfies rpc.HTTPClient and is safe for concurrent
// use.
type Client struct {
	target          string
	resolver        Resolver
	static          bool
	newBackend      func(addr string) (Backend, error)
	policy          Policy
	interval        time.Duration
	ejectBase       time.Duration
	ejectMax        time.Duration
	keepUnavailable bool // 503/UNAVAILABLE answers do not eject
	clock           func() time.Time

	next atomic.Uint64 // rotates the start of each pick
	set  atomic.Pointer[endpointSet]

	// Re-resolution. nextLookup (unix nanoseconds) is when a request may
	// start the next lookup; read without the lock on every request.
	nextLookup atomic.Int64
	mu         sync.Mutex
	running    chan struct{} // closed when the running lookup ends; nil if none
	cancel     context.CancelFunc
	lastErr    error
	wg         sync.WaitGroup
}

// endpointSet is the replicas of one resolution; it is never modified.
type endpointSet struct {
	eps []*endpoint
}

// New returns a Client for target ("host:port", the logical address that
// requests are made to) whose replicas r finds. newBackend builds the HTTP
// client for one replica address; it is called once per address, the
// first time the address is resolved.
//
// A [Static] resolver is used at once, so New reports an empty list or a
// backend that cannot be built; other resolvers are first called by the
// first request.
func New(target string, r Resolver, newBackend func(addr string) (Backend, error), opts ...Option) (*Client, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("balance: target %q is not host:port: %w", target, err)
	}
	if r == nil || newBackend == nil {
		return nil, errors.New("balance: New needs a resolver and a backend constructor")
	}
	c := &Client{
		target:     target,
		resolver:   r,
		newBackend: newBackend,
		interval:   DefaultResolveInterval,
		ejectBase:  DefaultEjectionTime,
		ejectMax:   DefaultMaxEjectionTime,
		clock:      time.Now,
	}
	for _, o := range opts {
		o.apply(c)
	}
	if s, ok := r.(staticResolver); ok {
		c.static = true
		addrs, err := s.Resolve(context.Background())
		if err != nil {
			return nil, err
		}
		if err := c.apply(addrs); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Do sends req to a replica and returns its response. req's URL must be
// addressed to the Client's target; the copy sent to a replica has the
// replica's address in its URL and the target as its Host header. A
// request whose connection could not be dialled, or a safe one (GET, HEAD,
// OPTIONS, TRACE) whose exchange failed, is sent to the next replica, until
// each has been tried once. The caller must close the
// response body: the replica counts the request as in flight until then.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Host != c.target {
		closeBody(req)
		return nil, fmt.Errorf("balance: request for host %q sent to the balancer of %q", hostOf(req), c.target)
	}
	ctx := req.Context()
	set, err := c.endpoints(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}

	var hold *holdBody
	body := req.Body
	if body != nil && body != http.NoBody && req.GetBody == nil && len(set.eps) > 1 {
		hold = newHoldBody(body)
		body = hold
	}
	var tried []*endpoint
	err = errNoReplica
	for {
		now := c.clock()
		l, ok := c.pick(set.eps, now.UnixNano(), tried)
		if !ok {
			// Every replica refused a connection.
			if hold != nil {
				hold.settle()
			}
			return nil, err
		}
		r := new(http.Request)
		*r = *req
		u := *req.URL
		u.Host = l.ep.addr
		r.URL = &u
		if r.Host == "" {
			r.Host = c.target
		}
		r.Body = body
		resp, derr := l.ep.backend.Do(r)
		if derr == nil {
			if hold != nil {
				hold.settle()
			}
			if !c.keepUnavailable && unavailableAnswer(resp) {
				l.fail(c.clock(), c.ejectBase, c.ejectMax)
			} else {
				l.succeed()
			}
			resp.Body = &trackedBody{ReadCloser: resp.Body, c: c, ctx: ctx, l: l, resp: resp}
			return resp, nil
		}
		err = derr
		if ctx.Err() != nil {
			l.abandon()
			l.release()
			break
		}
		l.fail(c.clock(), c.ejectBase, c.ejectMax)
		l.release()
		c.lookupSoon(now)
		if !(notSent(derr) || safeToResend(req)) || (hold != nil && hold.touched.Load()) {
			break
		}
		if req.GetBody != nil && body != nil && body != http.NoBody {
			fresh, gerr := req.GetBody()
			if gerr != nil {
				break
			}
			body = fresh
		}
		tried = append(tried, l.ep)
	}
	if hold != nil {
		hold.settle()
	}
	return nil, err
}

// CloseIdleConnections closes the idle connections of every replica's
// backend. It also cancels and waits for a lookup in progress, so a Client
// that is no longer used holds no goroutine; a later request starts a new
// lookup if one is due.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	if set := c.set.Load(); set != nil {
		for _, ep := range set.eps {
			ep.backend.CloseIdleConnections()
		}
	}
}

// Addrs returns the replica addresses the Client sends requests to, in
// resolution order. It is meant for diagnostics.
func (c *Client) Addrs() []string {
	set := c.set.Load()
	if set == nil {
		return nil
	}
	addrs := make([]string, len(set.eps))
	for i, ep := range set.eps {
		addrs[i] = ep.addr
	}
	return addrs
}

// endpoints returns the current replicas, starting a lookup when they are
// due for one and waiting for it when there are none yet.
func (c *Client) endpoints(ctx context.Context) (*endpointSet, error) {
	set := c.set.Load()
	if c.static {
		return set, nil
	}
	running := c.refresh(c.clock())
	if set != nil {
		return set, nil
	}
	if running == nil {
		c.mu.Lock()
		err := c.lastErr
		c.mu.Unlock()
		return nil, fmt.Errorf("balance: no replica addresses for %s: %w", c.target, err)
	}
	select {
	case <-running:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if set = c.set.Load(); set != nil {
		return set, nil
	}
	c.mu.Lock()
	err := c.lastErr
	c.mu.Unlock()
	return nil, fmt.Errorf("balance: no replica addresses for %s: %w", c.target, err)
}

// refresh starts a lookup if one is due at now and returns the channel
// that closes when the running lookup ends, or nil if none runs.
func (c *Client) refresh(now time.Time) chan struct{} {
	if c.static || now.UnixNano() < c.nextLookup.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		return c.running
	}
	if now.UnixNano() < c.nextLookup.Load() {
		return nil
	}
	// No request starts another lookup while this one runs; the lookup
	// sets the time of the next.
	c.nextLookup.Store(now.Add(resolveTimeout).UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	running := make(chan struct{})
	c.running, c.cancel = running, cancel
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		addrs, err := c.resolver.Resolve(ctx)
		if err == nil && len(addrs) == 0 {
			err = errors.New("balance: the resolver found no addresses")
		}
		if err == nil {
			err = c.apply(addrs)
		}
		c.mu.Lock()
		next := c.clock().Add(c.interval)
		if err != nil {
			c.lastErr = err
			next = c.clock().Add(min(resolveRetry, c.interval))
		}
		c.nextLookup.Store(next.UnixNano())
		c.running, c.cancel = nil, nil
		c.mu.Unlock()
		close(running)
	}()
	return running
}

// lookupSoon brings the next lookup forward after a failure, since the
// replicas may have moved.
func (c *Client) lookupSoon(now time.Time) {
	if c.static {
		return
	}
	want := now.Add(resolveRetry).UnixNano()
	for {
		cur := c.nextLookup.Load()
		if cur <= want || c.nextLookup.CompareAndSwap(cur, want) {
			return
		}
	}
}

// apply makes addrs the replicas, keeping the endpoints of addresses
// already known, building backends for new ones and draining the ones
// gone. If no backend can be built, the previous replicas stay.
func (c *Client) apply(addrs []string) error {
	old := c.set.Load()
	known := map[string]*endpoint{}
	if old != nil {
		for _, ep := range old.eps {
			known[ep.addr] = ep
		}
	}
	next := &endpointSet{eps: make([]*endpoint, 0, len(addrs))}
	kept := map[string]bool{}
	var errs []error
	for _, addr := range addrs {
		if kept[addr] {
			continue
		}
		ep := known[addr]
		if ep == nil {
			b, err := c.newBackend(addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("balance: backend for %s: %w", addr, err))
				continue
			}
			ep = &endpoint{addr: addr, backend: b}
		}
		kept[addr] = true
		next.eps = append(next.eps, ep)
	}
	if len(next.eps) == 0 {
		return errors.Join(errs...)
	}
	c.set.Store(next)
	for addr, ep := range known {
		if !kept[addr] {
			ep.remove()
		}
	}
	return errors.Join(errs...)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func hostOf(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	return req.URL.Host
}

var _ io.ReadCloser = (*trackedBody)(nil)
