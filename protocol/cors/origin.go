package cors

import (
	"fmt"
	"strings"
)

// originSet is the set of allowed origins: exact ones, patterns with one
// wildcard, all of them, and a function.
type originSet struct {
	any      bool
	exact    map[string]bool // lower case
	patterns []originPattern
	fn       func(string) bool
}

// originPattern is an origin with one "*": prefix + (subdomains or port) +
// suffix.
type originPattern struct {
	prefix, suffix string // lower case
	port           bool   // the wildcard stands for a port: digits only
}

func newOriginSet(origins []string, fn func(string) bool) (originSet, error) {
	s := originSet{exact: map[string]bool{}, fn: fn}
	for _, o := range origins {
		if o == "*" {
			s.any = true
			continue
		}
		lower := strings.ToLower(o)
		if err := checkOrigin(o, lower); err != nil {
			return s, err
		}
		i := strings.IndexByte(lower, '*')
		if i < 0 {
			s.exact[lower] = true
			continue
		}
		p := originPattern{prefix: lower[:i], suffix: lower[i+1:]}
		switch {
		case strings.HasSuffix(p.prefix, "://") && strings.HasPrefix(p.suffix, "."):
			// https://*.example.com[:port]
		case strings.HasSuffix(p.prefix, ":") && !strings.HasSuffix(p.prefix, "://") && p.suffix == "":
			p.port = true // http://localhost:*
		default:
			return s, fmt.Errorf(`cors: origin %q: a "*" stands for subdomains ("https://*.example.com") or a port ("http://localhost:*") only`, o)
		}
		s.patterns = append(s.patterns, p)
	}
	return s, nil
}

// checkOrigin refuses what cannot be an origin: no scheme, a path, a query
// or more than one wildcard.
func checkOrigin(o, lower string) error {
	if o == "null" {
		return nil // sandboxed frames and file: pages send it; allowed only when listed
	}
	scheme, rest, ok := strings.Cut(lower, "://")
	if !ok || scheme == "" || rest == "" {
		return fmt.Errorf("cors: origin %q is not scheme://host[:port], such as https://app.example.com", o)
	}
	if strings.ContainsAny(rest, "/?#") {
		return fmt.Errorf("cors: origin %q has a path; an origin is scheme://host[:port] only", o)
	}
	if strings.Count(lower, "*") > 1 {
		return fmt.Errorf(`cors: origin %q has more than one "*"`, o)
	}
	return nil
}

func (s *originSet) empty() bool {
	return !s.any && len(s.exact) == 0 && len(s.patterns) == 0 && s.fn == nil
}

// allows reports whether origin, as sent by a browser, is allowed.
func (s *originSet) allows(origin string) bool {
	if origin == "" {
		return false
	}
	if s.any {
		return true
	}
	lower := strings.ToLower(origin)
	if s.exact[lower] {
		return true
	}
	for _, p := range s.patterns {
		if p.matches(lower) {
			return true
		}
	}
	return s.fn != nil && s.fn(origin)
}

func (p originPattern) matches(origin string) bool {
	if len(origin) <= len(p.prefix)+len(p.suffix) || !strings.HasPrefix(origin, p.prefix) || !strings.HasSuffix(origin, p.suffix) {
		return false
	}
	middle := origin[len(p.prefix) : len(origin)-len(p.suffix)]
	for i := 0; i < len(middle); i++ {
		c := middle[i]
		switch {
		case '0' <= c && c <= '9':
		case p.port:
			return false
		case 'a' <= c && c <= 'z', c == '-':
		case c == '.' && i > 0 && i < len(middle)-1 && middle[i-1] != '.':
		default:
			return false
		}
	}
	return true
}
