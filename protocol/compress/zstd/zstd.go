// Package zstd adds Zstandard ("zstd") compression to polyconnect. Importing
// it registers the algorithm with package rpc, so clients and handlers created
// afterwards negotiate it; Compression returns it for explicit use with
// rpc.WithCompression.
//
//	import _ "polyconnect.dev/protocol/compress/zstd"
package zstd

import (
	"io"

	"github.com/klauspost/compress/zstd"

	"polyconnect.dev/protocol/rpc"
)

// Name is the algorithm's token in encoding headers.
const Name = "zstd"

func init() { rpc.RegisterCompression(Compression()) }

// Compression returns the zstd algorithm. Decoding uses a bounded window
// (8 MiB) and no concurrency, so one message cannot make a decoder allocate
// without limit; the caller's read limit bounds the output.
func Compression() rpc.Compression { return compression{} }

type compression struct{}

func (compression) Name() string { return Name }

func (compression) NewCompressor(w io.Writer) rpc.Compressor {
	enc, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true))
	if err != nil {
		// Only invalid options make NewWriter fail; the ones above are fixed.
		panic("zstd: " + err.Error())
	}
	return enc
}

func (compression) NewDecompressor(r io.Reader) (rpc.Decompressor, error) {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	return &decoder{dec}, nil
}

// decoder adapts *zstd.Decoder, whose Close frees it for good, to reuse:
// Close is a no-op and Reset readies it for the next message.
type decoder struct{ d *zstd.Decoder }

func (d *decoder) Read(p []byte) (int, error) { return d.d.Read(p) }
func (d *decoder) Reset(r io.Reader) error    { return d.d.Reset(r) }
func (d *decoder) Close() error               { return nil }
