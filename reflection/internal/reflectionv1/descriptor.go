package reflectionv1

import (
	_ "embed"

	"polyconnect.dev/reflection/internal/descset"
)

// reflectionDescriptorSet is polyconnect/grpc/reflection/v1/reflection.proto, with its
// standard names and its comments, as a serialized FileDescriptorSet that buf build wrote
// (see scripts/generate-grpc-std.sh).
//
//go:embed reflection.binpb
var reflectionDescriptorSet []byte

// File_polyconnect_grpc_reflection_v1_reflection_proto describes the service with its
// standard names (package grpc.reflection.v1). It lives in a registry of its own, never in
// protobuf's global one, where google.golang.org/grpc/reflection/grpc_reflection_v1 registers
// the same names. The generated handler's method specs refer to it.
var File_polyconnect_grpc_reflection_v1_reflection_proto = descset.MustLoad(reflectionDescriptorSet, "polyconnect/grpc/reflection/v1/reflection.proto")
