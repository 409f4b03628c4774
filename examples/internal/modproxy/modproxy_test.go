package modproxy

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBuild writes a proxy from a made-up checkout and checks the file
// layout the go command reads: list, .info, .mod and a zip of the module's
// files under path@version/, without nested modules or hidden folders.
func TestBuild(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/go.mod", "module example.dev/lib\n\ngo 1.26\n")
	write("lib/lib.go", "package lib\n")
	write("lib/sub/sub.go", "package sub\n")
	write("lib/nested/go.mod", "module example.dev/lib/nested\n")
	write("lib/nested/n.go", "package nested\n")
	write("lib/.git/HEAD", "ref\n")
	write("lib/node_modules/x.js", "x\n")

	out := filepath.Join(t.TempDir(), "proxy")
	if err := Build(out, root, "v1.2.3", []string{"lib"}); err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(out, "example.dev", "lib", "@v")
	for name, want := range map[string]string{"list": "v1.2.3\n", "v1.2.3.mod": "module example.dev/lib\n\ngo 1.26\n"} {
		got, err := os.ReadFile(filepath.Join(at, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if info, err := os.ReadFile(filepath.Join(at, "v1.2.3.info")); err != nil || !strings.Contains(string(info), `"Version":"v1.2.3"`) {
		t.Errorf("info = %s, %v", info, err)
	}
	zr, err := zip.OpenReader(filepath.Join(at, "v1.2.3.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	want := []string{"example.dev/lib@v1.2.3/go.mod", "example.dev/lib@v1.2.3/lib.go", "example.dev/lib@v1.2.3/sub/sub.go"}
	if !slices.Equal(names, want) {
		t.Errorf("zip holds %q, want %q", names, want)
	}

	if err := Build(out, root, "v1.2.3", []string{"missing"}); err == nil {
		t.Error("Build of a folder without go.mod succeeded")
	}
}
