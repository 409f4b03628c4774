package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// defaultPackage is the package of the sections whose heading names none.
const defaultPackage = "polyconnect.dev/protocol/rpc"

// skipMarker in a "## " heading marks a section about names that are not
// in any product package (generated code): its bare names are not checked.
const skipMarker = "<!-- apicheck: skip -->"

// skipSection is the section key of such sections.
const skipSection = "-"

// page is docs/api.md: the text of each package's sections, and the
// identifiers it names.
type page struct {
	sections map[string]string // import path -> text of its sections
	refs     []ref
}

// ref is one identifier the page names.
type ref struct {
	line      int
	section   string // import paths (space-separated) of the section it is in
	qualifier string // package name before the dot, if any
	name      string
}

var (
	importPathRE = regexp.MustCompile(`[a-z0-9-]+(?:\.[a-z0-9-]+)+/[A-Za-z0-9_./-]*[A-Za-z0-9_]`)
	codeDeclRE   = regexp.MustCompile(`^\s*(?:func\s+(?:\([^)]*\)\s*)?|type\s+|const\s+|var\s+)([A-Z]\w*)`)
	qualifiedRE  = regexp.MustCompile(`(?:^|[^\w.])([a-z]\w*)\.([A-Z]\w*)`)
	leadingRE    = regexp.MustCompile(`^\*?([A-Z][A-Za-z0-9_]*)(?:$|[\s(\[.{])`)
	spanRE       = regexp.MustCompile("`([^`]+)`")
	wordRE       = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// parsePage splits the page into sections by "## " headings and collects
// the identifiers named in code blocks and code spans.
func parsePage(text string) *page {
	p := &page{sections: map[string]string{}}
	section := defaultPackage
	inCode := false
	var b strings.Builder
	flush := func() {
		for _, path := range strings.Fields(section) {
			p.sections[path] += b.String()
		}
		b.Reset()
	}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inCode = !inCode
			continue
		}
		if !inCode && strings.HasPrefix(line, "## ") {
			flush()
			section = defaultPackage
			if m := importPathRE.FindAllString(line, -1); m != nil {
				section = strings.Join(m, " ")
			}
			if strings.Contains(line, skipMarker) {
				section = skipSection
			}
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if inCode {
			if m := codeDeclRE.FindStringSubmatch(line); m != nil {
				p.refs = append(p.refs, ref{line: n, section: section, name: m[1]})
			}
			p.addQualified(n, section, line)
			continue
		}
		for _, m := range spanRE.FindAllStringSubmatch(line, -1) {
			span := m[1]
			if lm := leadingRE.FindStringSubmatch(span); lm != nil && hasLower(lm[1]) {
				p.refs = append(p.refs, ref{line: n, section: section, name: lm[1]})
			}
			p.addQualified(n, section, span)
		}
	}
	flush()
	return p
}

func (p *page) addQualified(line int, section, s string) {
	for _, m := range qualifiedRE.FindAllStringSubmatch(s, -1) {
		p.refs = append(p.refs, ref{line: line, section: section, qualifier: m[1], name: m[2]})
	}
}

// hasLower reports whether s has a lower-case letter: all-capital words in
// code spans (GOAWAY, HTTP) are protocol terms, not Go identifiers.
func hasLower(s string) bool {
	return strings.ToUpper(s) != s
}

func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range wordRE.FindAllString(text, -1) {
		set[w] = true
	}
	return set
}

// exclusions is docs/api-exclude.txt: identifiers (or whole packages) that
// docs/api.md leaves out on purpose, each with its reason.
type exclusions struct {
	file    string
	entries []exclusion
	set     map[string]bool
}

type exclusion struct {
	line       int
	pkg, ident string // ident "" excludes the whole package
}

func (e *exclusions) has(pkg, ident string) bool {
	return e.set[pkg+" "+ident]
}

// loadExclusions reads lines "IMPORT_PATH IDENT REASON…" or
// "IMPORT_PATH * REASON…"; # starts a comment line. A reason is required.
func loadExclusions(path string) (*exclusions, error) {
	e := &exclusions{file: path, set: map[string]bool{}}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want IMPORT_PATH IDENT|* REASON, got %q", path, n, line)
		}
		ident := fields[1]
		if ident == "*" {
			ident = ""
		}
		e.entries = append(e.entries, exclusion{line: n, pkg: fields[0], ident: ident})
		e.set[fields[0]+" "+ident] = true
	}
	return e, sc.Err()
}
