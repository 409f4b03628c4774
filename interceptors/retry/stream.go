package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
)

// WrapClientStream implements rpc.ClientInterceptor. The first attempt
// opens with the call (an attempt refused as it opens fails the call);
// later ones open when the one before fails in a way that may be retried.
func (i *interceptor) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	if i.cfg.maxAttempts <= 1 {
		return next
	}
	if !idempotent(spec) && !i.cfg.codes[rpc.CodeUnavailable] && i.cfg.retryable == nil {
		// Only a call the server never received could be retried, and
		// that fails with UNAVAILABLE, which is not retried.
		return next
	}
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		caller, ok := rpc.ClientCallInfo(ctx)
		if !ok {
			return next(ctx)
		}
		c := i.callConfig(ctx)
		if c.maxAttempts <= 1 {
			return next(ctx)
		}
		first, err := next(ctx)
		if err != nil {
			return nil, err
		}
		return &stream{cfg: c, ctx: ctx, spec: spec, next: next, caller: caller, cur: first, n: 1}, nil
	}
}

// stream is a client stream that may be retried until it is committed: a
// response (message or end) has arrived, or a message was sent that cannot
// be sent again. Its first attempt is open from the start, but its request
// starts with the first Send, CloseRequest or Receive: the caller's request
// headers as they are then are what later attempts start from.
//
// Send and CloseRequest run on one goroutine, Receive and CloseResponse on
// one (possibly another); mu guards the attempt and the replay state they
// share. A message is sent again on a new attempt exactly once: if Send
// recorded it before the new attempt was opened, the opening replays it;
// otherwise Send sends it on the new attempt itself.
type stream struct {
	cfg    *config
	ctx    context.Context
	spec   rpc.Spec
	next   rpc.ClientStreamFunc
	caller *rpc.CallInfo

	mu        sync.Mutex
	cur       rpc.StreamingClientConn // the current attempt
	info      *rpc.CallInfo           // cur's call info; nil for the first attempt, which has the caller's
	started   bool                    // the first operation has taken headers
	headers   http.Header             // the caller's request headers at the first operation
	n         int                     // cur's attempt number
	committed bool
	sent      []proto.Message // copies of the messages sent, for replay
	sentBytes int
	nsent     int
	overflow  bool // a message was sent that is not in sent
	closedReq bool
}

// conn returns the current attempt.
func (s *stream) conn() rpc.StreamingClientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start()
	return s.cur
}

// start takes the caller's request headers for later attempts at the
// first operation, when the first attempt's request starts; s.mu is held.
func (s *stream) start() {
	if !s.started {
		s.started = true
		s.headers = snapshot(s.caller)
	}
}

// open starts attempt s.n+1, replaying what the caller sent; s.mu is held.
func (s *stream) open() error {
	ctx, info := newAttempt(s.ctx, s.headers, s.n+1)
	conn, err := s.next(ctx)
	if err != nil {
		return err
	}
	s.n++
	s.cur, s.info = conn, info
	for _, msg := range s.sent {
		if err := s.cur.Send(msg); err != nil {
			break // the attempt failed already; Receive reports it
		}
	}
	if s.closedReq {
		_ = s.cur.CloseRequest()
	}
	return nil
}

func (s *stream) Spec() rpc.Spec { return s.spec }

func (s *stream) Peer() rpc.Peer { return s.current().Peer() }

// RequestHeader returns the caller's request headers, which every attempt
// starts from.
func (s *stream) RequestHeader() http.Header { return s.caller.RequestHeader() }

func (s *stream) ResponseHeader() http.Header { return s.current().ResponseHeader() }

func (s *stream) ResponseTrailer() http.Header { return s.current().ResponseTrailer() }

func (s *stream) current() rpc.StreamingClientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *stream) Send(msg any) error {
	s.mu.Lock()
	s.start()
	buffered := false
	if !s.committed && !s.overflow {
		pm, ok := msg.(proto.Message)
		if size := 0; ok {
			size = proto.Size(pm)
			if s.sentBytes+size <= s.cfg.streamBuffer {
				s.sent = append(s.sent, proto.Clone(pm))
				s.sentBytes += size
				buffered = true
			}
		}
		if !buffered {
			s.overflow, s.sent = true, nil
		}
	}
	s.nsent++
	c := s.cur
	s.mu.Unlock()
	err := c.Send(msg)
	if errors.Is(err, io.EOF) && buffered {
		// The attempt has ended, but the message is kept: if the attempt
		// is retried it is sent again, and otherwise Receive reports the
		// status. Reporting io.EOF now would make the caller stop sending
		// and a retried stream end early.
		return nil
	}
	return err
}

func (s *stream) CloseRequest() error {
	s.mu.Lock()
	s.start()
	s.closedReq = true
	c := s.cur
	s.mu.Unlock()
	return c.CloseRequest()
}

func (s *stream) Receive(msg any) error {
	for {
		c := s.conn()
		err := c.Receive(msg)
		if err == nil {
			s.commit()
			return nil
		}
		if errors.Is(err, io.EOF) {
			s.commit()
			s.copyResponse()
			return err
		}
		if again, final := s.retry(err); !again {
			s.copyResponse()
			return final
		}
	}
}

// commit ends the chances of a retry: a response has arrived.
func (s *stream) commit() {
	s.mu.Lock()
	if !s.committed {
		s.committed, s.sent = true, nil
	}
	s.mu.Unlock()
}

// retry decides whether the attempt that failed with err is retried, waits
// the backoff and opens the next attempt. If not, it returns the error that
// ends the call: err, or the context's if it ended during the wait.
func (s *stream) retry(err error) (bool, error) {
	c := s.cfg
	s.mu.Lock()
	if s.committed || !c.retryableErr(err) {
		s.committed = true
		s.mu.Unlock()
		return false, err
	}
	c.budget.failure()
	safe := NotReceived(err) && !s.overflow || idempotent(s.spec) && s.nsent == 0
	if !safe || s.n >= c.maxAttempts || !c.budget.allow() || s.ctx.Err() != nil {
		s.committed = true
		s.mu.Unlock()
		return false, err
	}
	delay, ok := c.backoff(s.n, s.cur.ResponseTrailer())
	s.mu.Unlock()
	if !ok {
		s.commit()
		return false, err
	}
	c.retrying(s.ctx, s.n+1, err, delay)
	if werr := c.wait(s.ctx, delay); werr != nil {
		s.commit()
		if errors.Is(werr, errDeadline) {
			return false, err
		}
		return false, contextError(s.ctx)
	}
	s.mu.Lock()
	if s.committed || s.overflow && s.nsent > 0 {
		// A message that cannot be replayed was sent during the wait.
		s.committed = true
		s.mu.Unlock()
		return false, err
	}
	old := s.cur
	if oerr := s.open(); oerr != nil {
		// The next attempt was refused as it opened: that ends the call.
		s.committed = true
		s.mu.Unlock()
		_ = old.CloseResponse()
		return false, oerr
	}
	s.mu.Unlock()
	_ = old.CloseResponse()
	return true, nil
}

// copyResponse puts the final attempt's response headers and trailers into
// the caller's call info, when that attempt had a call info of its own.
func (s *stream) copyResponse() {
	s.mu.Lock()
	info := s.info
	s.mu.Unlock()
	copyResponse(s.caller, info)
}

func (s *stream) CloseResponse() error {
	s.mu.Lock()
	s.committed, s.sent = true, nil
	c := s.cur
	s.mu.Unlock()
	err := c.CloseResponse()
	s.copyResponse()
	return err
}
