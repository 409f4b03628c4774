package rpc

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"sync"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
	"polyconnect.dev/protocol/rpc/internal/envelope"
	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// The envelope's prefix and flags (package envelope and each protocol's
// own), under the short names the package uses.
const (
	flagCompressed   = envelope.FlagCompressed
	flagEndStream    = connectwire.FlagEndStream // Connect end-of-stream message
	flagGRPCWebTrail = grpcwire.FlagWebTrailers  // gRPC-Web trailers frame
	envelopePrefix   = envelope.PrefixLen
	// controlFrameMinLimit is the least size allowed to end-of-stream and
	// trailer frames whatever the read limit.
	controlFrameMinLimit = 1 << 20
)

// envelopeReader reads length-prefixed messages from a body. It never
// allocates more than the data actually received, so a prefix claiming a huge
// length costs nothing until the bytes arrive, and the read limit rejects it
// before that.
type envelopeReader struct {
	lr io.LimitedReader // reused per envelope, so reading allocates nothing
	r  io.Reader
	// buffered makes reads go through a pooled bufio.Reader: a stream of
	// small messages then costs one body read per buffer, not two per
	// message (prefix, payload). Unary calls read unbuffered.
	buffered bool
	br       *bufio.Reader
	limit    int64 // 0: unlimited
	server   bool  // decides the code of protocol errors
	hdr      [envelopePrefix]byte
}

// read reads one envelope into buf (which it resets) and returns its flags.
// It returns io.EOF at a clean end of stream.
func (e *envelopeReader) read(buf *buffer) (byte, error) {
	buf.Reset()
	var n int
	var err error
	if e.buffered && e.br == nil {
		// The read buffer comes only once a message starts arriving: a
		// stream that waits for its first message holds no buffer.
		n, err = envelope.ReadPrefix(e.r, e.hdr[:1])
		if err == nil {
			if e.server {
				// Handlers release the reader when the call ends, after
				// the handler has returned: it can go back to a pool.
				e.br = getBufReader(e.r)
			} else {
				// A client's Receive may still be blocked in the reader
				// when another goroutine closes the call, so it is never
				// pooled.
				e.br = bufio.NewReaderSize(e.r, 8<<10)
			}
			e.r = e.br
			var m int
			m, err = envelope.ReadPrefix(e.r, e.hdr[1:])
			n += m
		}
	} else {
		n, err = envelope.ReadPrefix(e.r, e.hdr[:])
	}
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if errors.Is(err, io.EOF) {
			// The body ended cleanly inside a prefix: the peer broke the
			// framing. A body cut short by the transport (a connection lost
			// between messages) is io.ErrUnexpectedEOF from below and stays
			// a transport error.
			return 0, e.protocolError("incomplete envelope: got " + strconv.Itoa(n) + " of 5 prefix bytes")
		}
		return 0, err
	}
	flags := e.hdr[0]
	size := int64(envelope.PayloadLen(e.hdr[:]))
	limit := e.limit
	if limit > 0 && limit < controlFrameMinLimit && flags&(flagEndStream|flagGRPCWebTrail) != 0 {
		// End-of-stream and trailer frames carry metadata, not a message:
		// they may exceed a small message limit, but stay bounded.
		limit = controlFrameMinLimit
	}
	if limit > 0 && size > limit {
		// Discard nothing: the stream is unusable after this error anyway.
		return flags, errorf(CodeResourceExhausted, "message size "+strconv.FormatInt(size, 10)+" exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
	}
	if size == 0 {
		return flags, nil
	}
	if size <= 64<<10 {
		buf.Grow(int(size))
	}
	e.lr = io.LimitedReader{R: e.r, N: size}
	got, err := buf.ReadFrom(&e.lr)
	if err != nil {
		return flags, err
	}
	if got != size {
		return flags, e.protocolError("incomplete envelope: got " + strconv.FormatInt(got, 10) + " of " + strconv.FormatInt(size, 10) + " payload bytes")
	}
	return flags, nil
}

// release returns a handler's read buffer to its pool; the reader must not
// be used afterwards. On clients it does nothing.
func (e *envelopeReader) release() {
	if e.br != nil && e.server {
		putBufReader(e.br)
		e.br = nil
		e.r = nil
	}
}

var bufReaderPool sync.Pool // *bufio.Reader

func getBufReader(r io.Reader) *bufio.Reader {
	if br, ok := bufReaderPool.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, 32<<10)
}

func putBufReader(br *bufio.Reader) {
	br.Reset(nil)
	bufReaderPool.Put(br)
}

func (e *envelopeReader) protocolError(msg string) *Error {
	return protocolError(e.server, msg)
}

// protocolError is the error for a peer that broke the protocol: a server
// blames the request (InvalidArgument), a client the response (Internal).
func protocolError(server bool, msg string) *Error {
	if server {
		return errorf(CodeInvalidArgument, "protocol error: "+msg)
	}
	return errorf(CodeInternal, "protocol error: "+msg)
}

// marshaler encodes messages for sending: codec, optional compression, send
// limit. It is shared by every protocol.
type marshaler struct {
	codec       Codec
	comp        *compressionPool // nil: identity
	sendMax     int64
	compressMin int
	sizes       *sizePair // where each message's sizes go; nil: nowhere
}

// marshal writes msg into dst (after any bytes already there) and reports
// whether the payload was compressed. The payload is what follows the
// original length of dst.
func (m *marshaler) marshal(dst *buffer, msg any) (compressed bool, err error) {
	start := dst.Len()
	if m.comp == nil {
		// Straight into dst, which the codec sizes first when it can, so
		// the message is written once, in place.
		b, err := marshalInto(m.codec, dst, msg)
		if err != nil {
			return false, errorf(CodeInternal, "marshal message: "+err.Error())
		}
		if m.sendMax > 0 && int64(len(b)) > m.sendMax {
			return false, errorf(CodeResourceExhausted, "message size "+strconv.Itoa(len(b))+" exceeds the send limit of "+strconv.FormatInt(m.sendMax, 10)+" bytes")
		}
		dst.setAppended(b)
		m.sizes.record(len(b), len(b))
		return false, nil
	}
	raw := getBuffer()
	defer putBuffer(raw)
	b, err := marshalInto(m.codec, raw, msg)
	if err != nil {
		return false, errorf(CodeInternal, "marshal message: "+err.Error())
	}
	if m.sendMax > 0 && int64(len(b)) > m.sendMax {
		return false, errorf(CodeResourceExhausted, "message size "+strconv.Itoa(len(b))+" exceeds the send limit of "+strconv.FormatInt(m.sendMax, 10)+" bytes")
	}
	if len(b) < m.compressMin {
		dst.Write(b)
		m.sizes.record(len(b), len(b))
		return false, nil
	}
	if err := m.comp.compress(dst, b); err != nil {
		dst.Truncate(start)
		return false, errorf(CodeInternal, "compress message: "+err.Error())
	}
	m.sizes.record(len(b), dst.Len()-start)
	return true, nil
}

// marshalEnvelope appends a whole envelope (prefix and payload) to dst.
func (m *marshaler) marshalEnvelope(dst *buffer, msg any, flags byte) error {
	start := dst.Len()
	var hdr [envelopePrefix]byte
	dst.Write(hdr[:])
	compressed, err := m.marshal(dst, msg)
	if err != nil {
		dst.Truncate(start)
		return err
	}
	if compressed {
		flags |= flagCompressed
	}
	envelope.PutPrefix(dst.Bytes()[start:], flags)
	return nil
}

// unmarshaler decodes received payloads: decompression with the read limit
// measured after decompression, then the codec.
type unmarshaler struct {
	codec   Codec
	comp    *compressionPool // nil: identity
	readMax int64
	server  bool
	sizes   *sizePair // where each message's sizes go; nil: nowhere
}

// unmarshal decodes payload, compressed or not, into msg.
func (u *unmarshaler) unmarshal(payload []byte, compressed bool, msg any) error {
	if compressed {
		if u.comp == nil {
			// The peer broke the protocol rather than sent a bad message:
			// Internal on both sides, as Connect and gRPC specify.
			return errorf(CodeInternal, "protocol error: received a compressed message without a negotiated compression")
		}
		out := getBuffer()
		defer putBuffer(out)
		if err := u.comp.decompress(out, payload, u.readMax); err != nil {
			if errors.Is(err, errTooLarge) {
				return errorf(CodeResourceExhausted, "decompressed message exceeds the limit of "+strconv.FormatInt(u.readMax, 10)+" bytes")
			}
			return u.protocolError("decompress message: " + err.Error())
		}
		u.sizes.record(out.Len(), len(payload))
		payload = out.Bytes()
		if err := u.codec.Unmarshal(payload, msg); err != nil {
			return u.decodeError(err)
		}
		return nil
	}
	if u.readMax > 0 && int64(len(payload)) > u.readMax {
		return errorf(CodeResourceExhausted, "message size "+strconv.Itoa(len(payload))+" exceeds the limit of "+strconv.FormatInt(u.readMax, 10)+" bytes")
	}
	u.sizes.record(len(payload), len(payload))
	if err := u.codec.Unmarshal(payload, msg); err != nil {
		return u.decodeError(err)
	}
	return nil
}

func (u *unmarshaler) decodeError(err error) *Error {
	if u.server {
		return errorf(CodeInvalidArgument, "unmarshal message: "+err.Error())
	}
	return errorf(CodeInternal, "unmarshal message: "+err.Error())
}

func (u *unmarshaler) protocolError(msg string) *Error {
	return protocolError(u.server, msg)
}
