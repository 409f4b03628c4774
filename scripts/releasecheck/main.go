// Command releasecheck checks that every product module of the repository
// installs on its own, as a user would get it: it publishes the modules at one
// version to a file-based module proxy in a temporary folder (the same zips
// the real proxy would serve), then, for each module alone, runs `go get
// MODULE@VERSION` in an empty module with GOWORK=off and builds a program that
// imports every public package of the module (for codegen: `go install` of
// the plugin). A module that requires a sibling at a version that is not being
// released, or that only builds thanks to a replace directive, fails here.
//
//	go run . -root ../.. -version v0.1.0 protocol transport-nethttp …
//
// With -bump it instead prepares a release (scripts/release.sh runs it so):
// every requirement of a product module, in every folder named by -bump,
// moves to -version, and rpc.Version follows.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	root := flag.String("root", ".", "repository root")
	version := flag.String("version", "", "the version to publish, such as v0.1.0")
	keep := flag.Bool("keep", false, "keep the temporary proxy and modules, and print where they are")
	bump := flag.String("bump", "", "instead of checking, require every product module (the arguments) at -version in the go.mod files of these space-separated folders (the arguments included), and set rpc.Version")
	flag.Parse()
	var err error
	if *bump != "" {
		err = bumpVersions(*root, *version, flag.Args(), strings.Fields(*bump))
	} else {
		err = run(*root, *version, *keep, flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

// bumpVersions rewrites every requirement of a product module, in every
// folder of all, to version, and sets rpc.Version. It refuses a product list
// out of dependency order.
func bumpVersions(root, version string, products, all []string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	mods, err := readModules(root, products)
	if err != nil {
		return err
	}
	product := map[string]bool{}
	for _, m := range mods {
		product[m.path] = true
	}
	if problems := orderProblems(mods, ""); len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	others, err := readModules(root, all)
	if err != nil {
		return err
	}
	for _, m := range others {
		changed := false
		for _, r := range m.file.Require {
			if product[r.Mod.Path] && r.Mod.Version != version {
				if err := m.file.AddRequire(r.Mod.Path, version); err != nil {
					return err
				}
				changed = true
			}
		}
		if !changed {
			continue
		}
		m.file.Cleanup()
		out, err := m.file.Format()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, m.dir, "go.mod"), out, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s/go.mod: polyconnect modules at %s\n", m.dir, version)
	}
	vfile := filepath.Join(root, "protocol", "rpc", "version.go")
	src, err := os.ReadFile(vfile)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^const Version = "[^"]*"`)
	if !re.Match(src) {
		return errors.New("no `const Version = \"…\"` line in protocol/rpc/version.go")
	}
	src = re.ReplaceAll(src, []byte(`const Version = "`+strings.TrimPrefix(version, "v")+`"`))
	return os.WriteFile(vfile, src, 0o644)
}

func checkVersion(version string) error {
	if !semver.IsValid(version) || semver.Build(version) != "" || semver.Canonical(version) != version {
		return fmt.Errorf("-version %q is not a semantic version such as v0.1.0", version)
	}
	if major := semver.Major(version); major != "v0" && major != "v1" {
		return fmt.Errorf("%s is a new major version: module paths need a /vN suffix first", version)
	}
	return nil
}

func readModules(root string, dirs []string) ([]mod, error) {
	mods := make([]mod, 0, len(dirs))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(root, d, "go.mod"))
		if err != nil {
			return nil, err
		}
		f, err := modfile.Parse(d+"/go.mod", data, nil)
		if err != nil {
			return nil, err
		}
		mods = append(mods, mod{dir: d, path: f.Module.Mod.Path, file: f})
	}
	return mods, nil
}

// orderProblems reports product modules that require a polyconnect module
// that is not a product listed before them, and, when version is not empty,
// requirements at another version.
func orderProblems(mods []mod, version string) []string {
	byPath := map[string]bool{}
	for _, m := range mods {
		byPath[m.path] = true
	}
	seen := map[string]bool{}
	var problems []string
	for _, m := range mods {
		for _, r := range m.file.Require {
			if !strings.HasPrefix(r.Mod.Path, "polyconnect.dev/") {
				continue
			}
			switch {
			case !byPath[r.Mod.Path]:
				problems = append(problems, fmt.Sprintf("%s requires %s, which is not a product module", m.dir, r.Mod.Path))
			case !seen[r.Mod.Path]:
				problems = append(problems, fmt.Sprintf("%s requires %s, which comes later in the release order (scripts/modules.sh)", m.dir, r.Mod.Path))
			case version != "" && r.Mod.Version != version:
				problems = append(problems, fmt.Sprintf("%s requires %s %s, not the release version %s (run scripts/release.sh %s)", m.dir, r.Mod.Path, r.Mod.Version, version, version))
			}
		}
		seen[m.path] = true
	}
	return problems
}

type mod struct {
	dir  string // folder relative to the root
	path string // module path
	file *modfile.File
}

func run(root, version string, keep bool, dirs []string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	if len(dirs) == 0 {
		return errors.New("name the product module folders to check, in dependency order")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	mods, err := readModules(root, dirs)
	if err != nil {
		return err
	}
	// Every sibling requirement names the version being released, and
	// siblings come before the modules that need them.
	if problems := orderProblems(mods, version); len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}

	tmp, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("releasecheck: temporary files in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	proxy := filepath.Join(tmp, "proxy")
	for _, m := range mods {
		if err := publish(proxy, filepath.Join(root, m.dir), m.path, version); err != nil {
			return fmt.Errorf("publishing %s: %w", m.dir, err)
		}
	}
	// A module cache of its own: the shared one may hold an earlier
	// publication of the same version, which the go command would never
	// fetch again. Third-party modules still come from the shared cache's
	// download folder, itself a valid proxy, so nothing is downloaded twice.
	proxies := "file://" + filepath.ToSlash(proxy)
	if cache := goEnv("GOMODCACHE"); cache != "" {
		proxies += ",file://" + filepath.ToSlash(filepath.Join(cache, "cache", "download"))
	}
	env := append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw -buildvcs=false",
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOPROXY="+proxies+","+goEnvOr("GOPROXY", "https://proxy.golang.org,direct"),
		"GONOSUMDB=polyconnect.dev",
		"GOPRIVATE=",
	)
	failed := 0
	for i, m := range mods {
		work := filepath.Join(tmp, fmt.Sprintf("user%d", i))
		start := time.Now()
		if err := tryModule(work, m, version, env, root); err != nil {
			failed++
			fmt.Printf("FAIL %s@%s alone: %v\n", m.path, version, err)
			continue
		}
		fmt.Printf("ok   %s@%s installs alone (%.1fs)\n", m.path, version, time.Since(start).Seconds())
	}
	fmt.Printf("releasecheck: %d passed, %d failed\n", len(mods)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d modules do not install alone", failed, len(mods))
	}
	return nil
}

// publish writes the proxy files of one module version: list, .info, .mod
// and .zip, in the layout GOPROXY=file://… reads.
func publish(proxy, dir, path, version string) error {
	esc, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	at := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  gomod,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			return err
		}
	}
	z, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(z, module.Version{Path: path, Version: version}, dir); err != nil {
		z.Close()
		return err
	}
	return z.Close()
}

// tryModule gets m in an empty module and builds something that uses it.
func tryModule(work string, m mod, version string, env []string, root string) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	cmdPkgs, libPkgs, err := packages(filepath.Join(root, m.dir))
	if err != nil {
		return err
	}
	if len(libPkgs) == 0 {
		// A tool module: install its commands as a user would.
		for _, p := range cmdPkgs {
			out, err := command(work, append(env, "GOBIN="+filepath.Join(work, "bin")), "go", "install", p+"@"+version)
			if err != nil {
				return fmt.Errorf("go install %s@%s: %v\n%s", p, version, err, out)
			}
		}
		return nil
	}
	gomod := "module example.com/user\n\ngo 1.25.0\n"
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	var prog bytes.Buffer
	prog.WriteString("// Command user imports every public package of " + m.path + ".\npackage main\n\nimport (\n")
	for _, p := range libPkgs {
		fmt.Fprintf(&prog, "\t_ %q\n", p)
	}
	prog.WriteString(")\n\nfunc main() {}\n")
	if err := os.WriteFile(filepath.Join(work, "main.go"), prog.Bytes(), 0o644); err != nil {
		return err
	}
	if out, err := command(work, env, "go", "get", m.path+"@"+version); err != nil {
		return fmt.Errorf("go get %s@%s: %v\n%s", m.path, version, err, out)
	}
	if out, err := command(work, env, "go", "mod", "tidy"); err != nil {
		return fmt.Errorf("go mod tidy: %v\n%s", err, out)
	}
	if out, err := command(work, env, "go", "build", "-o", os.DevNull, "."); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// packages lists a module's main packages and its importable library
// packages (not internal, not testdata, not examples of its own).
func packages(dir string) (cmds, libs []string, err error) {
	cmd := exec.Command("go", "list", "-f", "{{.Name}} {{.ImportPath}}", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // "go: downloading …" lines go there, not into the list
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go list in %s: %v\n%s", dir, err, stderr.Bytes())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, path, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") {
			continue
		}
		if name == "main" {
			cmds = append(cmds, path)
		} else {
			libs = append(libs, path)
		}
	}
	return cmds, libs, nil
}

func command(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	return cmd.CombinedOutput()
}

func goEnv(key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func goEnvOr(key, fallback string) string {
	if v := goEnv(key); v != "" {
		return v
	}
	return fallback
}
