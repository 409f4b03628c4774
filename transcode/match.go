package transcode

import (
	"errors"
	"strings"
)

// maxPathSegments bounds the segments a request path is split into: a path
// with more matches no route (net/http already bounds the request line).
const maxPathSegments = 256

// requestPath is a request's escaped path split into segments, without the
// leading slash. Splitting is done once per request and shared by every
// route tried.
type requestPath struct {
	raw  string   // the escaped path after its leading slash
	segs []string // raw (escaped) segments; a trailing slash gives an empty last one
	offs []int    // offs[i] is where segs[i] starts in raw
}

// split fills p from an escaped path, reusing p's slices. It reports false
// for a path that does not start with "/" or has too many segments.
func (p *requestPath) split(escaped string) bool {
	if !strings.HasPrefix(escaped, "/") {
		return false
	}
	p.raw = escaped[1:]
	p.segs = p.segs[:0]
	p.offs = p.offs[:0]
	if p.raw == "" {
		return true
	}
	start := 0
	for i := 0; i <= len(p.raw); i++ {
		if i == len(p.raw) || p.raw[i] == '/' {
			if len(p.segs) == maxPathSegments {
				return false
			}
			p.segs = append(p.segs, p.raw[start:i])
			p.offs = append(p.offs, start)
			start = i + 1
		}
	}
	return true
}

// match reports whether the path matches the template and, if it does,
// appends the (still escaped) value of each variable to vals, in the order
// of t.vars.
func (t *pathTemplate) match(p *requestPath, vals []string) ([]string, bool) {
	segs := p.segs
	if t.verb != "" {
		if len(segs) == 0 {
			return vals, false
		}
		last := segs[len(segs)-1]
		if len(last) <= len(t.verb)+1 || !strings.HasSuffix(last, t.verb) || last[len(last)-len(t.verb)-1] != ':' {
			// A verb needs something before it: "/:verb" is not "/{x}:verb".
			if !(len(t.segs) == 0 && last == ":"+t.verb) {
				return vals, false
			}
		}
		// Match against a copy of the segments with the verb cut off the
		// last one. The copy is short-lived and small.
		cut := make([]string, len(segs))
		copy(cut, segs)
		cut[len(cut)-1] = last[:len(last)-len(t.verb)-1]
		segs = cut
		if len(t.segs) == 0 {
			return vals, len(segs) == 1 && segs[0] == ""
		}
	}
	deep := len(t.segs) > 0 && t.segs[len(t.segs)-1].kind == segDeep
	if deep {
		if len(segs) < len(t.segs)-1 {
			return vals, false
		}
	} else if len(segs) != len(t.segs) {
		return vals, false
	}
	for i, seg := range t.segs {
		switch seg.kind {
		case segLiteral:
			if !literalEqual(segs[i], seg.lit) {
				return vals, false
			}
		case segSingle:
			// A variable never binds an empty segment ("/v1/books/" is not
			// "/v1/books/{id}").
			if segs[i] == "" {
				return vals, false
			}
		}
	}
	for _, v := range t.vars {
		vals = append(vals, t.varValue(p, segs, v))
	}
	return vals, true
}

// varValue returns the escaped text a variable covers.
func (t *pathTemplate) varValue(p *requestPath, segs []string, v variable) string {
	end := v.end
	if t.segs[end-1].kind == segDeep {
		end = len(segs)
	}
	switch {
	case end <= v.start:
		return "" // ** over zero segments
	case end-v.start == 1:
		return segs[v.start]
	}
	// Several segments: the raw path between them, with the verb cut off if
	// the variable runs to the end.
	from := p.offs[v.start]
	to := p.offs[end-1] + len(segs[end-1])
	return p.raw[from:to]
}

// literalEqual compares an escaped path segment with a template literal.
func literalEqual(raw, lit string) bool {
	if strings.IndexByte(raw, '%') < 0 {
		return raw == lit
	}
	u, err := unescape(raw, false)
	return err == nil && u == lit
}

var errBadEscape = errors.New("invalid percent-encoding")

// unescape decodes %XX sequences. With keepSlash, "%2F" and "%2f" stay
// encoded, as the google.api.http rules ask for variables that span several
// segments (so an encoded slash stays distinguishable from a separator). It
// returns s itself when there is nothing to decode.
func unescape(s string, keepSlash bool) (string, error) {
	n := strings.IndexByte(s, '%')
	if n < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:n])
	for i := n; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", errBadEscape
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if keepSlash && d == '/' {
			b.WriteString(s[i : i+3])
		} else {
			b.WriteByte(d)
		}
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
