package rpc

// StreamType is the kind of an RPC: unary or one of the three streaming kinds.
type StreamType uint8

// The four kinds of RPC. The values are bit flags: client streaming and server
// streaming together make bidirectional streaming.
const (
	StreamTypeUnary  StreamType = 0
	StreamTypeClient StreamType = 1
	StreamTypeServer StreamType = 2
	StreamTypeBidi   StreamType = StreamTypeClient | StreamTypeServer
)

// String returns "unary", "client_stream", "server_stream" or "bidi_stream".
func (s StreamType) String() string {
	switch s {
	case StreamTypeUnary:
		return "unary"
	case StreamTypeClient:
		return "client_stream"
	case StreamTypeServer:
		return "server_stream"
	case StreamTypeBidi:
		return "bidi_stream"
	}
	return "invalid"
}

// IdempotencyLevel is a method's idempotency_level option.
type IdempotencyLevel int

// The idempotency levels of google.protobuf.MethodOptions.
const (
	// IdempotencyUnknown: the method may have side effects.
	IdempotencyUnknown IdempotencyLevel = 0
	// IdempotencyNoSideEffects: the method has no side effects; Connect clients
	// may call it with HTTP GET.
	IdempotencyNoSideEffects IdempotencyLevel = 1
	// IdempotencyIdempotent: repeating the call has the same effect as one call.
	IdempotencyIdempotent IdempotencyLevel = 2
)

// Spec describes a procedure. Generated code declares one per method.
type Spec struct {
	// Procedure is the path of the method, "/package.Service/Method".
	Procedure string
	// StreamType is the kind of the method.
	StreamType StreamType
	// IdempotencyLevel is the method's idempotency_level option.
	IdempotencyLevel IdempotencyLevel
	// Schema is the method's protoreflect.MethodDescriptor in generated code,
	// nil otherwise.
	Schema any
}
