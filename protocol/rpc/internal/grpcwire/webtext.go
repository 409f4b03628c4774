package grpcwire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
)

// The body of gRPC-Web text (application/grpc-web-text) is base64: each
// flushed piece is encoded and padded on its own, so padding may appear in
// the middle of the body, which the standard decoders reject.

// ErrCorruptBase64 is the error a TextReader returns for a body that is not
// a sequence of base64 pieces.
var ErrCorruptBase64 = errors.New("invalid base64 in gRPC-Web text body")

// AppendWebText appends the padded base64 form of src, one piece of a
// gRPC-Web text body, to dst.
func AppendWebText(dst, src []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, src)
}

// TextReader decodes a gRPC-Web text body: a sequence of base64 pieces,
// each possibly padded, with line breaks ignored wherever they fall. Its
// memory use is fixed. Reset a zero TextReader to use it (it is meant to be
// embedded, at no allocation of its own).
type TextReader struct {
	r        io.Reader
	in       [4096]byte
	inN      int
	out      [3072]byte
	outStart int
	outEnd   int
	err      error // sticky, returned once out is drained
}

// Reset makes t decode r from the start, forgetting any earlier state.
func (t *TextReader) Reset(r io.Reader) {
	t.r, t.inN, t.outStart, t.outEnd, t.err = r, 0, 0, 0, nil
}

// Read decodes into p. Errors of the source are returned as they are, once
// what came before them is read; a body that is not base64 is
// ErrCorruptBase64. Errors are sticky.
func (t *TextReader) Read(p []byte) (int, error) {
	for t.outStart == t.outEnd {
		if t.err != nil {
			return 0, t.err
		}
		t.outStart, t.outEnd = 0, 0
		t.fill()
	}
	n := copy(p, t.out[t.outStart:t.outEnd])
	t.outStart += n
	return n, nil
}

// fill reads input and decodes every complete 4-byte quantum.
func (t *TextReader) fill() {
	n, err := t.r.Read(t.in[t.inN:])
	kept := t.inN
	for _, c := range t.in[t.inN : t.inN+n] {
		if c != '\r' && c != '\n' {
			t.in[kept] = c
			kept++
		}
	}
	t.inN = kept
	whole := t.inN / 4 * 4
	if derr := t.decode(t.in[:whole]); derr != nil {
		t.err = derr
		return
	}
	t.inN = copy(t.in[:], t.in[whole:t.inN])
	if err == nil {
		return
	}
	if err == io.EOF && t.inN > 0 {
		// An unpadded tail of 2 or 3 characters is fine; 1 is not.
		m, derr := base64.RawStdEncoding.Decode(t.out[t.outEnd:], t.in[:t.inN])
		if derr != nil {
			t.err = ErrCorruptBase64
			return
		}
		t.outEnd += m
		t.inN = 0
	}
	t.err = err
}

// decode decodes src, a whole number of quanta, into out. A quantum with
// padding ends a piece; decoding resumes after it.
func (t *TextReader) decode(src []byte) error {
	for len(src) > 0 {
		end := len(src)
		if i := bytes.IndexByte(src, '='); i >= 0 {
			end = (i/4 + 1) * 4
		}
		m, err := base64.StdEncoding.Decode(t.out[t.outEnd:], src[:end])
		if err != nil {
			return ErrCorruptBase64
		}
		t.outEnd += m
		src = src[end:]
	}
	return nil
}
