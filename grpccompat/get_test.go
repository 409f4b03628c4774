package grpccompat_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/rpc"
)

// lookupServer is written as protoc-gen-go-grpc writes a service, for a
// method with idempotency_level NO_SIDE_EFFECTS (whose descriptor the test
// registers, as protoc-gen-go's output would).
type lookupServer interface {
	Lookup(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

type lookupImpl struct{}

func (lookupImpl) Lookup(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	info, _ := rpc.HandlerCallInfo(ctx)
	return wrapperspb.String(req.GetValue() + " via " + info.HTTPMethod()), nil
}

var lookupDesc = grpc.ServiceDesc{
	ServiceName: "grpccompat.test.v1.LookupService",
	HandlerType: (*lookupServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Lookup",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			if interceptor == nil {
				return srv.(lookupServer).Lookup(ctx, in)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/grpccompat.test.v1.LookupService/Lookup"}
			return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
				return srv.(lookupServer).Lookup(ctx, req.(*wrapperspb.StringValue))
			})
		},
	}},
	Metadata: "grpccompat/test/v1/lookup.proto",
}

func registerLookupDescriptor(t *testing.T) {
	t.Helper()
	if _, err := protoregistry.GlobalFiles.FindFileByPath(lookupDesc.Metadata.(string)); err == nil {
		return
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:       proto.String(lookupDesc.Metadata.(string)),
		Package:    proto.String("grpccompat.test.v1"),
		Dependency: []string{"google/protobuf/wrappers.proto"},
		Syntax:     proto.String("proto3"),
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("LookupService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Lookup"), InputType: proto.String(".google.protobuf.StringValue"), OutputType: proto.String(".google.protobuf.StringValue"),
				Options: &descriptorpb.MethodOptions{IdempotencyLevel: descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()},
			}},
		}},
	}, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := protoregistry.GlobalFiles.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
}

// TestConnectGET: a method without side effects answers Connect GET
// through the Registrar, and the ClientConn uses GET for it on Connect.
func TestConnectGET(t *testing.T) {
	registerLookupDescriptor(t)
	reg := grpccompat.NewRegistrar()
	reg.RegisterService(&lookupDesc, lookupImpl{})
	srv, hc := newServer(t, reg)
	for _, tc := range []struct {
		protocol rpc.Protocol
		want     string
	}{{rpc.ProtocolConnect, "x via GET"}, {rpc.ProtocolGRPC, "x via POST"}, {rpc.ProtocolGRPCWeb, "x via POST"}} {
		conn := grpccompat.NewClientConn(hc, srv.URL, grpccompat.WithClientOptions(rpc.WithProtocol(tc.protocol)))
		res := new(wrapperspb.StringValue)
		if err := conn.Invoke(context.Background(), "/grpccompat.test.v1.LookupService/Lookup", wrapperspb.String("x"), res); err != nil {
			t.Fatal(err)
		}
		if res.GetValue() != tc.want {
			t.Errorf("%v: %q, want %q", tc.protocol, res.GetValue(), tc.want)
		}
	}
}
