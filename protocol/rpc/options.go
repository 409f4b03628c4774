package rpc

import "slices"

// ClientOption configures a Client. Options are sealed: only this package
// implements them.
type ClientOption interface{ applyClient(*clientConfig) }

// HandlerOption configures a Handler.
type HandlerOption interface{ applyHandler(*handlerConfig) }

// Option configures both clients and handlers.
type Option interface {
	ClientOption
	HandlerOption
}

// DefaultReadMaxBytes is the largest message, after decompression, that
// clients and handlers accept unless WithReadMaxBytes says otherwise. A
// limit keeps memory bounded against hostile peers.
const DefaultReadMaxBytes = 32 << 20

// DefaultGetURLMaxBytes is the longest URL a Connect client builds for a GET
// request before falling back to POST.
const DefaultGetURLMaxBytes = 8 << 10

type optionFunc struct {
	client  func(*clientConfig)
	handler func(*handlerConfig)
}

func (o optionFunc) applyClient(c *clientConfig) {
	if o.client != nil {
		o.client(c)
	}
}

func (o optionFunc) applyHandler(c *handlerConfig) {
	if o.handler != nil {
		o.handler(c)
	}
}

type clientOptionFunc func(*clientConfig)

func (f clientOptionFunc) applyClient(c *clientConfig) { f(c) }

type handlerOptionFunc func(*handlerConfig)

func (f handlerOptionFunc) applyHandler(c *handlerConfig) { f(c) }

// WithCodec adds a codec. On a handler it is accepted alongside proto and
// JSON (replacing a built-in one of the same name); on a client it becomes the
// codec used to send requests.
func WithCodec(c Codec) Option {
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.codec = c },
		handler: func(cfg *handlerConfig) { cfg.codecs.add(c) },
	}
}

// WithProtoJSON makes a client send JSON instead of binary protobuf.
func WithProtoJSON() ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.codec = ProtoJSONCodec() })
}

// WithProtocol selects the client's wire protocol. The default is Connect.
func WithProtocol(p Protocol) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.protocol = p })
}

// WithCompression makes an algorithm available to this client or handler,
// beyond the default set (gzip, built in, and every algorithm registered with
// RegisterCompression, as importing a compress/… sub-package does). It
// replaces an algorithm of the same name. A client accepts the algorithms of
// its set in responses; a handler accepts them in requests and may answer
// with them.
func WithCompression(c Compression) Option {
	e := compressionEdit{add: c}
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.compressions = append(cfg.compressions, e) },
		handler: func(cfg *handlerConfig) { cfg.compressions = append(cfg.compressions, e) },
	}
}

// WithCompressions sets the exact set of algorithms of this client or
// handler, in order of preference, replacing the default set (gzip and the
// registered algorithms): what other packages register no longer changes it.
// WithCompressions() with no algorithm leaves identity only. Options apply in
// order, so WithCompression and WithoutCompression given after it edit the
// set it makes.
func WithCompressions(cs ...Compression) Option {
	e := compressionEdit{exact: true, set: slices.Clone(cs)}
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.compressions = append(cfg.compressions, e) },
		handler: func(cfg *handlerConfig) { cfg.compressions = append(cfg.compressions, e) },
	}
}

// WithoutCompression removes the named algorithms ("gzip" included) from this
// client or handler. A client no longer advertises or accepts them, a handler
// answers requests compressed with them with CodeUnimplemented and never
// compresses with them. Names not in the set are ignored; identity cannot be
// removed.
func WithoutCompression(names ...string) Option {
	e := compressionEdit{remove: slices.Clone(names)}
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.compressions = append(cfg.compressions, e) },
		handler: func(cfg *handlerConfig) { cfg.compressions = append(cfg.compressions, e) },
	}
}

// WithSendCompression makes a client compress requests with the named
// algorithm, which must be built in, registered, or given with
// WithCompression. Handlers answer in the algorithm the client sent with.
func WithSendCompression(name string) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.sendCompression = name })
}

// DefaultHandlerCompressMinBytes is the smallest response message a handler
// compresses unless WithCompressMinBytes says otherwise. Handlers compress
// on their own initiative (the client merely accepts compression), and below
// about a kilobyte compression costs more CPU than it saves bytes. Clients
// compress whatever they are told to (WithSendCompression) by default.
const DefaultHandlerCompressMinBytes = 1024

// WithCompressMinBytes leaves messages smaller than n bytes uncompressed.
// The default is 0 on clients and DefaultHandlerCompressMinBytes on handlers.
func WithCompressMinBytes(n int) Option {
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.compressMin = n },
		handler: func(cfg *handlerConfig) { cfg.compressMin = n },
	}
}

// WithReadMaxBytes limits the size of a received message, measured after
// decompression. Larger messages fail with CodeResourceExhausted. A negative
// n removes the limit; 0 means the default, DefaultReadMaxBytes (so a zero
// value read from a config file never switches the protection off).
func WithReadMaxBytes(n int64) Option {
	if n == 0 {
		n = DefaultReadMaxBytes
	}
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.readMax = n },
		handler: func(cfg *handlerConfig) { cfg.readMax = n },
	}
}

// WithSendMaxBytes limits the size of a sent message before compression.
// Sending a larger one fails with CodeResourceExhausted. The default is no
// limit.
func WithSendMaxBytes(n int64) Option {
	return optionFunc{
		client:  func(cfg *clientConfig) { cfg.sendMax = n },
		handler: func(cfg *handlerConfig) { cfg.sendMax = n },
	}
}

// WithClientInterceptors adds interceptors to a client. The first one given
// is the outermost: it sees the call first and the result last. Options
// apply in order, so interceptors of a later WithClientInterceptors run
// inside those of an earlier one.
func WithClientInterceptors(interceptors ...ClientInterceptor) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.interceptors = append(cfg.interceptors, interceptors...) })
}

// WithHandlerInterceptors adds interceptors to a handler. The first one
// given is the outermost, in the call chain and in the unary chain: it sees
// the call first and its outcome last. Options apply in order, so
// interceptors of a later WithHandlerInterceptors run inside those of an
// earlier one.
func WithHandlerInterceptors(interceptors ...HandlerInterceptor) HandlerOption {
	return handlerOptionFunc(func(cfg *handlerConfig) { cfg.interceptors = append(cfg.interceptors, interceptors...) })
}

// WithGRPCWebText makes a gRPC-Web client send its requests base64-encoded,
// as application/grpc-web-text, which some proxies and browsers' older
// transports need; servers answer in the same encoding, which the client
// reads either way. It has no effect on the other protocols.
func WithGRPCWebText() ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.grpcWebText = true })
}

// WithGetURLMaxBytes sets the longest URL a Connect client uses for a GET
// request to a method without side effects; longer requests use POST.
func WithGetURLMaxBytes(n int) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.getURLMax = n })
}

// WithoutHTTPGet makes a Connect client use POST even for methods without
// side effects.
func WithoutHTTPGet() ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.noGet = true })
}

// WithRequireConnectProtocolHeader makes a handler reject Connect requests
// that lack the Connect-Protocol-Version header (or connect=v1 query
// parameter for GET), which keeps plain HTTP clients from calling it by
// accident.
func WithRequireConnectProtocolHeader() HandlerOption {
	return handlerOptionFunc(func(cfg *handlerConfig) { cfg.requireConnectVersion = true })
}

// WithOptions bundles options into one.
func WithOptions(opts ...Option) Option {
	return optionFunc{
		client: func(cfg *clientConfig) {
			for _, o := range opts {
				o.applyClient(cfg)
			}
		},
		handler: func(cfg *handlerConfig) {
			for _, o := range opts {
				o.applyHandler(cfg)
			}
		},
	}
}

// WithClientOptions bundles client options into one.
func WithClientOptions(opts ...ClientOption) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) {
		for _, o := range opts {
			o.applyClient(cfg)
		}
	})
}

// WithHandlerOptions bundles handler options into one.
func WithHandlerOptions(opts ...HandlerOption) HandlerOption {
	return handlerOptionFunc(func(cfg *handlerConfig) {
		for _, o := range opts {
			o.applyHandler(cfg)
		}
	})
}
