package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// The golden files are in internal/generator; the flag is declared here too so that
// go test ./... -update works from the module root.
var _ = flag.Bool("update", false, "no effect in this package")

// greetFile is a small file with one service, built in code so this test needs no test data.
func greetFile() *descriptorpb.FileDescriptorProto {
	msg := func(name string) *descriptorpb.DescriptorProto {
		return &descriptorpb.DescriptorProto{Name: proto.String(name)}
	}
	return &descriptorpb.FileDescriptorProto{
		Name:        proto.String("greet/v1/greet.proto"),
		Package:     proto.String("greet.v1"),
		Syntax:      proto.String("proto3"),
		Options:     &descriptorpb.FileOptions{GoPackage: proto.String("example.com/gen/greet/v1;greetv1")},
		MessageType: []*descriptorpb.DescriptorProto{msg("GreetRequest"), msg("GreetResponse")},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("GreetService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name:       proto.String("Greet"),
				InputType:  proto.String(".greet.v1.GreetRequest"),
				OutputType: proto.String(".greet.v1.GreetResponse"),
			}},
		}},
	}
}

func TestRun(t *testing.T) {
	file := greetFile()
	if _, err := protodesc.NewFile(file, nil); err != nil {
		t.Fatalf("test descriptor is invalid: %v", err)
	}
	req, err := proto.Marshal(&pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{"greet/v1/greet.proto"},
		Parameter:      proto.String("paths=source_relative"),
		ProtoFile:      []*descriptorpb.FileDescriptorProto{file},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(bytes.NewReader(req), &out); err != nil {
		t.Fatal(err)
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(out.Bytes(), resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	if len(resp.File) != 1 || resp.File[0].GetName() != "greet/v1/greetv1rpc/greet.rpc.go" {
		t.Fatalf("generated %v", resp.File)
	}
	if !strings.Contains(resp.File[0].GetContent(), "func NewGreetServiceClient(") {
		t.Error("no NewGreetServiceClient in the output")
	}
}

func TestRunBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader("\xff\xff\xff"), &out); err == nil {
		t.Error("no error for a request that does not parse")
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes for a bad request", out.Len())
	}
}

func TestRunErrorResponse(t *testing.T) {
	req, err := proto.Marshal(&pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{"greet/v1/greet.proto"},
		Parameter:      proto.String("package_suffix=no-dashes"),
		ProtoFile:      []*descriptorpb.FileDescriptorProto{greetFile()},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(bytes.NewReader(req), &out); err != nil {
		t.Fatalf("a bad parameter is reported in the response, not as a failure: %v", err)
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(out.Bytes(), resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.GetError(), "package_suffix") {
		t.Errorf("error %q does not name the parameter", resp.GetError())
	}
}
