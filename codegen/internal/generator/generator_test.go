package generator

import (
	"bytes"
	"flag"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/golden")

// descriptorsFile is the FileDescriptorSet of ../testdata, with imports and source info, built by
// scripts/generate.sh with buf.
const descriptorsFile = "../testdata/descriptors.binpb"

// testProtos are the test files, as buf and protoc name them.
var testProtos = []string{
	"acme/foo/bar/v1/nested.proto",
	"clash/context/context.proto",
	"clash/ctx/ctx.proto",
	"clash/http/http.proto",
	"clash/rpc/rpc.proto",
	"collide/v1/collide.proto",
	"collide/v1/collide_more.proto",
	"comments/v1/comments.proto",
	"editions/v1/editions.proto",
	"editions/v1/editions2024.proto",
	"greet/v1/greet.proto",
	"legacy/v2/legacy.proto",
	"multi/v1/multi.proto",
	"samepkg/v1/samepkg.proto",
	"streams/v1/streams.proto",
	"types/v1/types.proto",
}

// loadDescriptors reads the committed descriptor set.
func loadDescriptors(t testing.TB) *descriptorpb.FileDescriptorSet {
	t.Helper()
	data, err := os.ReadFile(descriptorsFile)
	if err != nil {
		t.Fatalf("reading the descriptors (run scripts/generate.sh to build them): %v", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(data, set); err != nil {
		t.Fatal(err)
	}
	return set
}

// request builds the CodeGeneratorRequest protoc or buf would send for files with parameter.
func request(set *descriptorpb.FileDescriptorSet, parameter string, files ...string) *pluginpb.CodeGeneratorRequest {
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files}
	if parameter != "" {
		req.Parameter = proto.String(parameter)
	}
	for _, f := range set.File {
		req.ProtoFile = append(req.ProtoFile, proto.Clone(f).(*descriptorpb.FileDescriptorProto))
	}
	return req
}

func TestDescriptorsHaveAllTestProtos(t *testing.T) {
	set := loadDescriptors(t)
	var names []string
	for _, f := range set.File {
		if f.SourceCodeInfo == nil {
			t.Errorf("%s has no source info: comments would be lost", f.GetName())
		}
		if !strings.HasPrefix(f.GetName(), "google/") {
			names = append(names, f.GetName())
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, testProtos) {
		t.Errorf("descriptor set has %v, want %v: run scripts/generate.sh after adding a test proto, and list it in testProtos", names, testProtos)
	}
}

// goldenCases are the parameter sets the golden tests run, each with its own directory of
// expected output under ../testdata/golden.
var goldenCases = []struct {
	name      string
	parameter string
	files     []string
}{
	// Every test proto, as buf.gen.yaml generates them into ../../compiletest (with the default
	// package suffix, so samepkg is generated into its own package here).
	{"module", "module=polyconnect.dev/codegen/compiletest", testProtos},
	// No parameters: paths=import, full import paths.
	{"import", "", []string{"greet/v1/greet.proto"}},
	{"source_relative", "paths=source_relative", []string{"greet/v1/greet.proto", "streams/v1/streams.proto"}},
	// The polyconnect code in protoc-gen-go's package.
	{"same_package", "paths=source_relative,package_suffix=", []string{"samepkg/v1/samepkg.proto", "streams/v1/streams.proto"}},
	{"suffix", "paths=source_relative,package_suffix=connect", []string{"greet/v1/greet.proto"}},
}

func TestGolden(t *testing.T) {
	set := loadDescriptors(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			resp := Run(request(set, tc.parameter, tc.files...))
			if resp.Error != nil {
				t.Fatalf("error response: %s", resp.GetError())
			}
			checkFeatures(t, resp)
			got := map[string][]byte{}
			for _, f := range resp.File {
				if f.GetInsertionPoint() != "" {
					t.Errorf("%s: unexpected insertion point %q", f.GetName(), f.GetInsertionPoint())
				}
				if _, dup := got[f.GetName()]; dup {
					t.Errorf("%s generated twice", f.GetName())
				}
				got[f.GetName()] = []byte(f.GetContent())
				checkGoFile(t, f.GetName(), []byte(f.GetContent()))
			}
			dir := filepath.Join("..", "testdata", "golden", tc.name)
			if *update {
				writeGolden(t, dir, got)
				return
			}
			want := readGolden(t, dir)
			for name, content := range got {
				w, ok := want[name]
				switch {
				case !ok:
					t.Errorf("%s was generated but has no golden file (run go test -update)", name)
				case !bytes.Equal(content, w):
					t.Errorf("%s differs from its golden file (run go test -update and review the diff):\n%s", name, firstDiff(w, content))
				}
			}
			for name := range want {
				if _, ok := got[name]; !ok {
					t.Errorf("%s has a golden file but was not generated", name)
				}
			}
		})
	}
}

// checkFeatures checks what the response declares to the compiler.
func checkFeatures(t *testing.T, resp *pluginpb.CodeGeneratorResponse) {
	t.Helper()
	want := uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL | pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)
	if resp.GetSupportedFeatures() != want {
		t.Errorf("supported features = %b, want %b", resp.GetSupportedFeatures(), want)
	}
	if resp.GetMinimumEdition() != int32(descriptorpb.Edition_EDITION_PROTO2) || resp.GetMaximumEdition() != int32(descriptorpb.Edition_EDITION_2024) {
		t.Errorf("editions = %d..%d, want PROTO2..2024", resp.GetMinimumEdition(), resp.GetMaximumEdition())
	}
}

// checkGoFile checks properties every generated file must have, beyond matching its golden file:
// it is gofmt'd, marked as generated, and every exported name has a doc comment that starts with
// the name (for methods of exported types and interfaces too).
func checkGoFile(t *testing.T, name string, src []byte) {
	t.Helper()
	if !strings.HasSuffix(name, ".rpc.go") {
		t.Errorf("%s: want a .rpc.go file", name)
	}
	formatted, err := format.Source(src)
	if err != nil {
		t.Errorf("%s: does not parse: %v", name, err)
		return
	}
	if !bytes.Equal(formatted, src) {
		t.Errorf("%s: not gofmt'd", name)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if !ast.IsGenerated(file) {
		t.Errorf("%s: lacks the // Code generated ... DO NOT EDIT. line", name)
	}
	checkDoc := func(pos token.Pos, ident string, doc *ast.CommentGroup) {
		if !ast.IsExported(ident) {
			return
		}
		text := ""
		if doc != nil {
			text = doc.Text()
		}
		if firstWord(text) != ident {
			t.Errorf("%s: %s: doc comment of %s does not start with its name: %q", name, fset.Position(pos), ident, text)
		}
	}
	for _, decl := range file.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if decl.Recv != nil && !ast.IsExported(receiverType(decl.Recv)) {
				// Methods of the unexported client implementation: documented, but not checked.
				continue
			}
			checkDoc(decl.Pos(), decl.Name.Name, decl.Doc)
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					doc := spec.Doc
					if doc == nil && len(decl.Specs) == 1 {
						doc = decl.Doc
					}
					checkDoc(spec.Pos(), spec.Name.Name, doc)
					if iface, ok := spec.Type.(*ast.InterfaceType); ok && ast.IsExported(spec.Name.Name) {
						for _, m := range iface.Methods.List {
							for _, n := range m.Names {
								checkDoc(m.Pos(), n.Name, m.Doc)
							}
						}
					}
				case *ast.ValueSpec:
					doc := spec.Doc
					if doc == nil && len(decl.Specs) == 1 {
						doc = decl.Doc
					}
					for _, n := range spec.Names {
						checkDoc(spec.Pos(), n.Name, doc)
					}
				}
			}
		}
	}
}

// receiverType is the name of a method's receiver type.
func receiverType(recv *ast.FieldList) string {
	expr := recv.List[0].Type
	if star, ok := expr.(*ast.StarExpr); ok {
		expr = star.X
	}
	if ident, ok := expr.(*ast.Ident); ok {
		return ident.Name
	}
	return ""
}

// readGolden reads every file under dir, by slash-separated path relative to dir.
func readGolden(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading golden files (run go test -update to write them): %v", err)
	}
	return files
}

// writeGolden replaces dir with files.
func writeGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(no difference)"
}
