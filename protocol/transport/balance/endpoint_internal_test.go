package balance

import (
	"net/http"
	"testing"
	"time"
)

type nopBackend struct{ closes int }

func (*nopBackend) Do(*http.Request) (*http.Response, error) { return nil, nil }
func (b *nopBackend) CloseIdleConnections()                  { b.closes++ }

func TestBackoffDoublesWithinBounds(t *testing.T) {
	base, limit := 100*time.Millisecond, time.Second
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		for range 50 {
			got := backoff(n, base, limit)
			if lo, hi := time.Duration(float64(want)*0.8), time.Duration(float64(want)*1.2); got < lo || got > hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, got, lo, hi)
			}
		}
	}
}

func TestEjectionStateMachine(t *testing.T) {
	c := &Client{policy: RoundRobin, ejectBase: time.Second, ejectMax: 4 * time.Second}
	ep := &endpoint{addr: "a:1", backend: &nopBackend{}}
	eps := []*endpoint{ep}
	t0 := time.Unix(1000, 0)

	// Many calls in flight when the replica dies: one ejection, not many.
	var ls []lease
	for range 10 {
		l, ok := c.pick(eps, t0.UnixNano(), nil)
		if !ok || l.probe {
			t.Fatalf("pick on a healthy replica: %+v, %v", l, ok)
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		l.fail(t0, c.ejectBase, c.ejectMax)
		l.release()
	}
	if ep.ejections != 1 || ep.state(t0.UnixNano()) != ejected {
		t.Fatalf("after 10 concurrent failures: %d ejections, state %v", ep.ejections, ep.state(t0.UnixNano()))
	}
	// A late success of a call from before the ejection changes nothing.
	old := lease{ep: ep, epoch: 0}
	old.succeed()
	if ep.state(t0.UnixNano()) != ejected {
		t.Fatal("a stale success brought the replica back")
	}

	// Ejected and nothing else: the fallback still picks it, not as a probe.
	l, ok := c.pick(eps, t0.UnixNano(), nil)
	if !ok || l.probe {
		t.Fatalf("fallback pick: %+v, %v", l, ok)
	}
	l.abandon()
	l.release()

	// After the ejection: one probe at a time.
	t1 := t0.Add(2 * time.Second)
	p, ok := c.pick(eps, t1.UnixNano(), nil)
	if !ok || !p.probe {
		t.Fatalf("pick after the ejection: %+v, %v, want a probe", p, ok)
	}
	if q, _ := c.pick(eps, t1.UnixNano(), nil); q.probe {
		t.Fatal("a second probe while the first is in flight")
	} else {
		q.release()
	}
	// The probe fails: ejected again, for about twice as long.
	p.fail(t1, c.ejectBase, c.ejectMax)
	p.release()
	if ep.ejections != 2 {
		t.Fatalf("ejections = %d, want 2", ep.ejections)
	}
	if d := time.Duration(ep.until.Load() - t1.UnixNano()); d < 1600*time.Millisecond || d > 2400*time.Millisecond {
		t.Fatalf("second ejection lasts %v, want about 2s", d)
	}
	// The next probe succeeds: healthy, and the backoff starts over.
	t2 := t1.Add(3 * time.Second)
	p, _ = c.pick(eps, t2.UnixNano(), nil)
	if !p.probe {
		t.Fatal("no probe after the second ejection")
	}
	p.succeed()
	p.release()
	if ep.state(t2.UnixNano()) != usable || ep.ejections != 0 || ep.probing.Load() || ep.inflight.Load() != 0 {
		t.Fatalf("after a good probe: state %v, %d ejections, probing %v, %d in flight", ep.state(t2.UnixNano()), ep.ejections, ep.probing.Load(), ep.inflight.Load())
	}
}

func TestRemovedEndpointClosesWhenDrained(t *testing.T) {
	b := &nopBackend{}
	ep := &endpoint{addr: "a:1", backend: b}
	l := ep.take(0, false)
	ep.remove()
	if b.closes != 0 {
		t.Fatal("idle connections closed under a request in flight")
	}
	l.release()
	if b.closes != 1 {
		t.Fatalf("closes = %d after the last request, want 1", b.closes)
	}
}
