package grpcwire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestTextReader(t *testing.T) {
	pieces := [][]byte{[]byte("a"), []byte("bc"), []byte("def"), bytes.Repeat([]byte{0xfe}, 10_000), []byte("g")}
	var enc []byte
	var want []byte
	for _, p := range pieces {
		enc = AppendWebText(enc, p)
		want = append(want, p...)
	}
	if string(enc[:8]) != "YQ==YmM=" {
		t.Fatalf("pieces are not padded each: %q", enc[:8])
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		got, err := io.ReadAll(newTextReader(wrap(bytes.NewReader(enc))))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, %d bytes, want %d", name, err, len(got), len(want))
		}
		got, err = io.ReadAll(iotest.OneByteReader(newTextReader(wrap(bytes.NewReader(enc)))))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s, read byte by byte: %v", name, err)
		}
	}
	// An unpadded tail is fine.
	got, err := io.ReadAll(newTextReader(strings.NewReader("QUJD" + "QUI")))
	if err != nil || string(got) != "ABCAB" {
		t.Errorf("unpadded tail: %q %v", got, err)
	}
	// Line breaks are ignored wherever they fall.
	got, err = io.ReadAll(iotest.OneByteReader(newTextReader(strings.NewReader("QU\r\nJD\nQQ=\n=\n"))))
	if err != nil || string(got) != "ABCA" {
		t.Errorf("line breaks: %q %v", got, err)
	}
	for _, bad := range []string{"Q", "QUJDQ", "QQ=A", "Q===", "!!!!", "QUJD Q", "QQ==Q"} {
		r := newTextReader(strings.NewReader(bad))
		if _, err := io.ReadAll(r); err != ErrCorruptBase64 {
			t.Errorf("%q: %v", bad, err)
		}
		// Sticky.
		if n, err := r.Read(make([]byte, 8)); n != 0 || err != ErrCorruptBase64 {
			t.Errorf("%q, read again: %d, %v", bad, n, err)
		}
	}
	// A read error from below is passed on, after the data before it.
	boom := errors.New("boom")
	got, err = io.ReadAll(newTextReader(io.MultiReader(strings.NewReader("QUJD"), iotest.ErrReader(boom))))
	if !errors.Is(err, boom) || string(got) != "ABC" {
		t.Errorf("read error: %q %v", got, err)
	}
}

func TestTextReaderReset(t *testing.T) {
	var r TextReader
	r.Reset(strings.NewReader("Q"))
	if _, err := io.ReadAll(&r); err != ErrCorruptBase64 {
		t.Fatalf("first body: %v", err)
	}
	// Reset forgets the sticky error and the buffered input.
	r.Reset(strings.NewReader("QUJD"))
	if got, err := io.ReadAll(&r); err != nil || string(got) != "ABC" {
		t.Fatalf("after Reset: %q %v", got, err)
	}
}

func TestAppendWebText(t *testing.T) {
	dst := []byte("keep")
	for _, src := range [][]byte{nil, {0}, {1, 2}, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 1000)} {
		got := AppendWebText(dst, src)
		want := "keep" + base64.StdEncoding.EncodeToString(src)
		if string(got) != want {
			t.Errorf("AppendWebText(%q, % x) = %q, want %q", dst, src, got, want)
		}
	}
}

// newTextReader returns a TextReader decoding r, as rpc embeds one.
func newTextReader(r io.Reader) *TextReader {
	t := new(TextReader)
	t.Reset(r)
	return t
}
