package generator

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// fileProto returns the descriptor of the file named name in req.
func fileProto(t testing.TB, req *pluginpb.CodeGeneratorRequest, name string) *descriptorpb.FileDescriptorProto {
	t.Helper()
	for _, f := range req.ProtoFile {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("no file %s in the request", name)
	return nil
}

// errorCases are requests the plugin must refuse with an error in its response.
var errorCases = []struct {
	name      string
	parameter string
	files     []string
	mutate    func(t testing.TB, req *pluginpb.CodeGeneratorRequest)
	want      string // part of the error message
}{
	{
		name:      "unknown parameter",
		parameter: "package_prefix=x",
		want:      `unknown parameter "package_prefix"`,
	},
	{
		name:      "package_suffix not an identifier",
		parameter: "package_suffix=rpc-v1",
		want:      `package_suffix="rpc-v1"`,
	},
	{
		name:      "package name becomes a keyword",
		parameter: "package_suffix=to",
		mutate: func(t testing.TB, req *pluginpb.CodeGeneratorRequest) {
			fileProto(t, req, "greet/v1/greet.proto").Options.GoPackage = proto.String("example.com/greet/v1;go")
		},
		want: `package name "goto"`,
	},
	{
		name:      "module does not match",
		parameter: "module=example.com/elsewhere",
		want:      `does not match prefix "example.com/elsewhere"`,
	},
	{
		name:      "bad paths value",
		parameter: "paths=nowhere",
		want:      `unknown path type "nowhere"`,
	},
	{
		name: "no go_package",
		mutate: func(t testing.TB, req *pluginpb.CodeGeneratorRequest) {
			fileProto(t, req, "greet/v1/greet.proto").Options.GoPackage = nil
		},
		want: "unable to determine Go import path",
	},
	{
		name: "unknown message type",
		mutate: func(t testing.TB, req *pluginpb.CodeGeneratorRequest) {
			fileProto(t, req, "greet/v1/greet.proto").Service[0].Method[0].InputType = proto.String(".greet.v1.Missing")
		},
		want: "greet.v1.Missing",
	},
	{
		name:  "file to generate not in the request",
		files: []string{"greet/v1/missing.proto"},
		want:  "greet/v1/missing.proto",
	},
	{
		name: "unsupported edition",
		mutate: func(t testing.TB, req *pluginpb.CodeGeneratorRequest) {
			f := fileProto(t, req, "greet/v1/greet.proto")
			f.Syntax = proto.String("editions")
			f.Edition = descriptorpb.Edition_EDITION_99999_TEST_ONLY.Enum()
		},
		want: "greet/v1/greet.proto",
	},
}

func TestErrors(t *testing.T) {
	set := loadDescriptors(t)
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			files := tc.files
			if files == nil {
				files = []string{"greet/v1/greet.proto"}
			}
			req := request(set, tc.parameter, files...)
			if tc.mutate != nil {
				tc.mutate(t, req)
			}
			resp := Run(req)
			if resp.Error == nil {
				t.Fatalf("no error; generated %d files", len(resp.File))
			}
			if !strings.Contains(resp.GetError(), tc.want) {
				t.Errorf("error %q does not contain %q", resp.GetError(), tc.want)
			}
			if strings.Contains(resp.GetError(), "internal error") {
				t.Errorf("error is a recovered panic: %s", resp.GetError())
			}
			if len(resp.File) != 0 {
				t.Errorf("error response with %d files", len(resp.File))
			}
		})
	}
}

func TestNoServicesNoOutput(t *testing.T) {
	set := loadDescriptors(t)
	for _, files := range [][]string{
		{"types/v1/types.proto"},
		{"types/v1/types.proto", "clash/http/http.proto"},
	} {
		resp := Run(request(set, "", files...))
		if resp.Error != nil {
			t.Fatal(resp.GetError())
		}
		if len(resp.File) != 0 {
			t.Errorf("%v: generated %d files, want none", files, len(resp.File))
		}
	}
}

// FuzzRun runs the plugin on mutated requests: whatever it accepts, it must turn into Go that
// parses, and it must answer everything else with an error, never a panic.
func FuzzRun(f *testing.F) {
	set := loadDescriptors(f)
	for _, p := range []string{"", "paths=source_relative", "package_suffix=", "module=polyconnect.dev/codegen/compiletest"} {
		data, err := proto.Marshal(request(set, p, testProtos...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range errorCases {
		files := tc.files
		if files == nil {
			files = []string{"greet/v1/greet.proto"}
		}
		req := request(set, tc.parameter, files...)
		if tc.mutate != nil {
			tc.mutate(f, req)
		}
		data, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &pluginpb.CodeGeneratorRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		resp := Run(req)
		if resp == nil {
			t.Fatal("nil response")
		}
		if resp.Error != nil {
			return
		}
		for _, file := range resp.File {
			if _, err := parser.ParseFile(token.NewFileSet(), file.GetName(), file.GetContent(), parser.ParseComments); err != nil {
				t.Errorf("%s does not parse: %v", file.GetName(), err)
			}
		}
	})
}
