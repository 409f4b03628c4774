package cors

import (
	"net/http"
	"strings"
)

// Header names of the CORS protocol (the Fetch standard).
const (
	headerOrigin           = "Origin"
	headerVary             = "Vary"
	headerRequestMethod    = "Access-Control-Request-Method"
	headerRequestHeaders   = "Access-Control-Request-Headers"
	headerAllowOrigin      = "Access-Control-Allow-Origin"
	headerAllowMethods     = "Access-Control-Allow-Methods"
	headerAllowHeaders     = "Access-Control-Allow-Headers"
	headerAllowCredentials = "Access-Control-Allow-Credentials"
	headerExposeHeaders    = "Access-Control-Expose-Headers"
	headerMaxAge           = "Access-Control-Max-Age"
)

// trailerPrefix starts the names of the headers that carry Connect unary
// trailers.
const trailerPrefix = "Trailer-"

// Handler wraps next with the policy. Preflight requests are answered
// here; other requests go to next, with CORS headers added when their
// origin is allowed. Requests without an Origin header (every non-browser
// client) go to next untouched, apart from "Vary: Origin".
func (p *Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get(headerOrigin)
		if r.Method == http.MethodOptions && r.Header.Get(headerRequestMethod) != "" {
			p.preflight(w, r, origin)
			return
		}
		h := w.Header()
		// The response differs by origin: caches must not serve one
		// origin's answer to another.
		h.Add(headerVary, headerOrigin)
		if origin == "" || !p.origins.allows(origin) {
			next.ServeHTTP(w, r)
			return
		}
		p.allowOrigin(h, origin)
		h.Set(headerExposeHeaders, p.exposedText)
		next.ServeHTTP(&exposingWriter{ResponseWriter: w}, r)
	})
}

// preflight answers an OPTIONS request that asks whether a call may be
// sent: 204 with the allowed methods and headers, or 403 if the origin,
// the method or a header is not allowed.
func (p *Policy) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	h := w.Header()
	h.Add(headerVary, headerOrigin)
	h.Add(headerVary, headerRequestMethod)
	h.Add(headerVary, headerRequestHeaders)
	if !p.origins.allows(origin) || !p.allowsMethod(r.Header.Get(headerRequestMethod)) || !p.allowsHeaders(r.Header.Values(headerRequestHeaders)) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	p.allowOrigin(h, origin)
	h.Set(headerAllowMethods, p.methodsText)
	h.Set(headerAllowHeaders, p.headersText)
	if p.maxAge != "" {
		h.Set(headerMaxAge, p.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowOrigin sets the headers that let origin read the response.
func (p *Policy) allowOrigin(h http.Header, origin string) {
	if p.origins.any && !p.credentials {
		h.Set(headerAllowOrigin, "*")
	} else {
		h.Set(headerAllowOrigin, origin)
	}
	if p.credentials {
		h.Set(headerAllowCredentials, "true")
	}
}

func (p *Policy) allowsMethod(method string) bool {
	for _, m := range p.methods {
		if m == method {
			return true
		}
	}
	return false
}

// allowsHeaders checks the comma-separated lists of a preflight's
// Access-Control-Request-Headers against the allowed headers.
func (p *Policy) allowsHeaders(lists []string) bool {
	for _, list := range lists {
		for name := range strings.SplitSeq(list, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" && !p.headers[name] {
				return false
			}
		}
	}
	return true
}

// exposingWriter adds the Trailer- headers of a Connect unary response to
// Access-Control-Expose-Headers when the headers are written: their names
// are known only then.
type exposingWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *exposingWriter) expose() {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	h := w.ResponseWriter.Header()
	var b strings.Builder
	for name := range h {
		if len(name) > len(trailerPrefix) && strings.HasPrefix(name, trailerPrefix) {
			b.WriteString(", ")
			b.WriteString(name)
		}
	}
	if b.Len() > 0 {
		h.Set(headerExposeHeaders, h.Get(headerExposeHeaders)+b.String())
	}
}

func (w *exposingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.expose() // informational responses leave the final headers open
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *exposingWriter) Write(b []byte) (int, error) {
	w.expose()
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client, as http.Flusher does, when the
// wrapped writer can.
func (w *exposingWriter) Flush() {
	w.expose()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *exposingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
