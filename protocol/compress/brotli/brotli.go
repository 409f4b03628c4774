// Package brotli adds Brotli ("br") compression to polyconnect. Importing it
// registers the algorithm with package rpc; Compression returns it for
// explicit use with rpc.WithCompression.
//
//	import _ "polyconnect.dev/protocol/compress/brotli"
package brotli

import (
	"io"

	"github.com/andybalholm/brotli"

	"polyconnect.dev/protocol/rpc"
)

// Name is the algorithm's token in encoding headers.
const Name = "br"

func init() { rpc.RegisterCompression(Compression()) }

// Compression returns the Brotli algorithm at a fast level suited to RPC.
func Compression() rpc.Compression { return compression{} }

type compression struct{}

func (compression) Name() string { return Name }

func (compression) NewCompressor(w io.Writer) rpc.Compressor {
	return brotli.NewWriterLevel(w, 3)
}

func (compression) NewDecompressor(r io.Reader) (rpc.Decompressor, error) {
	return &decoder{brotli.NewReader(r)}, nil
}

type decoder struct{ r *brotli.Reader }

func (d *decoder) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *decoder) Reset(r io.Reader) error    { return d.r.Reset(r) }
func (d *decoder) Close() error               { return nil }
