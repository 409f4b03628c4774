// Package descset loads the descriptor sets that scripts/generate-grpc-std.sh
// writes beside the generated code: the reflection protos with their standard
// names, kept out of protobuf's global registry.
package descset

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// MustLoad builds the file named path from a serialized FileDescriptorSet,
// resolving its imports within the set, in a registry of its own. The input is
// generated and embedded, so a failure is a build defect and panics at init.
func MustLoad(set []byte, path string) protoreflect.FileDescriptor {
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(set, &fds); err != nil {
		panic(fmt.Sprintf("reflection: embedded descriptor set for %s: %v", path, err))
	}
	files, err := protodesc.NewFiles(&fds)
	if err != nil {
		panic(fmt.Sprintf("reflection: embedded descriptor set for %s: %v", path, err))
	}
	fd, err := files.FindFileByPath(path)
	if err != nil {
		panic(fmt.Sprintf("reflection: embedded descriptor set: %v", err))
	}
	return fd
}
