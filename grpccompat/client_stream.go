package grpccompat

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// clientStream is the grpc.ClientStream of a streaming call. As grpc-go's,
// SendMsg and CloseSend may run on one goroutine while RecvMsg (and Header)
// run on another.
type clientStream struct {
	ctx           context.Context
	conn          rpc.StreamingClientConn
	info          *rpc.CallInfo
	co            callOptions
	serverStreams bool

	// The response headers: Header and the first RecvMsg wait for them
	// under headerMu, once; Receive never runs before, nor concurrently with,
	// that wait.
	headerMu   sync.Mutex
	headerDone atomic.Bool
	header     http.Header
	headerErr  error

	reported sync.Once
}

// waitHeader waits for the response headers once.
func (s *clientStream) waitHeader() (http.Header, error) {
	s.headerMu.Lock()
	defer s.headerMu.Unlock()
	if !s.headerDone.Load() {
		s.header, s.headerErr = raw.WaitResponseHeader(s.conn)
		if errors.Is(s.headerErr, raw.ErrHeaderWaitUnsupported) {
			// A stream an rpc interceptor wrapped: headers come with the
			// first message.
			s.header, s.headerErr = nil, nil
		}
		s.headerDone.Store(true)
	}
	return s.header, s.headerErr
}

// Header implements grpc.ClientStream: it waits for the response headers.
func (s *clientStream) Header() (metadata.MD, error) {
	h, err := s.waitHeader()
	if err != nil {
		return nil, toStatusError(err)
	}
	return toMetadata(h), nil
}

// Trailer implements grpc.ClientStream. The trailers are known once
// RecvMsg has returned an error (io.EOF included).
func (s *clientStream) Trailer() metadata.MD {
	return toMetadata(s.conn.ResponseTrailer())
}

// CloseSend implements grpc.ClientStream.
func (s *clientStream) CloseSend() error {
	if err := s.conn.CloseRequest(); err != nil {
		return toStatusError(err)
	}
	return nil
}

// Context implements grpc.ClientStream.
func (s *clientStream) Context() context.Context { return s.ctx }

// SendMsg implements grpc.ClientStream. It returns io.EOF when the server
// has ended the call; RecvMsg then returns the status.
func (s *clientStream) SendMsg(m any) error {
	err := s.conn.Send(m)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if c := rpc.CodeOf(err); c == rpc.CodeDeadlineExceeded || c == rpc.CodeCanceled {
		// The call's context ended (before the call started, say): as on
		// grpc-go, the stream is over, and RecvMsg reports the status.
		return io.EOF
	}
	return toStatusError(err)
}

// RecvMsg implements grpc.ClientStream. It returns io.EOF at the end of a
// successful call, else the call's status error. For a method that does not
// stream responses it also checks that the response is the only one.
func (s *clientStream) RecvMsg(m any) error {
	if !s.headerDone.Load() {
		// The error, if any, is the stream's: Receive reports it.
		_, _ = s.waitHeader()
	}
	err := s.conn.Receive(m)
	if err == nil && !s.serverStreams {
		err = s.expectEnd(m)
		if err == nil {
			s.finish(nil)
			return nil
		}
	}
	if err == nil {
		return nil
	}
	s.finish(err)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return toStatusError(err)
}

// expectEnd reads past the single response of a unary or client-streaming
// call: the end of the stream is success, another message is a protocol
// violation.
func (s *clientStream) expectEnd(m any) error {
	var extra any = m
	if pm, ok := m.(proto.Message); ok {
		extra = pm.ProtoReflect().New().Interface()
	}
	err := s.conn.Receive(extra)
	switch {
	case err == nil:
		_ = s.conn.CloseResponse()
		return status.Error(codes.Internal, "cardinality violation: the server sent more than one response to a call that expects one")
	case errors.Is(err, io.EOF):
		return nil
	}
	return err
}

// finish reports the call's metadata to grpc.Header and grpc.Trailer once.
func (s *clientStream) finish(err error) {
	s.reported.Do(func() { s.co.report(s.info, err) })
}
