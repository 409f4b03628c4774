package balance

import (
	"fmt"
	"math"
	"slices"
)

// Policy chooses which usable replica takes a request.
type Policy uint8

const (
	// RoundRobin sends requests to the usable replicas in turn.
	RoundRobin Policy = iota
	// LeastLoaded sends each request to the usable replica with the fewest
	// requests in flight (streams count until their response ends), ties
	// broken in turn. It suits calls of uneven cost and replicas of uneven
	// speed; the scan costs O(replicas) per request.
	LeastLoaded
)

// String returns the policy's configuration name: "round_robin" or
// "least_loaded".
func (p Policy) String() string {
	switch p {
	case RoundRobin:
		return "round_robin"
	case LeastLoaded:
		return "least_loaded"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// ParsePolicy returns the policy named s: "round_robin" (or empty) or
// "least_loaded".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "round_robin":
		return RoundRobin, nil
	case "least_loaded":
		return LeastLoaded, nil
	}
	return 0, fmt.Errorf("balance: unknown policy %q (want \"round_robin\" or \"least_loaded\")", s)
}

// pick chooses an endpoint of eps not in tried and takes a lease on it. A
// replica due for a probe is probed by the first request that finds it; a
// usable one is chosen by the policy; if none is usable, the ejected
// replica due back soonest takes the request rather than failing it unsent.
func (c *Client) pick(eps []*endpoint, now int64, tried []*endpoint) (lease, bool) {
	n := len(eps)
	if n == 0 {
		return lease{}, false
	}
	start := int((c.next.Add(1) - 1) % uint64(n))
	var (
		best, fallback     *endpoint
		bestEpoch, fbEpoch uint64
		bestLoad                 = int64(math.MaxInt64)
		fbUntil            int64 = math.MaxInt64
	)
	for i := range n {
		ep := eps[(start+i)%n]
		if len(tried) > 0 && slices.Contains(tried, ep) {
			continue
		}
		epoch := ep.epoch.Load()
		switch ep.state(now) {
		case usable:
			if c.policy == RoundRobin {
				return ep.take(epoch, false), true
			}
			if load := ep.inflight.Load(); load < bestLoad {
				best, bestEpoch, bestLoad = ep, epoch, load
			}
			continue
		case probe:
			if ep.probing.CompareAndSwap(false, true) {
				return ep.take(epoch, true), true
			}
		}
		if u := ep.until.Load(); fallback == nil || u < fbUntil {
			fallback, fbEpoch, fbUntil = ep, epoch, u
		}
	}
	if best != nil {
		return best.take(bestEpoch, false), true
	}
	if fallback != nil {
		return fallback.take(fbEpoch, false), true
	}
	return lease{}, false
}
