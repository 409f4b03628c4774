// Command walkthrough runs the commands of the root README's "Your first
// service", exactly as written, in a temporary folder outside the clone, so
// the walkthrough cannot rot. It is what scripts/walkthrough.sh and CI run:
//
//	go run ./internal/walkthrough -root ..     # from examples/
//
// The README marks its steps with HTML comments (see extract.go). It runs as
// a new reader would, with only what the README says: its step 0 evaluates
// scripts/goproxy.sh, which serves the clone's modules as a local module
// proxy (nothing of polyconnect is published yet), and the README's
// `go install …@v0.1.0` and `go mod tidy` then find them. The README writes
// the clone's location as /path/to/polyconnect, which only the reader knows;
// the walkthrough puts the repository's root there and changes nothing
// else. The walkthrough has a GOPATH and module cache of its own, so a stale
// v0.1.0 cannot be reused; the build cache is shared, to keep it fast. Its
// GOPROXY, before step 0 prepends the local proxy, is the local module
// cache's download folder (in the same layout) and then the machine's
// GOPROXY: what a reader's machine fetches from the internet comes from the
// cache when it can. buf and grpcurl, which the README asks the reader to
// install first, come from the repository's .tools (scripts/tools.sh and
// scripts/tools-grpcurl.sh install them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// clonePlaceholder is how the README writes the location of the reader's
// clone of the repository.
const clonePlaceholder = "/path/to/polyconnect"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
}

func run() error {
	root := flag.String("root", "", "repository root (default: the folder holding go.work, from the working directory up)")
	section := flag.String("section", "Your first service", "README section to run")
	keep := flag.Bool("keep", false, "keep the temporary folder, to look at what the walkthrough made")
	printScript := flag.Bool("print", false, "print the script the README makes, and run nothing")
	timeout := flag.Duration("timeout", 15*time.Minute, "the longest the walkthrough may take")
	flag.Parse()

	if *root == "" {
		r, err := findRoot()
		if err != nil {
			return err
		}
		*root = r
	}
	readme, err := os.ReadFile(filepath.Join(*root, "README.md"))
	if err != nil {
		return err
	}
	actions, err := extract(string(readme), *section)
	if err != nil {
		return err
	}
	if *root, err = filepath.Abs(*root); err != nil {
		return err
	}
	for i := range actions {
		for j, line := range actions[i].lines {
			actions[i].lines[j] = strings.ReplaceAll(line, clonePlaceholder, *root)
		}
	}
	sh, err := script(actions)
	if err != nil {
		return err
	}
	if *printScript {
		fmt.Print(sh)
		return nil
	}

	if err := installCurl(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "walkthrough-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "walkthrough: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if rel, err := filepath.Rel(*root, tmp); err == nil && !strings.HasPrefix(rel, "..") {
		return fmt.Errorf("the temporary folder %s is inside the clone %s: set TMPDIR elsewhere", tmp, *root)
	}
	env, err := environment(tmp, *root)
	if err != nil {
		return err
	}
	work := filepath.Join(tmp, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	scriptFile := filepath.Join(tmp, "walkthrough.sh")
	if err := os.WriteFile(scriptFile, []byte(sh), 0o644); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", scriptFile)
	cmd.Dir = work
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("the walkthrough took longer than %s", *timeout)
	}
	if err != nil {
		return fmt.Errorf("the README's walkthrough failed (%v); rerun with -keep to look at its folder", err)
	}
	return nil
}

// environment is the environment of the walkthrough: a GOPATH and module
// cache of its own, with the GOPATH's bin first on PATH, buf and grpcurl,
// and a GOPROXY that prefers the local module cache. Nothing here reaches
// polyconnect's modules: the README's step 0 does.
func environment(tmp, root string) ([]string, error) {
	goEnv := func(name string) (string, error) {
		out, err := exec.Command("go", "env", name).Output()
		return strings.TrimSpace(string(out)), err
	}
	modCache, err := goEnv("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	upstream, err := goEnv("GOPROXY")
	if err != nil {
		return nil, err
	}
	// The tools the README asks the reader to install beforehand, and
	// only those, from .tools/bin.
	tools := filepath.Join(tmp, "tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		return nil, err
	}
	for tool, script := range map[string]string{"buf": "scripts/tools.sh", "grpcurl": "scripts/tools-grpcurl.sh"} {
		bin := filepath.Join(root, ".tools", "bin", tool)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("no %s in .tools/bin: run bash %s first", tool, script)
		}
		if err := os.Symlink(bin, filepath.Join(tools, tool)); err != nil {
			return nil, err
		}
	}
	gopath := filepath.Join(tmp, "gopath")
	walkCache, err := moduleCache()
	if err != nil {
		return nil, err
	}

	goproxy := "file://" + filepath.ToSlash(filepath.Join(modCache, "cache", "download"))
	if upstream != "" && upstream != "off" {
		goproxy += "," + upstream
	}
	set := map[string]string{
		"GOPATH":     gopath,
		"GOMODCACHE": walkCache,
		"GOBIN":      "",
		"GOPROXY":    goproxy,
		// A reader's defaults: the checksum database on, nothing excluded
		// from it until step 0 says so.
		"GOSUMDB":     "",
		"GONOSUMDB":   "",
		"GOPRIVATE":   "",
		"GOFLAGS":     "",
		"GOWORK":      "off",
		"GOTOOLCHAIN": "local",
		// The go command indexes the modules of the module cache once per
		// path@version, taking them as immutable; the repository's modules
		// change under the same v0.1.0, so the index must not be used.
		"GODEBUG": strings.TrimPrefix(os.Getenv("GODEBUG")+",goindex=0", ","),
		"PATH":    strings.Join(append([]string{filepath.Join(gopath, "bin"), tools}, systemPath(root)...), string(os.PathListSeparator)),
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; !ok {
			env = append(env, kv)
		}
	}
	for name, value := range set {
		env = append(env, name+"="+value)
	}
	return env, nil
}

// moduleCache returns the walkthrough's module cache, kept between runs at
// a fixed place so that the build cache recognises the packages in it
// (their paths are part of what it keys on), with the repository's modules
// removed from it: they must come fresh from the proxy each time.
func moduleCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	cache := filepath.Join(dir, "polyconnect-walkthrough", "mod")
	for _, sub := range []string{"polyconnect.dev", filepath.Join("cache", "download", "polyconnect.dev")} {
		p := filepath.Join(cache, sub)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		// The module cache is read-only: make it writable to remove it.
		if err := exec.Command("chmod", "-R", "u+w", p).Run(); err != nil {
			return "", err
		}
		if err := os.RemoveAll(p); err != nil {
			return "", err
		}
	}
	return cache, nil
}

// systemPath is PATH without the repository's .tools/bin, whose plugins
// would hide a README that forgets to install them.
func systemPath(root string) []string {
	var out []string
	own := filepath.Join(root, ".tools", "bin")
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.Clean(dir) != own {
			out = append(out, dir)
		}
	}
	return out
}

// installCurl installs curl from Debian when it is missing: the README
// calls the service with it.
func installCurl() error {
	if _, err := exec.LookPath("curl"); err == nil {
		return nil
	}
	fmt.Fprintln(os.Stderr, "walkthrough: installing curl from Debian")
	sudo := []string{}
	if os.Geteuid() != 0 {
		sudo = []string{"sudo"}
	}
	for _, args := range [][]string{{"apt-get", "update", "-qq"}, {"apt-get", "install", "-y", "-qq", "curl"}} {
		cmd := exec.Command(append(sudo, args...)[0], append(sudo, args...)[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install curl: %w", err)
		}
	}
	return nil
}

// findRoot looks for go.work from the working directory up.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: pass -root")
		}
		dir = parent
	}
}
