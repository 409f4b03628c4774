// Command apicheck keeps docs/api.md and the code from drifting apart. It
// checks two directions:
//
//   - every exported identifier of the product modules (top-level functions,
//     types, constants and variables, and the exported methods of exported
//     types, as Type.Method) is named in docs/api.md, in the section of its
//     package, or is listed in docs/api-exclude.txt with a reason;
//   - every identifier docs/api.md names in code (a `func Name`, a `type Name`,
//     a backticked `Name` or `pkg.Name` of a product package) exists.
//
// A section of docs/api.md belongs to the package whose import path its
// heading names, such as "## Transport (package transport,
// polyconnect.dev/protocol/transport)"; a section whose heading names none
// belongs to polyconnect.dev/protocol/rpc, the package the page is about.
// Internal packages, commands, test files and generated files are not API.
//
//	go run . -root ../..                           # the product modules of scripts/modules.sh
//	go run . -root ../.. protocol transport-nethttp # these module folders
//
// It prints one line per problem and exits 1 if there is any.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	root := flag.String("root", ".", "repository root")
	docPath := flag.String("doc", "docs/api.md", "the API page, relative to -root")
	excludePath := flag.String("exclude", "docs/api-exclude.txt", "the exclusion list, relative to -root")
	verbose := flag.Bool("v", false, "print the packages and how many identifiers each has")
	skeleton := flag.Bool("skeleton", false, "print the signatures of the undocumented identifiers, per package, to start their sections from")
	flag.Parse()
	modules := flag.Args()
	if len(modules) == 0 {
		var err error
		modules, err = productModules(filepath.Join(*root, "scripts", "modules.sh"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "apicheck:", err)
			os.Exit(2)
		}
	}
	problems, err := run(*root, *docPath, *excludePath, modules, *verbose, *skeleton)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apicheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Printf("apicheck: %d problems: document each identifier in %s (in its package's section) or list it in %s with a reason\n", len(problems), *docPath, *excludePath)
		os.Exit(1)
	}
	fmt.Println("apicheck: docs/api.md matches the exported API")
}

// run loads the API of the module folders, the page and the exclusions, and
// returns the problems found, sorted.
func run(root, docPath, excludePath string, modules []string, verbose, skeleton bool) ([]string, error) {
	var pkgs []*apiPackage
	for _, m := range modules {
		ps, err := loadModule(filepath.Join(root, m))
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, ps...)
	}
	docText, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		return nil, err
	}
	page := parsePage(string(docText))
	excl, err := loadExclusions(filepath.Join(root, excludePath))
	if err != nil {
		return nil, err
	}
	if verbose {
		for _, p := range pkgs {
			fmt.Printf("%s (%s): %d identifiers\n", p.path, p.name, len(p.idents))
		}
	}
	problems := check(pkgs, page, excl)
	if skeleton {
		printSkeleton(pkgs, problems)
	}
	return problems, nil
}

// printSkeleton prints, per package, the signatures of the identifiers the
// problems report as undocumented.
func printSkeleton(pkgs []*apiPackage, problems []string) {
	for _, p := range pkgs {
		var lines []string
		for _, id := range p.sortedIdents() {
			want := fmt.Sprintf("undocumented: %s.%s (%s)", p.name, id, p.path)
			for _, prob := range problems {
				if prob == want {
					lines = append(lines, p.sigs[id])
				}
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Printf("\n## %s\n\n```go\n%s\n```\n", p.path, strings.Join(lines, "\n"))
	}
}

// check compares the packages with the page and the exclusions.
func check(pkgs []*apiPackage, page *page, excl *exclusions) []string {
	var problems []string
	byPath := map[string]*apiPackage{}
	byName := map[string][]*apiPackage{}
	for _, p := range pkgs {
		byPath[p.path] = p
		byName[p.name] = append(byName[p.name], p)
	}

	// Code to page: every identifier is documented or excluded.
	for _, p := range pkgs {
		if excl.has(p.path, "") {
			continue
		}
		text := page.sections[p.path]
		words := wordSet(text)
		for _, id := range p.sortedIdents() {
			if excl.has(p.path, id) {
				continue
			}
			name := id
			if i := strings.IndexByte(id, '.'); i >= 0 {
				name = id[i+1:]
				if interfaceMethods[name] {
					continue
				}
			}
			if !words[name] {
				problems = append(problems, fmt.Sprintf("undocumented: %s.%s (%s)", p.name, id, p.path))
			}
		}
	}

	// Page to code: every named identifier exists.
	for _, ref := range page.refs {
		pkgPath := ref.section
		name := ref.name
		if ref.qualifier != "" {
			cands := byName[ref.qualifier]
			if len(cands) == 0 {
				continue // a package outside the product modules, such as http or context
			}
			found := false
			for _, c := range cands {
				if c.has(name) {
					found = true
				}
			}
			if !found {
				problems = append(problems, fmt.Sprintf("docs/api.md:%d names %s.%s, which does not exist", ref.line, ref.qualifier, name))
			}
			continue
		}
		if pkgPath == skipSection {
			continue
		}
		found := false
		for _, path := range strings.Fields(pkgPath) {
			p := byPath[path]
			if p == nil {
				problems = append(problems, fmt.Sprintf("docs/api.md:%d: section for %s, which is not a product package", ref.line, path))
				found = true
				continue
			}
			if p.has(name) {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("docs/api.md:%d names %s in the section of %s, which has no such identifier, method or field", ref.line, name, pkgPath))
		}
	}

	// Exclusions must name what exists, so they cannot go stale.
	for _, e := range excl.entries {
		p := byPath[e.pkg]
		switch {
		case p == nil:
			problems = append(problems, fmt.Sprintf("%s:%d excludes package %s, which is not a product package", excl.file, e.line, e.pkg))
		case e.ident != "" && !p.idents[e.ident]:
			problems = append(problems, fmt.Sprintf("%s:%d excludes %s.%s, which does not exist", excl.file, e.line, e.pkg, e.ident))
		}
	}
	sort.Strings(problems)
	return dedupe(problems)
}

// interfaceMethods are methods documented by the interface they implement:
// the standard library's (error, fmt.Stringer, http.Handler, the encoding
// and YAML marshalers) and rpc's interceptor interfaces. A type that has
// them is documented; its copies of them need not be.
var interfaceMethods = map[string]bool{
	"Error": true, "Unwrap": true, "Is": true, "As": true, "String": true, "ServeHTTP": true,
	"MarshalJSON": true, "UnmarshalJSON": true, "MarshalText": true, "UnmarshalText": true,
	"MarshalYAML": true, "UnmarshalYAML": true,
	"WrapClientUnary": true, "WrapClientStream": true, "WrapHandlerCall": true, "WrapHandlerUnary": true,
}

// productModules reads the PRODUCT_MODULES list of scripts/modules.sh and
// keeps the folders that hold a go.mod.
func productModules(modulesSh string) ([]string, error) {
	b, err := os.ReadFile(modulesSh)
	if err != nil {
		return nil, err
	}
	_, rest, ok := strings.Cut(string(b), "PRODUCT_MODULES=(")
	if !ok {
		return nil, fmt.Errorf("%s: no PRODUCT_MODULES list", modulesSh)
	}
	list, _, ok := strings.Cut(rest, ")")
	if !ok {
		return nil, fmt.Errorf("%s: PRODUCT_MODULES list not closed", modulesSh)
	}
	root := filepath.Dir(filepath.Dir(modulesSh))
	var out []string
	for _, f := range strings.Fields(list) {
		if strings.HasPrefix(f, "#") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, f, "go.mod")); err == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i > 0 && s[i-1] == v {
			continue
		}
		out = append(out, v)
	}
	return out
}
