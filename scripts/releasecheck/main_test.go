package main

import (
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func parse(t *testing.T, dir, gomod string) mod {
	t.Helper()
	f, err := modfile.Parse(dir+"/go.mod", []byte(gomod), nil)
	if err != nil {
		t.Fatal(err)
	}
	return mod{dir: dir, path: f.Module.Mod.Path, file: f}
}

func TestOrderProblems(t *testing.T) {
	protocol := parse(t, "protocol", "module polyconnect.dev/protocol\n\ngo 1.25.0\n")
	nethttp := func(v string) mod {
		return parse(t, "transport-nethttp", "module polyconnect.dev/transport-nethttp\n\ngo 1.25.0\n\nrequire polyconnect.dev/protocol "+v+"\n\nreplace polyconnect.dev/protocol => ../protocol\n")
	}
	if p := orderProblems([]mod{protocol, nethttp("v0.1.0")}, "v0.1.0"); len(p) != 0 {
		t.Errorf("a consistent release reported %q", p)
	}
	// The placeholder that made `go get` fail for users.
	if p := orderProblems([]mod{protocol, nethttp("v0.0.0")}, "v0.1.0"); len(p) != 1 || !strings.Contains(p[0], "v0.0.0, not the release version v0.1.0") {
		t.Errorf("placeholder version: %q", p)
	}
	if p := orderProblems([]mod{nethttp("v0.1.0"), protocol}, "v0.1.0"); len(p) != 1 || !strings.Contains(p[0], "comes later") {
		t.Errorf("wrong order: %q", p)
	}
	if p := orderProblems([]mod{nethttp("v0.1.0")}, "v0.1.0"); len(p) != 1 || !strings.Contains(p[0], "not a product module") {
		t.Errorf("unpublished requirement: %q", p)
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v0.1.0": true, "v1.2.3": true, "v0.2.0-rc.1": true,
		"0.1.0": false, "v0.1": false, "v2.0.0": false, "v0.1.0+meta": false, "banana": false,
	} {
		if err := checkVersion(v); (err == nil) != ok {
			t.Errorf("checkVersion(%q) = %v", v, err)
		}
	}
}
