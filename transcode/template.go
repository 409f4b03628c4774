package transcode

import (
	"errors"
	"fmt"
	"strings"
)

// segKind is the kind of one segment of a path template.
type segKind uint8

const (
	segLiteral segKind = iota // matches its text exactly
	segSingle                 // "*": matches one segment
	segDeep                   // "**": matches zero or more segments; only last
)

// segment is one segment of a path template.
type segment struct {
	kind segKind
	lit  string // segLiteral only
}

// variable is a template variable: the field path it binds and the segments
// it covers, [start, end) in pathTemplate.segs.
type variable struct {
	fieldPath string // dotted field names, such as "book.name"
	start     int
	end       int
}

// multi reports whether the variable may span more than one segment, which
// changes how its value is unescaped (%2F stays encoded).
func (v variable) multi(t *pathTemplate) bool {
	return v.end-v.start != 1 || t.segs[v.start].kind == segDeep
}

// pathTemplate is a parsed google.api.http path template:
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = "*" | "**" | LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb     = ":" LITERAL ;
//
// "/" alone is the root, with no segments.
type pathTemplate struct {
	raw  string
	segs []segment
	verb string
	vars []variable
}

// maxTemplateLen bounds the templates parseTemplate accepts. Templates come
// from the service's own descriptors, but the parser is fuzzed and must stay
// linear on anything.
const maxTemplateLen = 4096

// parseTemplate parses a path template.
func parseTemplate(s string) (*pathTemplate, error) {
	if len(s) > maxTemplateLen {
		return nil, fmt.Errorf("path template is %d bytes long, more than %d", len(s), maxTemplateLen)
	}
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("path template %q does not start with /", s)
	}
	t := &pathTemplate{raw: s}
	if s == "/" {
		return t, nil
	}
	body := s[1:]
	// The verb follows the last colon that is outside every variable.
	depth := 0
	verbAt := -1
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ':':
			if depth == 0 {
				verbAt = i
			}
		}
	}
	if verbAt >= 0 {
		t.verb = body[verbAt+1:]
		body = body[:verbAt]
		if t.verb == "" {
			return nil, fmt.Errorf("path template %q: empty verb after ':'", s)
		}
		if strings.ContainsAny(t.verb, "/{}=*:") {
			return nil, fmt.Errorf("path template %q: verb %q has a character a literal may not", s, t.verb)
		}
	}
	p := templateParser{t: t, s: body}
	if err := p.segments(false); err != nil {
		return nil, fmt.Errorf("path template %q: %w", s, err)
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("path template %q: unexpected %q at offset %d", s, p.s[p.i], p.i+1)
	}
	for i, seg := range t.segs {
		if seg.kind == segDeep && i != len(t.segs)-1 {
			return nil, fmt.Errorf("path template %q: ** must be the last segment", s)
		}
	}
	seen := make(map[string]bool, len(t.vars))
	for _, v := range t.vars {
		if seen[v.fieldPath] {
			return nil, fmt.Errorf("path template %q: variable %q appears twice", s, v.fieldPath)
		}
		seen[v.fieldPath] = true
	}
	return t, nil
}

// templateParser is a recursive-descent parser over the template after its
// leading slash, with the verb cut off.
type templateParser struct {
	t *pathTemplate
	s string
	i int
}

var errEmptySegment = errors.New("empty segment")

// segments parses Segments; inVar is true inside a variable, where "}"
// ends the list.
func (p *templateParser) segments(inVar bool) error {
	for {
		if err := p.segment(inVar); err != nil {
			return err
		}
		if p.i < len(p.s) && p.s[p.i] == '/' {
			p.i++
			continue
		}
		return nil
	}
}

func (p *templateParser) segment(inVar bool) error {
	if p.i >= len(p.s) {
		return errEmptySegment
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if inVar {
			return errors.New("variables may not nest")
		}
		return p.variable()
	case c == '*':
		if strings.HasPrefix(p.s[p.i:], "**") {
			p.i += 2
			p.t.segs = append(p.t.segs, segment{kind: segDeep})
		} else {
			p.i++
			p.t.segs = append(p.t.segs, segment{kind: segSingle})
		}
		if p.i < len(p.s) && p.s[p.i] != '/' && p.s[p.i] != '}' {
			return fmt.Errorf("unexpected %q after a wildcard", p.s[p.i])
		}
		return nil
	default:
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune("/{}=*:", rune(p.s[p.i])) {
			p.i++
		}
		if p.i == start {
			if p.s[p.i] == '/' {
				return errEmptySegment
			}
			return fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i+1)
		}
		if p.i < len(p.s) && p.s[p.i] != '/' && !(inVar && p.s[p.i] == '}') {
			return fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i+1)
		}
		p.t.segs = append(p.t.segs, segment{kind: segLiteral, lit: p.s[start:p.i]})
		return nil
	}
}

func (p *templateParser) variable() error {
	p.i++ // {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != '}' {
		p.i++
	}
	if p.i >= len(p.s) {
		return errors.New("unterminated variable")
	}
	path := p.s[start:p.i]
	if err := checkFieldPath(path); err != nil {
		return err
	}
	v := variable{fieldPath: path, start: len(p.t.segs)}
	if p.s[p.i] == '=' {
		p.i++
		if err := p.segments(true); err != nil {
			return err
		}
	} else {
		p.t.segs = append(p.t.segs, segment{kind: segSingle})
	}
	if p.i >= len(p.s) || p.s[p.i] != '}' {
		return errors.New("unterminated variable")
	}
	p.i++
	v.end = len(p.t.segs)
	p.t.vars = append(p.t.vars, v)
	if p.i < len(p.s) && p.s[p.i] != '/' {
		return fmt.Errorf("unexpected %q after variable %q", p.s[p.i], path)
	}
	return nil
}

// checkFieldPath checks FieldPath = IDENT { "." IDENT }.
func checkFieldPath(path string) error {
	if path == "" {
		return errors.New("variable without a field path")
	}
	for part := range strings.SplitSeq(path, ".") {
		if !isIdent(part) {
			return fmt.Errorf("variable field path %q: %q is not an identifier", path, part)
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// openAPIPath returns the template as an OpenAPI path: each variable becomes
// {field.path}, and wildcards outside variables keep their spelling.
func (t *pathTemplate) openAPIPath() string {
	var b strings.Builder
	vi := 0
	for i := 0; i < len(t.segs); i++ {
		b.WriteByte('/')
		if vi < len(t.vars) && t.vars[vi].start == i {
			v := t.vars[vi]
			b.WriteString("{" + v.fieldPath + "}")
			if v.end > v.start {
				i = v.end - 1
			}
			vi++
			continue
		}
		switch seg := t.segs[i]; seg.kind {
		case segLiteral:
			b.WriteString(seg.lit)
		case segSingle:
			b.WriteString("*")
		case segDeep:
			b.WriteString("**")
		}
	}
	if len(t.segs) == 0 {
		b.WriteByte('/')
	}
	if t.verb != "" {
		b.WriteString(":" + t.verb)
	}
	return b.String()
}

// moreSpecific orders templates for matching: at the first segment where
// they differ in kind, a literal beats "*", which beats "**"; then the longer
// template, then the one with a verb. Matching tries routes in this order and
// takes the first that matches, so a request matching both "/v1/books:search"
// and "/v1/{name}" goes to the first.
func moreSpecific(a, b *pathTemplate) bool {
	n := min(len(a.segs), len(b.segs))
	for i := range n {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.verb != "" && b.verb == ""
}
