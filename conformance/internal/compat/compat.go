// Package compat holds what the conformance client and server under test
// share: the size-delimited framing of the suite's stdin/stdout protocol and
// conversions between the suite's messages and package rpc's headers and
// errors.
package compat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/protocol/rpc"
)

// maxMessage bounds a message read from the runner; the largest test cases
// carry a few megabytes of request data.
const maxMessage = 64 << 20

// ReadMessage reads one message framed by a big-endian 32-bit length. It
// returns io.EOF when r ends cleanly before a new message.
func ReadMessage(r io.Reader, msg proto.Message) error {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read length prefix: %w", err)
		}
		return err
	}
	n := binary.BigEndian.Uint32(prefix[:])
	if n > maxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", n, maxMessage)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return fmt.Errorf("read message of %d bytes: %w", n, err)
	}
	return proto.Unmarshal(buf, msg)
}

// WriteMessage writes msg framed by a big-endian 32-bit length, in one Write
// call, so that concurrent writers serialised by a mutex never interleave.
func WriteMessage(w io.Writer, msg proto.Message) error {
	buf := make([]byte, 4, 4+proto.Size(msg))
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, msg)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	_, err = w.Write(buf)
	return err
}

// HeadersToProto converts HTTP headers to the suite's Header list.
func HeadersToProto(h map[string][]string) []*v1.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]*v1.Header, 0, len(h))
	for k, vs := range h {
		out = append(out, &v1.Header{Name: k, Value: append([]string(nil), vs...)})
	}
	return out
}

// AddHeaders adds the suite's headers to h, keeping every value in order.
func AddHeaders(h http.Header, headers []*v1.Header) {
	for _, hdr := range headers {
		for _, v := range hdr.GetValue() {
			h.Add(hdr.GetName(), v)
		}
	}
}

// ErrorFromProto builds the rpc error a test case asks the server to return.
func ErrorFromProto(e *v1.Error) *rpc.Error {
	err := rpc.NewError(rpc.Code(e.GetCode()), e.GetMessage())
	for _, d := range e.GetDetails() {
		err.AddAnyDetail(d)
	}
	return err
}

// ErrorToProto describes an error returned by a client call in the suite's
// terms: code, message and details for rpc errors, CODE_UNKNOWN and the text
// for anything else.
func ErrorToProto(err error) *v1.Error {
	var e *rpc.Error
	if !errors.As(err, &e) {
		return &v1.Error{Code: v1.Code(rpc.CodeOf(err)), Message: proto.String(err.Error())}
	}
	out := &v1.Error{Code: v1.Code(e.Code()), Message: proto.String(e.Message())}
	out.Details = append([]*anypb.Any(nil), e.Details()...)
	return out
}
