package otelrpc

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"polyconnect.dev/protocol/rpc"
)

// errClosedEarly is how a client stream ends that its caller closed before
// the response's end: the rpc package cancels such a call.
var errClosedEarly = rpc.NewError(rpc.CodeCanceled, "the client closed the stream before it ended")

// clientConn is a client stream as the interceptor watches it. The call
// ends on the first of: Receive returning io.EOF or an error,
// CloseResponse, the context being done. With a nil call it only takes the
// propagated headers out of the caller's map once the request has started.
type clientConn struct {
	rpc.StreamingClientConn
	call    *call          // nil: nothing to record
	carrier *injectCarrier // nil: nothing injected
	stop    func() bool    // stops watching the context; nil if not watched

	restored atomic.Bool
	ended    atomic.Bool
	mu       sync.Mutex
	sendErr  error // the last failed Send or CloseRequest, other than io.EOF
}

// requestStarted runs after each method of the stream: by then the request
// has been built (or never will be) and its headers copied, so the
// propagated headers leave the caller's map.
func (s *clientConn) requestStarted() {
	if s.carrier != nil && s.restored.CompareAndSwap(false, true) {
		s.carrier.restore()
	}
}

// Send implements rpc.StreamingClientConn.
func (s *clientConn) Send(msg any) error {
	err := s.StreamingClientConn.Send(msg)
	s.requestStarted()
	if s.call != nil {
		if err == nil {
			s.call.message(sent, msg)
		} else {
			s.failedSend(err)
		}
	}
	return err
}

// CloseRequest implements rpc.StreamingClientConn.
func (s *clientConn) CloseRequest() error {
	err := s.StreamingClientConn.CloseRequest()
	s.requestStarted()
	if s.call != nil && err != nil {
		s.failedSend(err)
	}
	return err
}

func (s *clientConn) failedSend(err error) {
	if errors.Is(err, io.EOF) {
		// The server ended the call; Receive reports how.
		return
	}
	s.mu.Lock()
	s.sendErr = err
	s.mu.Unlock()
}

// Receive implements rpc.StreamingClientConn.
func (s *clientConn) Receive(msg any) error {
	err := s.StreamingClientConn.Receive(msg)
	s.requestStarted()
	if s.call == nil {
		return err
	}
	switch {
	case err == nil:
		s.call.message(received, msg)
	case errors.Is(err, io.EOF):
		s.end(nil, true)
	default:
		s.end(err, true)
	}
	return err
}

// CloseResponse implements rpc.StreamingClientConn. A call closed before
// Receive reported its end was canceled, unless a Send had failed, which is
// then what ended it.
func (s *clientConn) CloseResponse() error {
	err := s.StreamingClientConn.CloseResponse()
	s.requestStarted()
	if s.call != nil && !s.ended.Load() {
		s.mu.Lock()
		cause := s.sendErr
		s.mu.Unlock()
		if cause == nil {
			cause = errClosedEarly
		}
		s.end(cause, true)
	}
	return err
}

// abandon ends the call when its context is done before the stream ended.
// It runs on a goroutine of its own (context.AfterFunc), possibly while the
// stream is still receiving, so it does not read the response metadata.
func (s *clientConn) abandon() {
	if s.ended.CompareAndSwap(false, true) {
		s.call.end(s.call.ctx.Err(), false)
	}
}

// end ends the call from one of the stream's methods.
func (s *clientConn) end(err error, readResponse bool) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	if s.stop != nil {
		s.stop()
	}
	s.call.end(err, readResponse)
}

// handlerConn is a handler stream whose messages the interceptor counts.
type handlerConn struct {
	rpc.StreamingHandlerConn
	call *call
}

// Receive implements rpc.StreamingHandlerConn.
func (s *handlerConn) Receive(msg any) error {
	err := s.StreamingHandlerConn.Receive(msg)
	if err == nil {
		s.call.message(received, msg)
	}
	return err
}

// Send implements rpc.StreamingHandlerConn.
func (s *handlerConn) Send(msg any) error {
	err := s.StreamingHandlerConn.Send(msg)
	if err == nil {
		s.call.message(sent, msg)
	}
	return err
}
