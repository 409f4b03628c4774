// Command goproxy writes the modules of a polyconnect checkout as a Go
// module proxy in GOPROXY's file layout, at one version, so that
// `go install polyconnect.dev/…@v0.1.0` and `go mod tidy` work from any
// folder before the modules are on a public proxy. scripts/goproxy.sh runs
// it and prints the environment that uses the proxy:
//
//	go run ./internal/goproxy -root .. -out DIR -version v0.1.0 protocol codegen …
//
// The arguments are module folders, relative to the root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"polyconnect.dev/examples/internal/modproxy"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("goproxy", flag.ContinueOnError)
	root := fs.String("root", "", "the checkout's root folder")
	out := fs.String("out", "", "the folder to write the proxy to")
	version := fs.String("version", "", "the version to serve the modules at, such as v0.1.0")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" || *out == "" || *version == "" || fs.NArg() == 0 {
		return errors.New("usage: goproxy -root DIR -out DIR -version vX.Y.Z MODULE-FOLDER…")
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	// A fresh folder each time: a module removed from the list must not
	// linger.
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return modproxy.Build(dir, *root, *version, fs.Args())
}
