package envelope

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestPutPrefix(t *testing.T) {
	b := append(make([]byte, PrefixLen), "hello"...)
	PutPrefix(b, FlagCompressed|0x80)
	if !bytes.Equal(b[:PrefixLen], []byte{0x81, 0, 0, 0, 5}) || PayloadLen(b) != 5 {
		t.Errorf("prefix % x", b[:PrefixLen])
	}
	big := make([]byte, PrefixLen+0x01020304)
	PutPrefix(big, 0)
	if !bytes.Equal(big[:PrefixLen], []byte{0, 1, 2, 3, 4}) || PayloadLen(big) != 0x01020304 {
		t.Errorf("big prefix % x", big[:PrefixLen])
	}
	empty := make([]byte, PrefixLen)
	PutPrefix(empty, 2)
	if !bytes.Equal(empty, []byte{2, 0, 0, 0, 0}) {
		t.Errorf("empty payload % x", empty)
	}
}

func TestReadPrefix(t *testing.T) {
	src := []byte{1, 0, 0, 0, 9, 'x'}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"data+err": iotest.DataErrReader,
	} {
		var p [PrefixLen]byte
		if n, err := ReadPrefix(wrap(bytes.NewReader(src)), p[:]); n != PrefixLen || err != nil || !bytes.Equal(p[:], src[:PrefixLen]) {
			t.Errorf("%s: %d %v % x", name, n, err, p)
		}
	}
	// The last byte arriving with io.EOF is a whole prefix.
	var p [PrefixLen]byte
	if n, err := ReadPrefix(iotest.DataErrReader(bytes.NewReader(src[:PrefixLen])), p[:]); n != PrefixLen || err != nil {
		t.Errorf("prefix with EOF: %d %v", n, err)
	}
	// A clean end, before any byte or inside the prefix, is io.EOF with
	// the count, which tells the two apart.
	if n, err := ReadPrefix(bytes.NewReader(nil), p[:]); n != 0 || err != io.EOF {
		t.Errorf("empty body: %d %v", n, err)
	}
	if n, err := ReadPrefix(iotest.OneByteReader(bytes.NewReader(src[:3])), p[:]); n != 3 || err != io.EOF {
		t.Errorf("cut prefix: %d %v", n, err)
	}
	// The transport's errors pass as they are.
	if n, err := ReadPrefix(io.MultiReader(bytes.NewReader(src[:2]), iotest.ErrReader(io.ErrUnexpectedEOF)), p[:]); n != 2 || err != io.ErrUnexpectedEOF {
		t.Errorf("transport error: %d %v", n, err)
	}
}
