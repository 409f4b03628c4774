// Package cors lets web browsers call polyconnect services from pages of
// other origins: it is HTTP middleware that answers CORS preflight requests
// and adds the CORS response headers that the Connect and gRPC-Web protocols
// need, for the origins a [Policy] allows.
//
//	policy, err := cors.New(cors.WithAllowedOrigins("https://app.example.com"))
//	if err != nil { … }
//	srv, err := transport.NewServer(cfg, policy.Handler(mux))
//
// A browser asks before it sends a call that is not a "simple" request,
// which is nearly every RPC (their Content-Type and protocol headers are not
// on the browser's short safe list): it sends an OPTIONS preflight naming
// the method and headers it wants to use, and sends the call only if the
// answer allows them. The Policy answers preflights itself, without calling
// the wrapped handler, and refuses (403) those of origins, methods or headers
// it does not allow. On the calls that follow it allows the origin to read
// the response, and exposes the response headers the protocols carry status
// and metadata in (gRPC-Web's Grpc-Status, Grpc-Message and
// Grpc-Status-Details-Bin on errors without a body, Connect's unary
// trailers, sent as Trailer- headers): without that, browser clients cannot
// see errors and trailers.
//
// Requests from origins the Policy does not allow are passed to the handler
// untouched, without CORS headers, so the browser keeps the response from
// the page. CORS protects what a page can read; it is not authentication.
//
// The package depends on the standard library only and knows nothing of a
// transport, so it works with any http.Handler and any server.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxAge is how long browsers may cache a preflight answer when
// [WithMaxAge] is not given. Chromium caps the value at two hours, Firefox
// at a day.
const DefaultMaxAge = 2 * time.Hour

// AllowedMethods returns the HTTP methods the protocols use: GET for
// Connect calls of side-effect-free methods, POST for everything else. A
// Policy allows them unless [WithAllowedMethods] says otherwise.
func AllowedMethods() []string {
	return []string{http.MethodGet, http.MethodPost}
}

// AllowedHeaders returns the request headers that Connect and gRPC-Web
// clients send and a browser must be allowed to: content type, protocol
// version, timeouts and compression of Connect, and their gRPC-Web
// counterparts. A Policy always allows them; [WithAllowedHeaders] adds more,
// such as Authorization or your own metadata.
func AllowedHeaders() []string {
	return []string{
		"Content-Type",
		"Content-Encoding", // Connect unary request compression
		"Accept-Encoding",
		"Connect-Protocol-Version",
		"Connect-Timeout-Ms",
		"Connect-Content-Encoding", // Connect streaming
		"Connect-Accept-Encoding",
		"Grpc-Timeout",
		"Grpc-Encoding",
		"Grpc-Accept-Encoding",
		"X-Grpc-Web",
		"X-User-Agent",
	}
}

// ExposedHeaders returns the response headers a browser client needs to
// read: the status of gRPC-Web calls that fail without a body
// (trailers-only responses) and the compression headers of both protocols.
// A Policy always exposes them, plus the Trailer- headers of Connect unary
// responses, whatever their names; [WithExposedHeaders] adds more.
func ExposedHeaders() []string {
	return []string{
		"Grpc-Status",
		"Grpc-Message",
		"Grpc-Status-Details-Bin",
		"Grpc-Encoding",
		"Grpc-Accept-Encoding",
		"Content-Encoding",
		"Connect-Content-Encoding",
		"Connect-Accept-Encoding",
	}
}

// Policy is a CORS policy: which origins may call, with which methods and
// headers, and what they may read. Build one with [New] and wrap handlers
// with [Policy.Handler]. A Policy is immutable and safe for concurrent use.
type Policy struct {
	origins     originSet
	methods     []string
	methodsText string          // Access-Control-Allow-Methods
	headers     map[string]bool // allowed request headers, lower case
	headersText string          // Access-Control-Allow-Headers
	exposedText string          // Access-Control-Expose-Headers, before Trailer- headers
	maxAge      string          // Access-Control-Max-Age, "" to omit
	credentials bool
}

// Option configures a [Policy].
type Option interface {
	apply(*config)
}

type config struct {
	origins     []string
	originFunc  func(string) bool
	methods     []string
	headers     []string
	exposed     []string
	maxAge      time.Duration
	credentials bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithAllowedOrigins allows browser pages of these origins to call. An
// origin is written as the browser sends it, scheme://host[:port] without
// a path, such as "https://app.example.com" or "http://localhost:5173".
// Three forms are accepted:
//
//   - an exact origin;
//   - an origin with one "*" standing for subdomains or a port:
//     "https://*.example.com" allows https://a.example.com and
//     https://a.b.example.com (but not https://example.com), and
//     "http://localhost:*" allows any port of http://localhost;
//   - "*" alone: any origin. It cannot be combined with [WithCredentials].
//
// Later calls add to earlier ones; an origin also passes if the function
// of [WithAllowOriginFunc] allows it.
func WithAllowedOrigins(origins ...string) Option {
	return optionFunc(func(c *config) { c.origins = append(c.origins, origins...) })
}

// WithAllowOriginFunc allows the origins for which fn returns true, in
// addition to those of [WithAllowedOrigins]. fn receives the Origin header
// as the browser sent it and may be called concurrently.
func WithAllowOriginFunc(fn func(origin string) bool) Option {
	return optionFunc(func(c *config) { c.originFunc = fn })
}

// WithAllowedMethods replaces the allowed methods, [AllowedMethods] by
// default. Only preflighted calls are checked: a browser sends "simple" GET
// and POST requests without asking.
func WithAllowedMethods(methods ...string) Option {
	return optionFunc(func(c *config) { c.methods = methods })
}

// WithAllowedHeaders allows browsers to send these request headers in
// addition to [AllowedHeaders]: typically Authorization and the headers
// your interceptors read.
func WithAllowedHeaders(headers ...string) Option {
	return optionFunc(func(c *config) { c.headers = append(c.headers, headers...) })
}

// WithExposedHeaders lets browser clients read these response headers in
// addition to [ExposedHeaders] and Connect's Trailer- headers: the
// response headers your handlers set.
func WithExposedHeaders(headers ...string) Option {
	return optionFunc(func(c *config) { c.exposed = append(c.exposed, headers...) })
}

// WithMaxAge sets how long a browser may cache a preflight answer, rounded
// down to whole seconds; [DefaultMaxAge] if not given. Zero makes the
// browser ask before every call; a negative duration leaves the header
// out, so the browser's own default (5 seconds in most) applies.
func WithMaxAge(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxAge = d })
}

// WithCredentials lets pages send cookies and HTTP authentication with
// their calls and read the responses (Access-Control-Allow-Credentials).
// Allow only origins you trust with your users' sessions; it cannot be
// combined with the "*" origin.
func WithCredentials() Option {
	return optionFunc(func(c *config) { c.credentials = true })
}

// New builds a Policy. It fails if no origin is allowed, if an origin is
// malformed, or if credentials are allowed for any origin.
func New(opts ...Option) (*Policy, error) {
	c := config{maxAge: DefaultMaxAge, methods: AllowedMethods()}
	for _, opt := range opts {
		opt.apply(&c)
	}
	origins, err := newOriginSet(c.origins, c.originFunc)
	if err != nil {
		return nil, err
	}
	if origins.empty() {
		return nil, errors.New("cors: no origin is allowed: use WithAllowedOrigins or WithAllowOriginFunc")
	}
	if c.credentials && origins.any {
		return nil, errors.New(`cors: WithCredentials cannot be combined with the "*" origin: list the origins you trust`)
	}
	if len(c.methods) == 0 {
		return nil, errors.New("cors: WithAllowedMethods with no method")
	}
	p := &Policy{
		origins:     origins,
		methods:     slices.Clone(c.methods),
		headers:     map[string]bool{},
		credentials: c.credentials,
	}
	for _, m := range p.methods {
		if !validToken(m) {
			return nil, fmt.Errorf("cors: %q is not an HTTP method", m)
		}
	}
	p.methodsText = strings.Join(p.methods, ", ")
	allowed, err := canonicalList(append(AllowedHeaders(), c.headers...))
	if err != nil {
		return nil, err
	}
	for _, h := range allowed {
		p.headers[strings.ToLower(h)] = true
	}
	p.headersText = strings.Join(allowed, ", ")
	exposed, err := canonicalList(append(ExposedHeaders(), c.exposed...))
	if err != nil {
		return nil, err
	}
	p.exposedText = strings.Join(exposed, ", ")
	if c.maxAge >= 0 {
		p.maxAge = strconv.FormatInt(int64(c.maxAge/time.Second), 10)
	}
	return p, nil
}

// canonicalList validates header names and returns them canonicalized and
// without duplicates, in their first order.
func canonicalList(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for _, name := range names {
		if !validToken(name) {
			return nil, fmt.Errorf("cors: %q is not a header name", name)
		}
		name = http.CanonicalHeaderKey(name)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// validToken reports whether s is an HTTP token (RFC 9110), the syntax of
// methods and header names.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// AllowsOrigin reports whether the policy lets pages of origin call.
func (p *Policy) AllowsOrigin(origin string) bool {
	return p.origins.allows(origin)
}
