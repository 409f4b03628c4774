package nethttp

import "net/http"

// originForm wraps a server's handler so that only requests whose path
// starts with a slash reach it. net/http also passes on request targets
// such as "greet.v1.GreetService:1/Greet" (a URL with a scheme and an
// opaque part, and an empty Path) and "*" for any method, which no
// procedure answers to; a router or a guard that looked at the raw target
// rather than URL.Path could be misled by them (CVE-2026-33186 let paths
// without a leading slash past grpc-go's path-based authorization). They
// get 400 here, as transport-h2 and HTTP/3 refuse them too. Absolute-form
// targets ("http://host/path", which HTTP/1.1 servers must accept) keep
// their path and pass.
func originForm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || p[0] != '/' {
			w.Header().Set("Connection", "close")
			http.Error(w, "the request target is not an absolute path", http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}
