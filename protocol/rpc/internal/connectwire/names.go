// Package connectwire holds the Connect protocol's wire format: its header
// names, Content-Types and the JSON forms of errors and of the end of a
// stream. The client and handler sides of package rpc share it.
package connectwire

import "strings"

// The Content-Type prefixes of Connect calls: unary calls use
// "application/" plus the codec name, streams "application/connect+" plus it.
const (
	UnaryPrefix  = "application/"
	StreamPrefix = "application/connect+"
)

// The Connect protocol's header names, in canonical form.
const (
	VersionHeader      = "Connect-Protocol-Version"
	TimeoutHeader      = "Connect-Timeout-Ms"
	StreamEncoding     = "Connect-Content-Encoding"
	StreamAccept       = "Connect-Accept-Encoding"
	UnaryTrailerPrefix = "Trailer-"
)

// FlagEndStream marks the envelope of a Connect stream's end: its payload
// is the JSON EndStream, not a message.
const FlagEndStream = 0x02

// CodecName returns the codec name of a Content-Type that starts with
// prefix, lower-cased and without parameters.
func CodecName(ct, prefix string) string {
	name := strings.TrimPrefix(ct, prefix)
	if i := strings.IndexByte(name, ';'); i >= 0 {
		name = strings.TrimSpace(name[:i])
	}
	return strings.ToLower(name)
}
