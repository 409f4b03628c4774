package raw

import (
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"polyconnect.dev/protocol/rpc"
)

// SpecOf returns the Spec of the protobuf method md: its procedure path
// ("/package.Service/Method"), its kind and its idempotency_level, with md
// as the Schema.
func SpecOf(md protoreflect.MethodDescriptor) rpc.Spec {
	spec := rpc.Spec{
		Procedure: "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
		Schema:    md,
	}
	if md.IsStreamingClient() {
		spec.StreamType |= rpc.StreamTypeClient
	}
	if md.IsStreamingServer() {
		spec.StreamType |= rpc.StreamTypeServer
	}
	if opts, ok := md.Options().(*descriptorpb.MethodOptions); ok && opts != nil {
		spec.IdempotencyLevel = rpc.IdempotencyLevel(opts.GetIdempotencyLevel())
	}
	return spec
}
