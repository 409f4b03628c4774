package main

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// classify tells the representations hpack's encoder chose apart: the first
// block adds its fields to the table, the second refers to them by index,
// and a sensitive field stays a literal that is never indexed.
func TestClassify(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	block := func(fields ...hpack.HeaderField) []byte {
		buf.Reset()
		for _, f := range fields {
			if err := enc.WriteField(f); err != nil {
				t.Fatal(err)
			}
		}
		return bytes.Clone(buf.Bytes())
	}
	status := hpack.HeaderField{Name: ":status", Value: "200"}                  // in the static table
	ctype := hpack.HeaderField{Name: "content-type", Value: "application/grpc"} // name only in it
	custom := hpack.HeaderField{Name: "x-custom-name", Value: "v"}              // in neither
	secret := hpack.HeaderField{Name: "authorization", Value: "x", Sensitive: true}

	first := newStats("first")
	first.classify(block(status, ctype, custom))
	if first.indexed != 1 || first.literal != 2 || first.literalNew != 2 {
		t.Errorf("first block: %d indexed, %d literal (%d new), want 1, 2 (2)", first.indexed, first.literal, first.literalNew)
	}
	// content-type's name is indexed, its value a string; x-custom-name
	// has two strings.
	if first.huffman+first.plain != 3 {
		t.Errorf("first block: %d strings, want 3", first.huffman+first.plain)
	}

	second := newStats("second")
	second.classify(block(status, ctype, custom, secret))
	if second.indexed != 3 || second.literal != 1 || second.literalNew != 0 {
		t.Errorf("second block: %d indexed, %d literal (%d new), want 3, 1 (0)", second.indexed, second.literal, second.literalNew)
	}

	// A table size update is counted, and a truncated block stops the walk.
	third := newStats("third")
	enc.SetMaxDynamicTableSizeLimit(1024)
	enc.SetMaxDynamicTableSize(1024)
	b := block(status)
	third.classify(b)
	if third.sizeUpdates != 1 || third.indexed != 1 {
		t.Errorf("third block: %d size updates, %d indexed, want 1, 1", third.sizeUpdates, third.indexed)
	}
	cut := newStats("cut")
	cut.classify(block(hpack.HeaderField{Name: "x-long", Value: "a value of some length"})[:4])
	if cut.literal != 1 || cut.huffman+cut.plain != 1 {
		t.Errorf("truncated block: %d literal, %d strings, want 1, 1 (the walk stops in the cut name)", cut.literal, cut.huffman+cut.plain)
	}
}

func TestReadInt(t *testing.T) {
	for _, tc := range []struct {
		in     []byte
		prefix uint
		want   uint64
		rest   int
	}{
		{[]byte{0x0a}, 5, 10, 0},                     // RFC 7541 C.1.1
		{[]byte{0x1f, 0x9a, 0x0a, 0xff}, 5, 1337, 1}, // RFC 7541 C.1.2, one byte left over
		{[]byte{0x2a}, 8, 42, 0},                     // RFC 7541 C.1.3
	} {
		v, rest := readInt(tc.in, tc.prefix)
		if v != tc.want || len(rest) != tc.rest {
			t.Errorf("readInt(%x, %d) = %d with %d left, want %d with %d", tc.in, tc.prefix, v, len(rest), tc.want, tc.rest)
		}
	}
	if _, rest := readInt([]byte{0x1f, 0x9a}, 5); rest != nil {
		t.Errorf("readInt of a cut integer: rest %x, want nil", rest)
	}
}
