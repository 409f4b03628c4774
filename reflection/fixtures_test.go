package reflection_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// fixtureSet is three files written for these tests:
//
//	test/dep.proto  package test.dep: message Base (extendable), message Common
//	test/ext.proto  package test.ext, imports dep: extensions 100 and 150 of Base,
//	                and 120 nested in message Holder
//	test/svc.proto  package test.svc, imports dep: service Svc with method Do,
//	                message Req with a field, a nested message and a nested enum
const fixtureSet = `
file: {
  name: "test/dep.proto"
  package: "test.dep"
  syntax: "proto2"
  message_type: { name: "Base" extension_range: { start: 100 end: 201 } }
  message_type: { name: "Common" field: { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING } }
}
file: {
  name: "test/ext.proto"
  package: "test.ext"
  syntax: "proto2"
  dependency: "test/dep.proto"
  extension: { name: "note" number: 100 label: LABEL_OPTIONAL type: TYPE_STRING extendee: ".test.dep.Base" }
  extension: { name: "level" number: 150 label: LABEL_OPTIONAL type: TYPE_INT32 extendee: ".test.dep.Base" }
  message_type: {
    name: "Holder"
    extension: { name: "flag" number: 120 label: LABEL_OPTIONAL type: TYPE_BOOL extendee: ".test.dep.Base" }
  }
}
file: {
  name: "test/svc.proto"
  package: "test.svc"
  syntax: "proto3"
  dependency: "test/dep.proto"
  message_type: {
    name: "Req"
    field: { name: "text" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "text" }
    nested_type: { name: "Inner" }
    enum_type: { name: "Kind" value: { name: "KIND_UNSPECIFIED" number: 0 } }
  }
  service: {
    name: "Svc"
    method: { name: "Do" input_type: ".test.dep.Common" output_type: ".test.dep.Common" }
  }
}
`

// fixtureFiles builds fixtureSet into a registry of its own.
func fixtureFiles(t testing.TB) *protoregistry.Files {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	if err := prototext.Unmarshal([]byte(fixtureSet), &set); err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// extraFile is a file that is in no registry but given to the reflector with
// WithFiles; it imports test/dep.proto, which it finds in deps.
func extraFile(t testing.TB, deps *protoregistry.Files) protoreflect.FileDescriptor {
	t.Helper()
	var fdp descriptorpb.FileDescriptorProto
	if err := prototext.Unmarshal([]byte(`
  name: "extra/extra.proto"
  package: "test.extra"
  syntax: "proto3"
  dependency: "test/dep.proto"
  service: {
    name: "Extra"
    method: { name: "Get" input_type: ".test.dep.Common" output_type: ".test.dep.Common" }
  }
`), &fdp); err != nil {
		t.Fatal(err)
	}
	fd, err := protodesc.NewFile(&fdp, deps)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}
