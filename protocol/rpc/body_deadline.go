package rpc

import (
	"net/http"
	"time"
)

// bodyDeadline bounds a handler's reads of the request body by the call's
// deadline (Connect-Timeout-Ms, grpc-timeout), through the ResponseWriter's
// read deadline: a client that dribbles its request, or stops sending
// without ending it, cannot hold a handler blocked in Receive past the
// deadline, whether or not it ever cancels.
type bodyDeadline struct {
	at  time.Time // zero: the call has no deadline
	set bool      // the read deadline is set on the ResponseWriter
}

// start sets the read deadline timeout from now.
func (d *bodyDeadline) start(w http.ResponseWriter, timeout time.Duration) {
	d.at = time.Now().Add(timeout)
	d.set = http.NewResponseController(w).SetReadDeadline(d.at) == nil
}

// done clears the read deadline once the body has been read to its end.
// Over HTTP/1.1 net/http keeps reading the connection after that, to notice
// a client that goes away, and a read deadline passing there would cancel
// the call's context: the call would end as Canceled instead of
// DeadlineExceeded.
func (d *bodyDeadline) done(w http.ResponseWriter) {
	if d.set {
		d.set = false
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
}

// passed reports whether the call's deadline has passed.
func (d *bodyDeadline) passed() bool { return !d.at.IsZero() && !time.Now().Before(d.at) }
