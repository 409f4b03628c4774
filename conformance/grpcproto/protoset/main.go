// Command protoset writes the gRPC interop protos (package grpc.testing:
// empty.proto, messages.proto and test.proto) as a FileDescriptorSet, for
// buf to generate code from.
//
// grpc-go ships these protos only in compiled form, as the descriptors
// embedded in google.golang.org/grpc/interop/grpc_testing. This program
// links that package, reads the descriptors back from the protobuf registry
// and writes them out, so the definitions come exactly from the grpc-go
// version in conformance/go.mod. Comments are not part of compiled
// descriptors, so the generated code has none from the protos.
//
//	go run ./grpcproto/protoset -o grpctesting.binpb
package main

import (
	"flag"
	"fmt"
	"os"

	_ "google.golang.org/grpc/interop/grpc_testing" // registers the descriptors
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// roots are the files to write; their imports come along, each file after
// the files it imports.
var roots = []string{"grpc/testing/test.proto"}

func main() {
	out := flag.String("o", "", "output file (required)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: protoset -o FILE")
		os.Exit(2)
	}
	set, err := descriptorSet(roots)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protoset:", err)
		os.Exit(1)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protoset:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "protoset:", err)
		os.Exit(1)
	}
}

// descriptorSet returns the registered files at paths and everything they
// import, dependencies first.
func descriptorSet(paths []string) (*descriptorpb.FileDescriptorSet, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := make(map[string]bool)
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, p := range paths {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		add(fd)
	}
	return set, nil
}
