// Package modproxy writes Go module proxies in GOPROXY's file layout
// ($GOPROXY=file://DIR) from the modules in a checkout, as if they were
// published: what scripts/goproxy.sh serves until polyconnect's modules are
// on a public proxy.
package modproxy

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Build writes a module proxy in GOPROXY's file layout to dir, with
// the modules in the repository's folders at version: what `go get` and
// `go install …@version` will find once the modules are published. Each
// module's zip holds its folder as the go command would publish it:
// without nested modules, version-control folders and node_modules.
func Build(dir, root, version string, modules []string) error {
	for _, folder := range modules {
		modFile := filepath.Join(root, folder, "go.mod")
		gomod, err := os.ReadFile(modFile)
		if err != nil {
			return err
		}
		modPath := ModulePath(gomod)
		if modPath == "" {
			return fmt.Errorf("%s has no module line", modFile)
		}
		at := filepath.Join(dir, filepath.FromSlash(modPath), "@v")
		if err := os.MkdirAll(at, 0o755); err != nil {
			return err
		}
		info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
		for name, data := range map[string][]byte{
			version + ".mod":  gomod,
			version + ".info": info,
			"list":            []byte(version + "\n"),
		} {
			if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
				return err
			}
		}
		if err := writeModuleZip(filepath.Join(at, version+".zip"), filepath.Join(root, folder), modPath+"@"+version); err != nil {
			return fmt.Errorf("zip %s: %w", folder, err)
		}
	}
	return nil
}

// ModulePath reads the module line of a go.mod file.
func ModulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// writeModuleZip zips the module in src under the prefix "path@version/".
func writeModuleZip(file, src, prefix string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			name := d.Name()
			if strings.HasPrefix(name, ".") || name == "node_modules" || name == "vendor" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		w, err := zw.Create(path.Join(prefix, filepath.ToSlash(rel)))
		if err != nil {
			return err
		}
		r, err := os.Open(p)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(w, r)
		return err
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
