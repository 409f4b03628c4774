package rpc

// MessageSize is the size of one message of a call as it travelled: the
// bytes of its encoding (the codec's output) and the bytes on the wire
// after compression. Neither counts the protocols' framing (the 5-byte
// envelope prefix of streams, gRPC and gRPC-Web, the base64 of gRPC-Web
// text and of Connect GET queries) or headers.
type MessageSize struct {
	// Uncompressed is the size of the encoded message.
	Uncompressed int
	// Compressed is its size as sent: after compression, or equal to
	// Uncompressed for a message sent uncompressed.
	Compressed int
}

// wireSizes are the sizes of the last message sent and received on a call,
// kept in 16 bytes (a call's state is allocated per call). The send side
// and the receive side of a call each write their own field.
type wireSizes struct {
	sent, received sizePair
}

// sizePair is a MessageSize as stored: messages above 4 GiB are recorded as
// 4 GiB - 1.
type sizePair struct{ uncompressed, compressed uint32 }

func (p sizePair) size() MessageSize {
	return MessageSize{Uncompressed: int(p.uncompressed), Compressed: int(p.compressed)}
}

// LastSentSize returns the size of the last message this side of the call
// has sent: on a handler, the last response, once conn.Send has returned
// (for a unary method, once the call chain's innermost step has sent it);
// on a client, the request of a unary call once the innermost step has
// returned (of the last attempt), or the last message of a stream once
// Send has returned. It is zero before any message was sent.
//
// It is meant to be read by an interceptor on the goroutine that sent the
// message, after the send: each message overwrites it. A client that has
// no interceptor and no CallInfo of its own on the context records nothing.
func (c *CallInfo) LastSentSize() MessageSize { return c.wire.sent.size() }

// LastReceivedSize returns the size of the last message this side of the
// call has received, read on the goroutine that received it: on a handler
// after conn.Receive (unary: decoding the request), on a client after a
// unary call's innermost step or a stream's Receive. See LastSentSize.
func (c *CallInfo) LastReceivedSize() MessageSize { return c.wire.received.size() }

// sentSize returns where the sizes of sent messages are recorded: nil for
// a call without a CallInfo, which records nothing.
func (c *CallInfo) sentSize() *sizePair {
	if c == nil {
		return nil
	}
	return &c.wire.sent
}

// receivedSize is sentSize for received messages.
func (c *CallInfo) receivedSize() *sizePair {
	if c == nil {
		return nil
	}
	return &c.wire.received
}

// record stores a message's sizes in p, if it is not nil.
func (p *sizePair) record(uncompressed, compressed int) {
	if p != nil {
		p.uncompressed, p.compressed = clamp32(uncompressed), clamp32(compressed)
	}
}

func clamp32(n int) uint32 {
	if uint64(n) > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(n)
}
