// Package deflate adds raw DEFLATE ("deflate") compression to polyconnect.
// Importing it registers the algorithm with package rpc; Compression returns
// it for explicit use with rpc.WithCompression.
//
// The token "deflate" means the zlib format (RFC 1950) in HTTP content
// coding; this package writes and reads zlib streams accordingly.
//
//	import _ "polyconnect.dev/protocol/compress/deflate"
package deflate

import (
	"io"

	"github.com/klauspost/compress/zlib"

	"polyconnect.dev/protocol/rpc"
)

// Name is the algorithm's token in encoding headers.
const Name = "deflate"

func init() { rpc.RegisterCompression(Compression()) }

// Compression returns the deflate (zlib) algorithm.
func Compression() rpc.Compression { return compression{} }

type compression struct{}

func (compression) Name() string { return Name }

func (compression) NewCompressor(w io.Writer) rpc.Compressor {
	return zlib.NewWriter(w)
}

func (compression) NewDecompressor(r io.Reader) (rpc.Decompressor, error) {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, err
	}
	return &decoder{rc: zr}, nil
}

type decoder struct{ rc io.ReadCloser }

func (d *decoder) Read(p []byte) (int, error) { return d.rc.Read(p) }
func (d *decoder) Reset(r io.Reader) error {
	return d.rc.(zlib.Resetter).Reset(r, nil)
}
func (d *decoder) Close() error { return nil }
