package health

import (
	"strconv"
	"sync"
)

// Status is the serving status of a server or of one of its services, as
// grpc.health.v1 reports it.
type Status int32

// The statuses a [Checker] holds. The values are those of the wire enum
// grpc.health.v1.HealthCheckResponse.ServingStatus.
const (
	// StatusUnknown says that the status is not known yet.
	StatusUnknown Status = 0
	// StatusServing says that the service accepts calls.
	StatusServing Status = 1
	// StatusNotServing says that the service does not accept calls, for
	// instance while it starts, when a dependency is down or while the server
	// drains.
	StatusNotServing Status = 2
)

// String returns the wire name of the status: "UNKNOWN", "SERVING" or
// "NOT_SERVING" ("Status(N)" for any other value).
func (s Status) String() string {
	switch s {
	case StatusUnknown:
		return "UNKNOWN"
	case StatusServing:
		return "SERVING"
	case StatusNotServing:
		return "NOT_SERVING"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Checker holds the serving status of a server and of each of its services,
// and tells the watchers of a service when its status changes. The empty
// service name "" stands for the whole server. Serve it with [NewHandler].
//
// A Checker is safe for concurrent use; setting a status never blocks on slow
// watchers (a watcher that falls behind skips to the latest status).
type Checker struct {
	mu       sync.Mutex
	statuses map[string]Status
	watchers map[string]map[*watcher]struct{}
	shutdown bool
}

// watcher is one Watch call. wake holds at most one pending notification:
// the watcher reads the current status when it wakes, so notifications that
// arrive while it is busy sending merge into one.
type watcher struct {
	wake chan struct{}
}

// NewChecker returns a Checker in which the whole server ("") is
// [StatusServing] and no service is known yet.
func NewChecker() *Checker {
	return &Checker{
		statuses: map[string]Status{"": StatusServing},
		watchers: make(map[string]map[*watcher]struct{}),
	}
}

// SetStatus sets the status of a service, by its fully-qualified name such as
// "greet.v1.GreetService", or of the whole server for "". A service that was
// not known becomes known. After [Checker.Shutdown] the new status is kept but
// not reported until [Checker.Resume].
//
// SetStatus panics if status is not one of the Status constants.
func (c *Checker) SetStatus(service string, status Status) {
	switch status {
	case StatusUnknown, StatusServing, StatusNotServing:
	default:
		panic("health: SetStatus(" + strconv.Quote(service) + ", " + status.String() + "): not a settable status")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, known := c.statuses[service]
	c.statuses[service] = status
	if !known || prev != status {
		c.notifyLocked(service)
	}
}

// Remove forgets a service: Check answers NOT_FOUND for it again and its
// watchers see SERVICE_UNKNOWN. Removing "" makes the whole server unknown.
func (c *Checker) Remove(service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.statuses[service]; known {
		delete(c.statuses, service)
		c.notifyLocked(service)
	}
}

// Status returns the status that Check reports for a service, and whether
// the service is known. After [Checker.Shutdown] it is [StatusNotServing] for
// every service, known or not.
func (c *Checker) Status(service string) (Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked(service)
}

// Shutdown reports every service, and the whole server, as
// [StatusNotServing], whatever was set, and ends every Watch call after
// sending it that status; Watch calls made later end the same way. Call it
// when the server starts to drain, before shutting its transport down, so
// that load balancers stop sending calls and open Watch streams do not hold
// a graceful shutdown up.
//
// Statuses set during the shutdown are kept: [Checker.Resume] reports them.
func (c *Checker) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shutdown {
		return
	}
	c.shutdown = true
	for service := range c.watchers {
		c.notifyLocked(service)
	}
}

// Resume undoes [Checker.Shutdown]: every service reports the status last set
// for it again, and Watch calls no longer end on their own.
func (c *Checker) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.shutdown {
		return
	}
	c.shutdown = false
	for service := range c.watchers {
		c.notifyLocked(service)
	}
}

// list returns the reported status of every known service.
func (c *Checker) list() map[string]Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Status, len(c.statuses))
	for service := range c.statuses {
		out[service], _ = c.statusLocked(service)
	}
	return out
}

// statusLocked is Status with c.mu held.
func (c *Checker) statusLocked(service string) (Status, bool) {
	status, known := c.statuses[service]
	if c.shutdown {
		return StatusNotServing, known
	}
	return status, known
}

// watch registers a watcher of service; the caller must call unwatch when done.
func (c *Checker) watch(service string) *watcher {
	w := &watcher{wake: make(chan struct{}, 1)}
	w.wake <- struct{}{} // the current status is sent at once
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.watchers[service]
	if set == nil {
		set = make(map[*watcher]struct{})
		c.watchers[service] = set
	}
	set[w] = struct{}{}
	return w
}

// unwatch removes a watcher registered by watch.
func (c *Checker) unwatch(service string, w *watcher) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.watchers[service]
	delete(set, w)
	if len(set) == 0 {
		delete(c.watchers, service)
	}
}

// report is what Check and Watch answer for service: its status; whether
// there is one to report (the service is known, or the checker is shut down,
// when every name reads as NOT_SERVING); and whether the checker is shut down,
// which ends Watch calls.
func (c *Checker) report(service string) (status Status, found, shutdown bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	status, known := c.statusLocked(service)
	return status, known || c.shutdown, c.shutdown
}

// notifyLocked wakes every watcher of service without blocking.
func (c *Checker) notifyLocked(service string) {
	for w := range c.watchers[service] {
		select {
		case w.wake <- struct{}{}:
		default: // a notification is already pending
		}
	}
}
