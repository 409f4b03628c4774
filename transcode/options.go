package transcode

import (
	"google.golang.org/protobuf/encoding/protojson"
	"polyconnect.dev/protocol/rpc"
)

// Option configures a [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	readMax     int64
	strictQuery bool
	marshal     protojson.MarshalOptions
	unmarshal   protojson.UnmarshalOptions
	patchMask   bool
	compressMin int
}

func defaultConfig() config {
	return config{
		readMax: DefaultReadMaxBytes,
		// The JSON grpc-gateway writes by default, so clients moving over
		// see the same documents: every field, unset ones with their zero
		// values, lowerCamelCase names, enums by name.
		marshal: protojson.MarshalOptions{EmitUnpopulated: true},
		// Unknown body fields are ignored, as grpc-gateway does by default
		// and as the proto3 JSON mapping allows.
		unmarshal:   protojson.UnmarshalOptions{DiscardUnknown: true},
		patchMask:   true,
		compressMin: DefaultCompressMinBytes,
	}
}

// DefaultReadMaxBytes is the largest REST request body a [Handler] reads
// unless [WithReadMaxBytes] says otherwise: the rpc package's default for
// messages. A larger body is answered with RESOURCE_EXHAUSTED (HTTP 413)
// without being read further.
const DefaultReadMaxBytes = rpc.DefaultReadMaxBytes

// WithReadMaxBytes sets the largest REST request body, after decompression,
// the handler reads. n <= 0 means no limit, which trusts every client with
// the server's memory.
func WithReadMaxBytes(n int64) Option {
	return optionFunc(func(c *config) { c.readMax = n })
}

// WithRejectUnknownQueryParameters makes a query parameter that names no
// field of the request an INVALID_ARGUMENT error. By default such parameters
// are ignored, as grpc-gateway ignores them, so cache-busting parameters
// ("?_=1712") and parameters for other layers pass.
func WithRejectUnknownQueryParameters() Option {
	return optionFunc(func(c *config) { c.strictQuery = true })
}

// WithRejectUnknownFields makes a JSON body field that the request message
// does not have an INVALID_ARGUMENT error. By default such fields are
// ignored, as grpc-gateway does.
func WithRejectUnknownFields() Option {
	return optionFunc(func(c *config) { c.unmarshal.DiscardUnknown = false })
}

// WithMarshalOptions sets how response messages (and error details) are
// written as JSON. The default is protojson.MarshalOptions{EmitUnpopulated:
// true}, grpc-gateway's: every field appears, unset ones with zero values.
func WithMarshalOptions(o protojson.MarshalOptions) Option {
	return optionFunc(func(c *config) { c.marshal = o })
}

// WithoutPatchFieldMask turns off the field mask that a PATCH route fills
// in. By default, for a PATCH binding whose body is one field and whose
// request has exactly one google.protobuf.FieldMask field, an update mask
// the client left empty is set to the fields present in the JSON body, as
// grpc-gateway does, so a partial update touches only what was sent.
func WithoutPatchFieldMask() Option {
	return optionFunc(func(c *config) { c.patchMask = false })
}

// WithCompressMinBytes sets the smallest unary response body the handler
// gzips, for clients whose Accept-Encoding allows gzip (default
// DefaultCompressMinBytes); n < 0 never compresses, for servers behind a
// proxy that compresses. Streams are not compressed: each message goes out
// as it comes.
func WithCompressMinBytes(n int) Option {
	return optionFunc(func(c *config) { c.compressMin = n })
}
