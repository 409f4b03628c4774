package auth

import (
	"context"
	"net/http"
)

type tlsKey struct{}

// TLSMiddleware makes the TLS state of each request's connection available
// to the AuthFunc (Request.TLS, Request.ClientCertificate). Package rpc's
// call info does not carry it, so wrap the handlers that check client
// certificates:
//
//	srv.Handler = auth.TLSMiddleware(mux)
//
// Requests without TLS pass unchanged.
func TLSMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			r = r.WithContext(context.WithValue(r.Context(), tlsKey{}, r.TLS))
		}
		next.ServeHTTP(w, r)
	})
}
