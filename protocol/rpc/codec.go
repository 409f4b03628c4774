package rpc

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Codec marshals and unmarshals messages. Its name appears in Content-Type
// headers ("application/proto", "application/grpc+json", …). Codecs must be
// safe for concurrent use.
type Codec interface {
	// Name is the codec's name in Content-Type, such as "proto" or "json".
	Name() string
	// MarshalAppend appends the encoding of msg to dst and returns the result.
	MarshalAppend(dst []byte, msg any) ([]byte, error)
	// Unmarshal decodes data into msg. It must not retain data.
	Unmarshal(data []byte, msg any) error
}

// BinaryCodec is implemented by codecs whose output is not text; Connect GET
// requests base64-encode such messages in the URL.
type BinaryCodec interface {
	Codec
	IsBinary() bool
}

const (
	codecNameProto = "proto"
	codecNameJSON  = "json"
)

// ProtoCodec returns the protobuf binary codec, named "proto".
func ProtoCodec() Codec { return protoCodec{} }

// ProtoJSONCodec returns the protobuf JSON codec, named "json". It discards
// unknown fields when unmarshaling, as the Connect protocol requires.
func ProtoJSONCodec() Codec { return protoJSONCodec{name: codecNameJSON} }

type protoCodec struct{}

func (protoCodec) Name() string   { return codecNameProto }
func (protoCodec) IsBinary() bool { return true }

func (protoCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return dst, notProtoError(msg)
	}
	return proto.MarshalOptions{}.MarshalAppend(dst, m)
}

func (protoCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return notProtoError(msg)
	}
	return proto.Unmarshal(data, m)
}

type protoJSONCodec struct{ name string }

func (c protoJSONCodec) Name() string { return c.name }

func (protoJSONCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return dst, notProtoError(msg)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

func (protoJSONCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return notProtoError(msg)
	}
	if len(data) == 0 {
		return errors.New("empty body is not a JSON object")
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, m)
}

// sizedMarshaler is implemented by codecs that can tell the encoded size of
// a message before encoding it and then encode it without sizing it again.
type sizedMarshaler interface {
	// sizeOf returns the encoded size of msg; false if it cannot tell.
	sizeOf(msg any) (int, bool)
	// marshalSized appends msg to dst, which has room for the size that
	// sizeOf has just returned for the unchanged msg.
	marshalSized(dst []byte, msg any) ([]byte, error)
}

// marshalInto appends the encoding of msg to the spare capacity of dst and
// returns the appended bytes, which the caller validates and then commits
// with dst.setAppended. A codec that can size messages gets the room first,
// so its output lands in place; any other codec may need a copy.
func marshalInto(c Codec, dst *buffer, msg any) ([]byte, error) {
	if s, ok := c.(sizedMarshaler); ok {
		if n, ok := s.sizeOf(msg); ok {
			dst.Grow(n)
			return s.marshalSized(dst.AvailableBuffer(), msg)
		}
	}
	return c.MarshalAppend(dst.AvailableBuffer(), msg)
}

func (protoCodec) sizeOf(msg any) (int, bool) {
	m, ok := msg.(proto.Message)
	if !ok {
		return 0, false
	}
	return proto.MarshalOptions{}.Size(m), true
}

// marshalSized reuses the sizes that sizeOf cached in the message.
func (protoCodec) marshalSized(dst []byte, msg any) ([]byte, error) {
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(dst, msg.(proto.Message))
}

func notProtoError(msg any) error {
	return fmt.Errorf("%T is not a proto.Message", msg)
}

// codecSet is the ordered set of codecs a handler accepts or a client may
// use, looked up by name.
type codecSet struct {
	byName map[string]Codec
}

func newCodecSet() codecSet {
	return codecSet{byName: map[string]Codec{
		codecNameProto: protoCodec{},
		codecNameJSON:  protoJSONCodec{name: codecNameJSON},
	}}
}

func (s *codecSet) add(c Codec) {
	m := make(map[string]Codec, len(s.byName)+1)
	for k, v := range s.byName {
		m[k] = v
	}
	m[c.Name()] = c
	s.byName = m
}

func (s codecSet) get(name string) Codec { return s.byName[name] }

func isBinaryCodec(c Codec) bool {
	if b, ok := c.(BinaryCodec); ok {
		return b.IsBinary()
	}
	return false
}
