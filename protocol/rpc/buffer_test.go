package rpc

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestBufferSetAppended(t *testing.T) {
	var b buffer
	b.Grow(16)
	b.WriteString("ab")
	before := &b.b[:cap(b.b)][2]
	b.setAppended(append(b.AvailableBuffer(), "cd"...)) // in place
	if string(b.Bytes()) != "abcd" || &b.b[2] != before {
		t.Fatalf("in place: %q, moved %v", b.Bytes(), &b.b[2] != before)
	}
	// An appender that had to allocate: the contents are copied after ab…
	big := strings.Repeat("x", 100)
	b.setAppended(append(b.AvailableBuffer(), big...))
	if b.String() != "abcd"+big {
		t.Fatalf("copied: %q", b.Bytes())
	}
	// …and an empty buffer adopts the new array.
	var e buffer
	p := append(e.AvailableBuffer(), big...)
	e.setAppended(p)
	if e.String() != big || &e.b[0] != &p[0] {
		t.Fatalf("adopted: %q", e.Bytes())
	}
	e.setAppended(nil)
	if e.Len() != 100 {
		t.Fatal("empty append changed the length")
	}
}

func TestBufferReadFrom(t *testing.T) {
	var b buffer
	b.WriteString(">")
	src := strings.Repeat("0123456789", 1000)
	n, err := b.ReadFrom(iotest.OneByteReader(strings.NewReader(src)))
	if err != nil || n != int64(len(src)) || b.String() != ">"+src {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	b.Truncate(1)
	if _, err := b.ReadFrom(iotest.ErrReader(errTooLarge)); err != errTooLarge || b.String() != ">" {
		t.Fatalf("error not reported: %v, %q", err, b.Bytes())
	}
}

func (b *buffer) String() string { return string(b.b) }

// An identity-encoded message is written once, in place: with room in the
// buffer, marshaling allocates nothing, and the bytes are proto's.
func TestMarshalWritesInPlace(t *testing.T) {
	msg := wrapperspb.Bytes(bytes.Repeat([]byte{7}, 1<<20))
	want, _ := proto.Marshal(msg)
	m := marshaler{codec: protoCodec{}}
	dst := &buffer{}
	dst.Grow(len(want) + envelopePrefix)
	allocs := testing.AllocsPerRun(20, func() {
		dst.Reset()
		if err := m.marshalEnvelope(dst, msg, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("marshalEnvelope allocated %.0f times into a buffer with room", allocs)
	}
	if !bytes.Equal(dst.Bytes()[envelopePrefix:], want) {
		t.Error("marshaled bytes differ from proto.Marshal")
	}
	// An empty buffer grows once, to the size of the message.
	allocs = testing.AllocsPerRun(5, func() {
		fresh := &buffer{}
		if _, err := m.marshal(fresh, msg); err != nil {
			t.Fatal(err)
		}
		if fresh.Cap() != len(want) {
			t.Errorf("buffer grew to %d for %d bytes", fresh.Cap(), len(want))
		}
	})
	if allocs > 2 { // the buffer struct and its array
		t.Errorf("marshal into an empty buffer: %.0f allocations", allocs)
	}
}
