package grpccompat

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// Registrar is a grpc.ServiceRegistrar that mounts grpc-go services as
// polyconnect handlers: pass it to protoc-gen-go-grpc's RegisterFooServer,
// then serve it (it is an http.Handler) on any polyconnect transport. Each
// method answers Connect, gRPC and gRPC-Web.
//
// Register every service before serving; ServeHTTP is safe for concurrent
// use, RegisterService is not safe to call concurrently with it.
type Registrar struct {
	cfg      registrarConfig
	unary    grpc.UnaryServerInterceptor  // the chain of cfg.unary; nil without one
	stream   grpc.StreamServerInterceptor // the chain of cfg.stream; nil without one
	mu       sync.RWMutex
	handlers map[string]*rpc.Handler
}

var _ grpc.ServiceRegistrar = (*Registrar)(nil)

// NewRegistrar returns an empty Registrar.
func NewRegistrar(opts ...RegistrarOption) *Registrar {
	r := &Registrar{handlers: make(map[string]*rpc.Handler)}
	for _, o := range opts {
		o.applyRegistrar(&r.cfg)
	}
	r.unary = chainUnaryServer(r.cfg.unary)
	r.stream = chainStreamServer(r.cfg.stream)
	return r
}

// RegisterService implements grpc.ServiceRegistrar. It panics, as grpc-go's
// server does, if impl does not implement desc.HandlerType or a method is
// registered twice. Methods whose protobuf descriptors are registered (as
// protoc-gen-go's output does) keep their idempotency level, so those
// without side effects also answer Connect GET.
func (r *Registrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	if impl != nil && desc.HandlerType != nil {
		ht := reflect.TypeOf(desc.HandlerType).Elem()
		if !reflect.TypeOf(impl).Implements(ht) {
			panic(fmt.Sprintf("grpccompat: RegisterService: %T does not implement %v", impl, ht))
		}
	}
	var sd protoreflect.ServiceDescriptor
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName)); err == nil {
		sd, _ = d.(protoreflect.ServiceDescriptor)
	}
	spec := func(name string, kind rpc.StreamType) rpc.Spec {
		if sd != nil {
			if md := sd.Methods().ByName(protoreflect.Name(name)); md != nil {
				return raw.SpecOf(md)
			}
		}
		return rpc.Spec{Procedure: "/" + desc.ServiceName + "/" + name, StreamType: kind}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range desc.Methods {
		m := &desc.Methods[i]
		s := spec(m.MethodName, rpc.StreamTypeUnary)
		r.add(s, raw.NewHandler(s, r.unaryCall(s, m.Handler, impl), r.cfg.handlers...))
	}
	for i := range desc.Streams {
		sdesc := &desc.Streams[i]
		var kind rpc.StreamType
		if sdesc.ClientStreams {
			kind |= rpc.StreamTypeClient
		}
		if sdesc.ServerStreams {
			kind |= rpc.StreamTypeServer
		}
		s := spec(sdesc.StreamName, kind)
		r.add(s, raw.NewHandler(s, r.streamCall(s, sdesc, impl), r.cfg.handlers...))
	}
}

func (r *Registrar) add(spec rpc.Spec, h *rpc.Handler) {
	if _, dup := r.handlers[spec.Procedure]; dup {
		panic("grpccompat: RegisterService: " + spec.Procedure + " is registered twice")
	}
	r.handlers[spec.Procedure] = h
}

// ServeHTTP implements http.Handler: it routes by path to the registered
// methods, and answers others as rpc.NotFound does.
func (r *Registrar) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.RLock()
	h := r.handlers[req.URL.Path]
	r.mu.RUnlock()
	if h == nil {
		rpc.NotFound(w, req)
		return
	}
	h.ServeHTTP(w, req)
}

// Procedures returns the paths of the registered methods, sorted.
func (r *Registrar) Procedures() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for p := range r.handlers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// GetServiceInfo returns the registered services as grpc.Server's method of
// that name does, keyed by service name.
func (r *Registrar) GetServiceInfo() map[string]grpc.ServiceInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]grpc.ServiceInfo)
	for _, h := range r.handlers {
		spec := h.Spec()
		svc, method := splitProcedure(spec.Procedure)
		info := out[svc]
		info.Methods = append(info.Methods, grpc.MethodInfo{
			Name:           method,
			IsClientStream: spec.StreamType&rpc.StreamTypeClient != 0,
			IsServerStream: spec.StreamType&rpc.StreamTypeServer != 0,
		})
		out[svc] = info
	}
	for svc, info := range out {
		slices.SortFunc(info.Methods, func(a, b grpc.MethodInfo) int {
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		})
		out[svc] = info
	}
	return out
}

func splitProcedure(p string) (service, method string) {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[1:i], p[i+1:]
		}
	}
	return p, ""
}

// newServerCall returns the context of one call.
func newServerCall(ctx context.Context, call raw.Call, method string, unary bool) *serverCall {
	info, _ := rpc.HandlerCallInfo(ctx) // a raw handler's context always has one
	return &serverCall{Context: ctx, info: info, call: call, method: method, unary: unary}
}

// unaryCall adapts a grpc-go unary method handler.
func (r *Registrar) unaryCall(spec rpc.Spec, handler grpc.MethodHandler, impl any) raw.HandlerFunc {
	hasHandlerOpts := len(r.cfg.handlers) > 0
	return func(ctx context.Context, call raw.Call) error {
		sc := newServerCall(ctx, call, spec.Procedure, true)
		dec := func(in any) error {
			msg, ok := in.(proto.Message)
			if !ok {
				return status.Errorf(codes.Internal, "grpccompat: request type %T is not a proto.Message", in)
			}
			return call.Receive(msg)
		}
		var interceptor grpc.UnaryServerInterceptor
		switch {
		case hasHandlerOpts:
			// The polyconnect handler interceptors' unary chain (if any)
			// sees the request grpc-go's handler decoded, then the grpc-go
			// interceptors run inside it.
			interceptor = func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				msg, ok := req.(proto.Message)
				if !ok {
					return nil, status.Errorf(codes.Internal, "grpccompat: request type %T is not a proto.Message", req)
				}
				return call.Unary(ctx, msg, func(ctx context.Context, req proto.Message) (proto.Message, error) {
					var res any
					var err error
					if r.unary != nil {
						res, err = r.unary(ctx, req, info, handler)
					} else {
						res, err = handler(ctx, req)
					}
					if err != nil {
						return nil, err
					}
					return asMessage(res)
				})
			}
		case r.unary != nil:
			interceptor = r.unary
		}
		res, err := handler(impl, sc, dec, interceptor)
		if err != nil {
			return toRPCError(err)
		}
		msg, err := asMessage(res)
		if err != nil {
			return err
		}
		sc.mu.Lock()
		sc.headerSent = true
		sc.mu.Unlock()
		return call.Send(msg)
	}
}

func asMessage(res any) (proto.Message, error) {
	if res == nil {
		return nil, rpc.NewError(rpc.CodeInternal, "grpccompat: the handler returned a nil response and a nil error")
	}
	msg, ok := res.(proto.Message)
	if !ok {
		return nil, rpc.NewError(rpc.CodeInternal, fmt.Sprintf("grpccompat: response type %T is not a proto.Message", res))
	}
	return msg, nil
}

// streamCall adapts a grpc-go stream handler.
func (r *Registrar) streamCall(spec rpc.Spec, desc *grpc.StreamDesc, impl any) raw.HandlerFunc {
	info := &grpc.StreamServerInfo{FullMethod: spec.Procedure, IsClientStream: desc.ClientStreams, IsServerStream: desc.ServerStreams}
	handler := desc.Handler
	return func(ctx context.Context, call raw.Call) error {
		ss := serverStream{newServerCall(ctx, call, spec.Procedure, false)}
		var err error
		if r.stream != nil {
			err = r.stream(impl, ss, info, handler)
		} else {
			err = handler(impl, ss)
		}
		return toRPCError(err)
	}
}

func chainUnaryServer(ints []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return ints[0](ctx, req, info, unaryServerStep(ints, 1, info, handler))
	}
}

func unaryServerStep(ints []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(ints) {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return ints[i](ctx, req, info, unaryServerStep(ints, i+1, info, final))
	}
}

func chainStreamServer(ints []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	switch len(ints) {
	case 0:
		return nil
	case 1:
		return ints[0]
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return ints[0](srv, ss, info, streamServerStep(ints, 1, info, handler))
	}
}

func streamServerStep(ints []grpc.StreamServerInterceptor, i int, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if i == len(ints) {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return ints[i](srv, ss, info, streamServerStep(ints, i+1, info, final))
	}
}
