// Package envelope holds the framing that the streaming bodies of gRPC,
// gRPC-Web and Connect share: each message is an envelope, a 5-byte prefix
// (one byte of flags, then the payload's length as a big-endian uint32)
// followed by the payload. The flags each protocol adds are in its own
// package (grpcwire, connectwire); only FlagCompressed is common.
package envelope

import (
	"encoding/binary"
	"io"
)

// PrefixLen is the length of an envelope's prefix.
const PrefixLen = 5

// FlagCompressed marks a payload compressed with the call's compression.
const FlagCompressed = 0x01

// PutPrefix fills the prefix at the start of b, an envelope whose payload
// is b[PrefixLen:], with flags and the payload's length. len(b) is at least
// PrefixLen; a payload longer than a uint32 cannot be framed.
func PutPrefix(b []byte, flags byte) {
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:PrefixLen], uint32(len(b)-PrefixLen))
}

// PayloadLen returns the payload length that the prefix at the start of b
// announces.
func PayloadLen(b []byte) uint32 {
	return binary.BigEndian.Uint32(b[1:PrefixLen])
}

// ReadPrefix fills p from r like io.ReadFull, except that the errors of r
// are passed on as they are: io.EOF (after some bytes, or none) means the
// body ended cleanly, anything else (io.ErrUnexpectedEOF from a truncated
// HTTP/1.1 body included) is the transport's. An error that comes with the
// last byte of p is not reported.
func ReadPrefix(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if n == len(p) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
