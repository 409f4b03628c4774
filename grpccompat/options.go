package grpccompat

import (
	"google.golang.org/grpc"

	"polyconnect.dev/protocol/rpc"
)

// RegistrarOption configures a Registrar.
type RegistrarOption interface{ applyRegistrar(*registrarConfig) }

// ClientOption configures a ClientConn.
type ClientOption interface{ applyClient(*clientConfig) }

type registrarConfig struct {
	unary    []grpc.UnaryServerInterceptor
	stream   []grpc.StreamServerInterceptor
	handlers []rpc.HandlerOption
}

type clientConfig struct {
	unary  []grpc.UnaryClientInterceptor
	stream []grpc.StreamClientInterceptor
	rpc    []rpc.ClientOption
}

type registrarOptionFunc func(*registrarConfig)

func (f registrarOptionFunc) applyRegistrar(c *registrarConfig) { f(c) }

type clientOptionFunc func(*clientConfig)

func (f clientOptionFunc) applyClient(c *clientConfig) { f(c) }

// WithUnaryServerInterceptors adds grpc-go unary server interceptors, as
// grpc.ChainUnaryInterceptor does: the first is the outermost. They run
// inside the polyconnect handler interceptors of WithHandlerOptions.
func WithUnaryServerInterceptors(interceptors ...grpc.UnaryServerInterceptor) RegistrarOption {
	return registrarOptionFunc(func(c *registrarConfig) { c.unary = append(c.unary, interceptors...) })
}

// WithStreamServerInterceptors adds grpc-go stream server interceptors, as
// grpc.ChainStreamInterceptor does: the first is the outermost.
func WithStreamServerInterceptors(interceptors ...grpc.StreamServerInterceptor) RegistrarOption {
	return registrarOptionFunc(func(c *registrarConfig) { c.stream = append(c.stream, interceptors...) })
}

// WithHandlerOptions passes polyconnect handler options (interceptors,
// codecs, compression, read limits) to every handler the Registrar mounts.
func WithHandlerOptions(opts ...rpc.HandlerOption) RegistrarOption {
	return registrarOptionFunc(func(c *registrarConfig) { c.handlers = append(c.handlers, opts...) })
}

// WithUnaryClientInterceptors adds grpc-go unary client interceptors, as
// grpc.WithChainUnaryInterceptor does: the first is the outermost. The
// interceptors get a nil *grpc.ClientConn: there is none.
func WithUnaryClientInterceptors(interceptors ...grpc.UnaryClientInterceptor) ClientOption {
	return clientOptionFunc(func(c *clientConfig) { c.unary = append(c.unary, interceptors...) })
}

// WithStreamClientInterceptors adds grpc-go stream client interceptors, as
// grpc.WithChainStreamInterceptor does: the first is the outermost. The
// interceptors get a nil *grpc.ClientConn: there is none.
func WithStreamClientInterceptors(interceptors ...grpc.StreamClientInterceptor) ClientOption {
	return clientOptionFunc(func(c *clientConfig) { c.stream = append(c.stream, interceptors...) })
}

// WithClientOptions passes polyconnect client options (the protocol, codec,
// compression, polyconnect interceptors) to every call of the ClientConn.
func WithClientOptions(opts ...rpc.ClientOption) ClientOption {
	return clientOptionFunc(func(c *clientConfig) { c.rpc = append(c.rpc, opts...) })
}
