// Package snappy adds Snappy ("snappy") compression to polyconnect, in the
// framed stream format. Importing it registers the algorithm with package
// rpc; Compression returns it for explicit use with rpc.WithCompression.
//
//	import _ "polyconnect.dev/protocol/compress/snappy"
package snappy

import (
	"io"

	"github.com/klauspost/compress/s2"

	"polyconnect.dev/protocol/rpc"
)

// Name is the algorithm's token in encoding headers.
const Name = "snappy"

func init() { rpc.RegisterCompression(Compression()) }

// Compression returns the Snappy algorithm (framed format, Snappy-compatible
// output).
func Compression() rpc.Compression { return compression{} }

type compression struct{}

func (compression) Name() string { return Name }

func (compression) NewCompressor(w io.Writer) rpc.Compressor {
	return &encoder{s2.NewWriter(w, s2.WriterSnappyCompat(), s2.WriterConcurrency(1))}
}

func (compression) NewDecompressor(r io.Reader) (rpc.Decompressor, error) {
	return &decoder{s2.NewReader(r, s2.ReaderMaxBlockSize(64<<10))}, nil
}

type encoder struct{ w *s2.Writer }

func (e *encoder) Write(p []byte) (int, error) { return e.w.Write(p) }
func (e *encoder) Close() error                { return e.w.Close() }
func (e *encoder) Reset(w io.Writer)           { e.w.Reset(w) }

type decoder struct{ r *s2.Reader }

func (d *decoder) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *decoder) Reset(r io.Reader) error    { d.r.Reset(r); return nil }
func (d *decoder) Close() error               { return nil }
