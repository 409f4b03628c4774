package otelrpc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A program that imports only protocol and a transport must not download
// OpenTelemetry (nor protovalidate): this module exists so that it need
// not. The modules it builds from are checked here, where a mistake would
// come from, by listing their module graphs.
func TestCoreModulesDoNotRequireOpenTelemetry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for _, dir := range []string{"../protocol", "../transport-nethttp", "../transport-h2"} {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		cmd := exec.Command(goCmd, "list", "-m", "all")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -m all in %s: %v\n%s", dir, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "go.opentelemetry.io/") || strings.HasPrefix(line, "buf.build/go/protovalidate") {
				t.Errorf("%s's module graph has %s", dir, line)
			}
		}
		if !strings.Contains(string(out), "google.golang.org/protobuf") {
			t.Errorf("%s: the module list looks wrong:\n%s", dir, out)
		}
	}
}
