package balance

import "time"

// Defaults for the options.
const (
	// DefaultResolveInterval is how old the addresses of a re-resolving
	// Client may get before a request starts a new lookup.
	DefaultResolveInterval = 30 * time.Second
	// DefaultEjectionTime is how long a failed replica is first left
	// alone.
	DefaultEjectionTime = 500 * time.Millisecond
	// DefaultMaxEjectionTime caps the doubling of the ejection time of a
	// replica that keeps failing its probes.
	DefaultMaxEjectionTime = 30 * time.Second
	// resolveTimeout bounds one lookup.
	resolveTimeout = 10 * time.Second
	// resolveRetry is the least time between lookups after one failed.
	resolveRetry = time.Second
)

// Option configures a [Client].
type Option interface{ apply(*Client) }

type optionFunc func(*Client)

func (f optionFunc) apply(c *Client) { f(c) }

// WithPolicy sets how a replica is chosen for each request; the default is
// [RoundRobin].
func WithPolicy(p Policy) Option { return optionFunc(func(c *Client) { c.policy = p }) }

// WithResolveInterval sets how old the addresses may get before a request
// starts a new lookup (default [DefaultResolveInterval]). It does not apply
// to a [Static] resolver, which is looked up once. Zero or less means the
// default.
func WithResolveInterval(d time.Duration) Option {
	return optionFunc(func(c *Client) {
		if d > 0 {
			c.interval = d
		}
	})
}

// WithUnavailableEjection sets whether a replica that answers "unavailable"
// (HTTP 503, or gRPC status UNAVAILABLE in the headers of a trailers-only
// response or in the trailers) is ejected like one whose connection fails.
// It is on by default: a replica shedding load or draining says so with
// these answers, and sending it more calls only makes them fail. The
// answer itself is returned to the caller, not resent: whether to try
// again is the retry policy's decision.
func WithUnavailableEjection(on bool) Option {
	return optionFunc(func(c *Client) { c.keepUnavailable = !on })
}

// WithEjection sets how long a failed replica is first ejected and the cap
// on the doubling after failed probes (defaults [DefaultEjectionTime] and
// [DefaultMaxEjectionTime]). Zero or less keeps a default.
func WithEjection(first, limit time.Duration) Option {
	return optionFunc(func(c *Client) {
		if first > 0 {
			c.ejectBase = first
		}
		if limit > 0 {
			c.ejectMax = limit
		}
	})
}
