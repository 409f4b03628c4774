package healthv1

import (
	_ "embed"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// healthDescriptorSet is polyconnect/grpc/health/v1/health.proto, with its standard names
// and its comments, as a serialized FileDescriptorSet that buf build wrote (see
// scripts/generate-grpc-std.sh).
//
//go:embed health.binpb
var healthDescriptorSet []byte

// File_polyconnect_grpc_health_v1_health_proto describes the service with its standard
// names (package grpc.health.v1). It lives in a registry of its own, never in protobuf's
// global one, where google.golang.org/grpc/health/grpc_health_v1 registers the same names.
// The generated handler's method specs refer to it.
var File_polyconnect_grpc_health_v1_health_proto = loadFile(healthDescriptorSet, "polyconnect/grpc/health/v1/health.proto")

// loadFile builds the file named path from a serialized FileDescriptorSet, resolving its
// imports within the set. The input is generated and embedded, so a failure is a build
// defect and panics at init.
func loadFile(set []byte, path string) protoreflect.FileDescriptor {
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(set, &fds); err != nil {
		panic(fmt.Sprintf("healthv1: embedded descriptor set: %v", err))
	}
	files, err := protodesc.NewFiles(&fds)
	if err != nil {
		panic(fmt.Sprintf("healthv1: embedded descriptor set: %v", err))
	}
	fd, err := files.FindFileByPath(path)
	if err != nil {
		panic(fmt.Sprintf("healthv1: embedded descriptor set: %v", err))
	}
	return fd
}
