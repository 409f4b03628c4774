package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// editionsSyntax matches the edition statement of a proto file.
var editionsSyntax = regexp.MustCompile(`(?m)^edition\s*=`)

// TestProtoc checks that descriptors compiled by protoc, rather than buf, give the same output.
// It runs when protoc is on PATH (scripts/tools.sh installs it with WITH_PROTOC=1), on the test
// protos an old protoc can compile: Debian's protoc 3.21 predates editions.
func TestProtoc(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc is not on PATH")
	}
	var files []string
	for _, f := range testProtos {
		src, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if !editionsSyntax.Match(src) {
			files = append(files, f)
		}
	}
	out := filepath.Join(t.TempDir(), "set.binpb")
	args := append([]string{"-I", filepath.Join("..", "testdata"), "--include_imports", "--include_source_info", "--descriptor_set_out=" + out}, files...)
	if msg, err := exec.Command(protoc, args...).CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(data, set); err != nil {
		t.Fatal(err)
	}
	resp := Run(request(set, "module=polyconnect.dev/codegen/compiletest", files...))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	golden := readGolden(t, filepath.Join("..", "testdata", "golden", "module"))
	if len(resp.File) == 0 {
		t.Fatal("no output")
	}
	for _, f := range resp.File {
		want, ok := golden[f.GetName()]
		if !ok {
			t.Errorf("%s: no golden file", f.GetName())
			continue
		}
		if f.GetContent() != string(want) {
			t.Errorf("%s differs between protoc and buf descriptors:\n%s", f.GetName(), firstDiff(want, []byte(f.GetContent())))
		}
	}
	if testing.Verbose() {
		t.Logf("compared %d files from %s", len(resp.File), strings.TrimSpace(version(protoc)))
	}
}

func version(protoc string) string {
	out, _ := exec.Command(protoc, "--version").Output()
	return string(out)
}
