// Command protoc-gen-polyconnect-go is a protoc and buf plugin that generates polyconnect clients
// and handlers for the services in protobuf files.
//
// For greet/v1/greet.proto, whose Go package is greetv1, it writes greet.rpc.go in package
// greetv1rpc, a sub-directory of the directory protoc-gen-go writes greetv1 to. Install it with
//
//	go install polyconnect.dev/codegen/cmd/protoc-gen-polyconnect-go@latest
//
// and run it beside protoc-gen-go. Parameters, besides protoc-gen-go's paths= and module=:
//
//	package_suffix=rpc  the suffix of the generated package's name (default "rpc"); empty
//	                    generates into protoc-gen-go's package, beside the .pb.go file
//
// See the README of polyconnect.dev/codegen for the buf and protoc set-up and the generated API.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"polyconnect.dev/codegen/internal/generator"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("protoc-gen-polyconnect-go", version())
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "protoc-gen-polyconnect-go is a protoc plugin: run it through buf generate or protoc --polyconnect-go_out=…")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "protoc-gen-polyconnect-go:", err)
		os.Exit(1)
	}
}

// run reads a CodeGeneratorRequest from in and writes the CodeGeneratorResponse to out.
func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(data, req); err != nil {
		return fmt.Errorf("parsing the request: %w", err)
	}
	data, err = proto.Marshal(generator.Run(req))
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	_, err = out.Write(data)
	return err
}

// version is the module version the binary was built from, as go install records it.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
