package cors_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/protocol/cors"
)

// okHandler answers 200 and counts its calls.
type okHandler struct{ calls int }

func (h *okHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.calls++
	w.Header().Set("Content-Type", "application/proto")
	w.WriteHeader(http.StatusOK)
}

func mustNew(t *testing.T, opts ...cors.Option) *cors.Policy {
	t.Helper()
	p, err := cors.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func preflight(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "http://api.test/connectrpc.eliza.v1.ElizaService/Say", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPreflightAllowed(t *testing.T) {
	next := &okHandler{}
	h := mustNew(t, cors.WithAllowedOrigins("https://app.example.com")).Handler(next)
	// What connect-web sends before a Connect POST with a timeout, and
	// grpc-web before a gRPC-Web call.
	for _, headers := range []string{
		"connect-protocol-version,connect-timeout-ms,content-type",
		"content-type,x-grpc-web,x-user-agent,grpc-timeout",
		"Content-Type, Connect-Content-Encoding, Connect-Accept-Encoding",
	} {
		w := serve(h, preflight("https://app.example.com", "POST", headers))
		if w.Code != http.StatusNoContent {
			t.Fatalf("%s: status %d, want 204", headers, w.Code)
		}
		got := w.Header()
		if got.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("Allow-Origin = %q", got.Get("Access-Control-Allow-Origin"))
		}
		if got.Get("Access-Control-Allow-Methods") != "GET, POST" {
			t.Errorf("Allow-Methods = %q", got.Get("Access-Control-Allow-Methods"))
		}
		allowed := strings.ToLower(got.Get("Access-Control-Allow-Headers"))
		for name := range strings.SplitSeq(headers, ",") {
			if !strings.Contains(allowed, strings.ToLower(strings.TrimSpace(name))) {
				t.Errorf("Allow-Headers %q lacks %q", allowed, name)
			}
		}
		if got.Get("Access-Control-Max-Age") != "7200" {
			t.Errorf("Max-Age = %q, want 7200", got.Get("Access-Control-Max-Age"))
		}
		if got.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed without WithCredentials")
		}
		vary := strings.Join(got.Values("Vary"), ",")
		for _, v := range []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
			if !strings.Contains(vary, v) {
				t.Errorf("Vary %q lacks %s", vary, v)
			}
		}
	}
	if next.calls != 0 {
		t.Errorf("the handler saw %d preflights; the policy answers them", next.calls)
	}
}

func TestPreflightRefused(t *testing.T) {
	next := &okHandler{}
	h := mustNew(t, cors.WithAllowedOrigins("https://app.example.com")).Handler(next)
	tests := []struct {
		name                    string
		origin, method, headers string
	}{
		{"unknown origin", "https://evil.example.net", "POST", "content-type"},
		{"no origin", "", "POST", "content-type"},
		{"method", "https://app.example.com", "DELETE", ""},
		{"lower-case method", "https://app.example.com", "post", ""},
		{"header", "https://app.example.com", "POST", "content-type,authorization"},
	}
	for _, tt := range tests {
		w := serve(h, preflight(tt.origin, tt.method, tt.headers))
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tt.name, w.Code)
		}
		if v := w.Header().Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: Allow-Origin %q on a refusal", tt.name, v)
		}
	}
	if next.calls != 0 {
		t.Errorf("the handler saw %d refused preflights", next.calls)
	}
}

func TestActualRequest(t *testing.T) {
	next := &okHandler{}
	h := mustNew(t, cors.WithAllowedOrigins("https://app.example.com"), cors.WithExposedHeaders("eliza-mood")).Handler(next)

	r := httptest.NewRequest(http.MethodPost, "http://api.test/x", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := serve(h, r)
	if w.Code != http.StatusOK || next.calls != 1 {
		t.Fatalf("status %d, %d calls", w.Code, next.calls)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin = %q", got)
	}
	exposed := strings.Split(w.Header().Get("Access-Control-Expose-Headers"), ", ")
	for _, want := range append(cors.ExposedHeaders(), "Eliza-Mood") {
		if !slices.Contains(exposed, want) {
			t.Errorf("Expose-Headers %q lacks %s", exposed, want)
		}
	}
	if !slices.Contains(w.Header().Values("Vary"), "Origin") {
		t.Errorf("Vary = %q", w.Header().Values("Vary"))
	}

	// Another origin reaches the handler too, but without CORS headers:
	// the browser keeps the response from the page.
	r.Header.Set("Origin", "https://evil.example.net")
	w = serve(h, r)
	if w.Code != http.StatusOK || next.calls != 2 {
		t.Fatalf("status %d, %d calls", w.Code, next.calls)
	}
	for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
		if v := w.Header().Get(name); v != "" {
			t.Errorf("%s = %q for a refused origin", name, v)
		}
	}

	// Not a browser: untouched but for Vary.
	r.Header.Del("Origin")
	w = serve(h, r)
	if v := w.Header().Get("Access-Control-Allow-Origin"); v != "" || !slices.Contains(w.Header().Values("Vary"), "Origin") {
		t.Errorf("no Origin: Allow-Origin %q, Vary %q", v, w.Header().Values("Vary"))
	}
}

func TestNonPreflightOptionsReachesHandler(t *testing.T) {
	next := &okHandler{}
	h := mustNew(t, cors.WithAllowedOrigins("*")).Handler(next)
	r := httptest.NewRequest(http.MethodOptions, "http://api.test/x", nil)
	r.Header.Set("Origin", "https://a.test")
	if w := serve(h, r); w.Code != http.StatusOK || next.calls != 1 {
		t.Errorf("OPTIONS without Access-Control-Request-Method: status %d, %d calls", w.Code, next.calls)
	}
}

func TestOrigins(t *testing.T) {
	p := mustNew(t,
		cors.WithAllowedOrigins("https://App.Example.com", "https://*.example.org", "http://localhost:*", "null"),
		cors.WithAllowOriginFunc(func(o string) bool { return o == "https://from-func.test" }),
	)
	for origin, want := range map[string]bool{
		"https://app.example.com":      true,
		"HTTPS://APP.EXAMPLE.COM":      true,
		"http://app.example.com":       false, // another scheme is another origin
		"https://app.example.com:8443": false,
		"https://a.example.org":        true,
		"https://a.b.example.org":      true,
		"https://example.org":          false,
		"https://evilexample.org":      false,
		"https://.example.org":         false,
		"https://a..example.org":       false,
		"https://a/b.example.org":      false,
		"http://localhost:5173":        true,
		"http://localhost:":            false,
		"http://localhost:80a":         false,
		"http://localhost.evil.test:1": false,
		"null":                         true,
		"https://from-func.test":       true,
		"":                             false,
	} {
		if got := p.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestAnyOrigin(t *testing.T) {
	h := mustNew(t, cors.WithAllowedOrigins("*")).Handler(&okHandler{})
	w := serve(h, preflight("https://whoever.test", "POST", "content-type"))
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("status %d, Allow-Origin %q; want 204 and *", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCredentials(t *testing.T) {
	h := mustNew(t, cors.WithAllowOriginFunc(func(string) bool { return true }), cors.WithCredentials()).Handler(&okHandler{})
	w := serve(h, preflight("https://a.test", "POST", ""))
	// With credentials the origin is named, never "*".
	if w.Header().Get("Access-Control-Allow-Origin") != "https://a.test" || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("headers %v", w.Header())
	}
}

func TestOptions(t *testing.T) {
	h := mustNew(t, cors.WithAllowedOrigins("https://a.test"),
		cors.WithAllowedMethods("POST", "PUT"), cors.WithAllowedHeaders("Authorization"), cors.WithMaxAge(90*time.Second+500*time.Millisecond),
	).Handler(&okHandler{})
	w := serve(h, preflight("https://a.test", "PUT", "authorization, content-type"))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d", w.Code)
	}
	if got := w.Header().Get("Access-Control-Allow-Methods"); got != "POST, PUT" {
		t.Errorf("Allow-Methods = %q", got)
	}
	if got := w.Header().Get("Access-Control-Max-Age"); got != "90" {
		t.Errorf("Max-Age = %q, want 90", got)
	}
	if w := serve(h, preflight("https://a.test", "GET", "")); w.Code != http.StatusForbidden {
		t.Errorf("GET after WithAllowedMethods(POST, PUT): status %d", w.Code)
	}

	noCache := mustNew(t, cors.WithAllowedOrigins("https://a.test"), cors.WithMaxAge(0)).Handler(&okHandler{})
	if got := serve(noCache, preflight("https://a.test", "POST", "")).Header().Values("Access-Control-Max-Age"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("WithMaxAge(0): Max-Age %q, want 0", got)
	}
	browserDefault := mustNew(t, cors.WithAllowedOrigins("https://a.test"), cors.WithMaxAge(-1)).Handler(&okHandler{})
	if got := serve(browserDefault, preflight("https://a.test", "POST", "")).Header().Values("Access-Control-Max-Age"); got != nil {
		t.Errorf("WithMaxAge(-1): Max-Age %q, want none", got)
	}
}

func TestNewRefusesBadPolicies(t *testing.T) {
	tests := map[string][]cors.Option{
		"no origin":                {},
		"credentials with any":     {cors.WithAllowedOrigins("*"), cors.WithCredentials()},
		"path":                     {cors.WithAllowedOrigins("https://a.test/")},
		"no scheme":                {cors.WithAllowedOrigins("a.test")},
		"two wildcards":            {cors.WithAllowedOrigins("https://*.*.test")},
		"wildcard inside a label":  {cors.WithAllowedOrigins("https://a*.test")},
		"wildcard scheme":          {cors.WithAllowedOrigins("*://a.test")},
		"no method":                {cors.WithAllowedOrigins("https://a.test"), cors.WithAllowedMethods()},
		"bad method":               {cors.WithAllowedOrigins("https://a.test"), cors.WithAllowedMethods("GET POST")},
		"bad header":               {cors.WithAllowedOrigins("https://a.test"), cors.WithAllowedHeaders("x:y")},
		"bad exposed header":       {cors.WithAllowedOrigins("https://a.test"), cors.WithExposedHeaders("")},
		"wildcard port and domain": {cors.WithAllowedOrigins("https://*.a.test:*")},
	}
	for name, opts := range tests {
		if p, err := cors.New(opts...); err == nil {
			t.Errorf("%s: New succeeded: %+v", name, p)
		} else if !strings.HasPrefix(err.Error(), "cors: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}
