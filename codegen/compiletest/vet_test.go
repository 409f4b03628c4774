package compiletest_test

import (
	"os/exec"
	"testing"
)

// TestVet runs go vet on the generated code; building the tests has already compiled it.
func TestVet(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet compiles every package: skipped in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "vet", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go vet ./...: %v\n%s", err, out)
	}
}
