package grpccompat

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// ClientConn is a grpc.ClientConnInterface over polyconnect: pass it to
// protoc-gen-go-grpc's NewFooClient, and the generated client calls over
// the HTTP client it was given (any polyconnect transport's client, or an
// *http.Client) with the protocol of its options (gRPC unless
// WithClientOptions says otherwise). It is safe for concurrent use; create
// one per server and share it.
//
// Call options: grpc.Header, grpc.Trailer and grpc.Peer are honoured;
// others (compressors, content subtypes, wait-for-ready, message size
// limits) are ignored: set their polyconnect counterparts with
// WithClientOptions.
type ClientConn struct {
	httpClient rpc.HTTPClient
	baseURL    string
	cfg        clientConfig
	unary      grpc.UnaryClientInterceptor
	stream     grpc.StreamClientInterceptor
	clients    sync.Map // method → *raw.Client (unary)
	streams    sync.Map // streamKeyT → *raw.Client
}

type streamClientKey struct {
	method         string
	client, server bool
}

var _ grpc.ClientConnInterface = (*ClientConn)(nil)

// NewClientConn returns a ClientConn that calls the server at baseURL
// ("http://host:port", "https://host", with an optional path prefix) with
// httpClient. The protocol is gRPC unless WithClientOptions sets another.
func NewClientConn(httpClient rpc.HTTPClient, baseURL string, opts ...ClientOption) *ClientConn {
	c := &ClientConn{httpClient: httpClient, baseURL: baseURL}
	c.cfg.rpc = []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC)}
	for _, o := range opts {
		o.applyClient(&c.cfg)
	}
	c.unary = chainUnaryClient(c.cfg.unary)
	c.stream = chainStreamClient(c.cfg.stream)
	return c
}

// specFor returns the Spec of method ("/package.Service/Method"): from its
// protobuf descriptor when one is registered, else with the kind given.
func specFor(method string, kind rpc.StreamType) rpc.Spec {
	svc, name := splitProcedure(method)
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc)); err == nil {
		if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
			if md := sd.Methods().ByName(protoreflect.Name(name)); md != nil {
				spec := raw.SpecOf(md)
				if spec.StreamType == kind {
					return spec
				}
			}
		}
	}
	return rpc.Spec{Procedure: method, StreamType: kind}
}

func (c *ClientConn) unaryClient(method string) *raw.Client {
	if rc, ok := c.clients.Load(method); ok {
		return rc.(*raw.Client)
	}
	rc := raw.NewClient(c.httpClient, c.baseURL, specFor(method, rpc.StreamTypeUnary), c.cfg.rpc...)
	actual, _ := c.clients.LoadOrStore(method, rc)
	return actual.(*raw.Client)
}

func (c *ClientConn) streamClient(method string, desc *grpc.StreamDesc) *raw.Client {
	key := streamClientKey{method, desc.ClientStreams, desc.ServerStreams}
	if rc, ok := c.streams.Load(key); ok {
		return rc.(*raw.Client)
	}
	var kind rpc.StreamType
	if desc.ClientStreams {
		kind |= rpc.StreamTypeClient
	}
	if desc.ServerStreams {
		kind |= rpc.StreamTypeServer
	}
	if kind == rpc.StreamTypeUnary {
		// A StreamDesc of neither kind: a unary method called as a stream,
		// which gRPC allows; the Connect protocol needs a stream type, and
		// gRPC frames both the same way.
		kind = rpc.StreamTypeBidi
	}
	rc := raw.NewClient(c.httpClient, c.baseURL, specFor(method, kind), c.cfg.rpc...)
	actual, _ := c.streams.LoadOrStore(key, rc)
	return actual.(*raw.Client)
}

// callOptions are the grpc.CallOptions a call honours.
type callOptions struct {
	header, trailer *metadata.MD
	peer            *peer.Peer
}

func parseCallOptions(opts []grpc.CallOption) (co callOptions) {
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			co.header = o.HeaderAddr
		case grpc.TrailerCallOption:
			co.trailer = o.TrailerAddr
		case grpc.PeerCallOption:
			co.peer = o.PeerAddr
		}
	}
	return co
}

// callContext attaches a client CallInfo to ctx when the call needs one:
// outgoing metadata to send, or response metadata to report.
func callContext(ctx context.Context, co callOptions, always bool) (context.Context, *rpc.CallInfo) {
	md, hasMD := metadata.FromOutgoingContext(ctx)
	if !hasMD && !always && co.header == nil && co.trailer == nil {
		return ctx, nil
	}
	ctx, info := rpc.NewClientContext(ctx)
	if hasMD {
		addMetadata(info.RequestHeader(), md)
	}
	return ctx, info
}

func (co callOptions) report(info *rpc.CallInfo, err error) {
	if info == nil {
		return
	}
	if co.header != nil {
		*co.header = toMetadata(info.ResponseHeader())
	}
	if co.trailer != nil {
		tr := info.ResponseTrailer()
		if len(tr) == 0 {
			if re := asRPCError(err); re != nil {
				tr = re.Meta()
			}
		}
		*co.trailer = toMetadata(tr)
	}
	if co.peer != nil {
		co.peer.Addr = peerAddr(info.Peer().Addr)
	}
}

// Invoke implements grpc.ClientConnInterface: a unary call.
func (c *ClientConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if c.unary != nil {
		return c.unary(ctx, method, args, reply, nil, c.invoke, opts...)
	}
	return c.invoke(ctx, method, args, reply, nil, opts...)
}

func (c *ClientConn) invoke(ctx context.Context, method string, args, reply any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
	co := parseCallOptions(opts)
	ctx, info := callContext(ctx, co, co.peer != nil)
	err := c.unaryClient(method).Invoke(ctx, args, reply)
	co.report(info, err)
	return toStatusError(err)
}

// NewStream implements grpc.ClientConnInterface: a streaming call.
func (c *ClientConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if c.stream != nil {
		return c.stream(ctx, desc, nil, method, c.newStream, opts...)
	}
	return c.newStream(ctx, desc, nil, method, opts...)
}

func (c *ClientConn) newStream(ctx context.Context, desc *grpc.StreamDesc, _ *grpc.ClientConn, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	co := parseCallOptions(opts)
	ctx, info := callContext(ctx, co, true)
	conn, err := c.streamClient(method, desc).NewStream(ctx)
	if err != nil {
		co.report(info, err)
		return nil, toStatusError(err)
	}
	return &clientStream{ctx: ctx, conn: conn, info: info, co: co, serverStreams: desc.ServerStreams}, nil
}

func chainUnaryClient(ints []grpc.UnaryClientInterceptor) grpc.UnaryClientInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return ints[0](ctx, method, req, reply, cc, unaryClientStep(ints, 1, invoker), opts...)
	}
}

func unaryClientStep(ints []grpc.UnaryClientInterceptor, i int, final grpc.UnaryInvoker) grpc.UnaryInvoker {
	if i == len(ints) {
		return final
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
		return ints[i](ctx, method, req, reply, cc, unaryClientStep(ints, i+1, final), opts...)
	}
}

func chainStreamClient(ints []grpc.StreamClientInterceptor) grpc.StreamClientInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return ints[0](ctx, desc, cc, method, streamClientStep(ints, 1, streamer), opts...)
	}
}

func streamClientStep(ints []grpc.StreamClientInterceptor, i int, final grpc.Streamer) grpc.Streamer {
	if i == len(ints) {
		return final
	}
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return ints[i](ctx, desc, cc, method, streamClientStep(ints, i+1, final), opts...)
	}
}
