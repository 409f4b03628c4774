package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// apiPackage is the exported API of one package.
type apiPackage struct {
	path string // import path
	name string // package name
	// idents holds what must be documented: top-level names, and methods of
	// exported types as "Type.Method".
	idents map[string]bool
	// members holds what the page may name besides idents: method names
	// alone, exported struct fields and interface methods.
	members map[string]bool
	// sigs holds a one-line Go signature per ident, for -skeleton.
	sigs map[string]string
}

func (p *apiPackage) has(name string) bool {
	return p.idents[name] || p.members[name]
}

func (p *apiPackage) sortedIdents() []string {
	out := make([]string, 0, len(p.idents))
	for id := range p.idents {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// loadModule returns the public packages of the module in dir: neither
// internal, nor commands, nor test-only, nor inside a nested module.
func loadModule(dir string) ([]*apiPackage, error) {
	modPath, err := modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	var pkgs []*apiPackage
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		base := d.Name()
		if path != dir {
			if base == "internal" || base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		importPath := modPath
		if rel != "." {
			importPath += "/" + filepath.ToSlash(rel)
		}
		p, err := loadPackage(path, importPath)
		if err != nil {
			return err
		}
		if p != nil {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	return pkgs, err
}

func modulePath(goMod string) (string, error) {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", goMod)
}

// loadPackage parses the non-test, non-generated files of one folder. It
// returns nil for a folder without such files and for commands.
func loadPackage(dir, importPath string) (*apiPackage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	p := &apiPackage{path: importPath, idents: map[string]bool{}, members: map[string]bool{}, sigs: map[string]string{}}
	seen := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if ast.IsGenerated(f) || !buildsByDefault(f) {
			continue
		}
		if f.Name.Name == "main" {
			return nil, nil
		}
		seen = true
		p.name = f.Name.Name
		collect(p, fset, f)
	}
	if !seen {
		return nil, nil
	}
	return p, nil
}

// buildsByDefault reports whether a file is part of a default build: files
// that need a build tag (such as the race detector or an "ignore" tag) are
// not part of what a user links.
func buildsByDefault(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build ") {
				expr := strings.TrimPrefix(c.Text, "//go:build ")
				return !strings.Contains(expr, "ignore") && !strings.HasPrefix(strings.TrimSpace(expr), "race")
			}
		}
	}
	return true
}

func collect(p *apiPackage, fset *token.FileSet, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			sig := funcSignature(fset, d)
			if d.Recv == nil {
				p.idents[d.Name.Name] = true
				p.sigs[d.Name.Name] = sig
				continue
			}
			recv := receiverType(d.Recv.List[0].Type)
			if ast.IsExported(recv) {
				p.idents[recv+"."+d.Name.Name] = true
				p.sigs[recv+"."+d.Name.Name] = sig
				p.members[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					p.idents[s.Name.Name] = true
					p.sigs[s.Name.Name] = "type " + s.Name.Name + " " + typeSummary(fset, s.Type)
					collectMembers(p, s.Type)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							p.idents[n.Name] = true
							p.sigs[n.Name] = d.Tok.String() + " " + n.Name
						}
					}
				}
			}
		}
	}
}

// collectMembers records the exported fields of a struct and the methods of
// an interface.
func collectMembers(p *apiPackage, t ast.Expr) {
	switch t := t.(type) {
	case *ast.StructType:
		for _, f := range t.Fields.List {
			for _, n := range f.Names {
				if n.IsExported() {
					p.members[n.Name] = true
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			for _, n := range m.Names {
				if n.IsExported() {
					p.members[n.Name] = true
				}
			}
		}
	}
}

// receiverType returns the base type name of a method receiver: T for T,
// *T, T[A] and *T[A, B].
func receiverType(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// funcSignature prints a function declaration without its body or doc.
func funcSignature(fset *token.FileSet, d *ast.FuncDecl) string {
	c := *d
	c.Body = nil
	c.Doc = nil
	var b strings.Builder
	if err := printer.Fprint(&b, fset, &c); err != nil {
		return "func " + d.Name.Name
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// typeSummary prints a type's definition, with struct and interface bodies
// left out.
func typeSummary(fset *token.FileSet, t ast.Expr) string {
	switch t.(type) {
	case *ast.StructType:
		return "struct{ ... }"
	case *ast.InterfaceType:
		return "interface{ ... }"
	}
	var b strings.Builder
	if err := printer.Fprint(&b, fset, t); err != nil {
		return "..."
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
