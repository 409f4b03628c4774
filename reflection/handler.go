package reflection

import (
	"context"
	"net/http"

	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
	rpb "polyconnect.dev/reflection/internal/reflectionv1"
	"polyconnect.dev/reflection/internal/reflectionv1/reflectionv1rpc"
	"polyconnect.dev/reflection/internal/reflectionv1alpha"
	"polyconnect.dev/reflection/internal/reflectionv1alpha/reflectionv1alpharpc"
)

// The fully-qualified names of the two versions of the reflection service.
// List them among a server's services if clients should see reflection
// itself; the reflector describes them without any option.
const (
	// ServiceNameV1 is "grpc.reflection.v1.ServerReflection".
	ServiceNameV1 = reflectionv1rpc.ServerReflectionName
	// ServiceNameV1Alpha is "grpc.reflection.v1alpha.ServerReflection", the
	// first version, which older clients ask for.
	ServiceNameV1Alpha = reflectionv1alpharpc.ServerReflectionName
)

// NewHandlerV1 returns version v1 of the server reflection service backed by
// r, and the path to mount it on, "/grpc.reflection.v1.ServerReflection/",
// like the handlers that protoc-gen-polyconnect-go generates:
//
//	mux.Handle(reflection.NewHandlerV1(reflector))
//	mux.Handle(reflection.NewHandlerV1Alpha(reflector))
//
// Mount both versions: clients try v1 first and older ones know only v1alpha.
// The service is a bidirectional stream, which gRPC and gRPC-Web clients, and
// Connect clients over HTTP/2, call; the options apply as they do to generated
// handlers.
func NewHandlerV1(r *Reflector, opts ...rpc.HandlerOption) (string, http.Handler) {
	return reflectionv1rpc.NewServerReflectionHandler(v1Service{r}, opts...)
}

// NewHandlerV1Alpha returns version v1alpha of the server reflection service
// backed by r, and the path to mount it on,
// "/grpc.reflection.v1alpha.ServerReflection/". It answers exactly as
// [NewHandlerV1]'s service does; the two versions differ only in their names.
func NewHandlerV1Alpha(r *Reflector, opts ...rpc.HandlerOption) (string, http.Handler) {
	return reflectionv1alpharpc.NewServerReflectionHandler(v1alphaService{r}, opts...)
}

// v1Service adapts a Reflector to the generated v1 handler interface.
type v1Service struct{ r *Reflector }

func (s v1Service) ServerReflectionInfo(ctx context.Context, stream *rpc.BidiStream[rpb.ServerReflectionRequest, rpb.ServerReflectionResponse]) error {
	return s.r.serveStream(ctx, stream.Receive, stream.Send)
}

// v1alphaService adapts a Reflector to the generated v1alpha handler
// interface. The v1alpha messages have the same fields and numbers as v1's,
// so each converts to the other through the wire format.
type v1alphaService struct{ r *Reflector }

func (s v1alphaService) ServerReflectionInfo(ctx context.Context, stream *rpc.BidiStream[reflectionv1alpha.ServerReflectionRequest, reflectionv1alpha.ServerReflectionResponse]) error {
	receive := func() (*rpb.ServerReflectionRequest, error) {
		req, err := stream.Receive()
		if err != nil {
			return nil, err
		}
		out := new(rpb.ServerReflectionRequest)
		if err := convert(req, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	send := func(res *rpb.ServerReflectionResponse) error {
		out := new(reflectionv1alpha.ServerReflectionResponse)
		if err := convert(res, out); err != nil {
			return err
		}
		return stream.Send(out)
	}
	return s.r.serveStream(ctx, receive, send)
}

// convert copies a message into one of another type with the same fields.
func convert(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return rpc.WrapError(rpc.CodeInternal, err)
	}
	if err := proto.Unmarshal(b, to); err != nil {
		return rpc.WrapError(rpc.CodeInternal, err)
	}
	return nil
}
