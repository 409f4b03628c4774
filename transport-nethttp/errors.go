package nethttp

import (
	"io"
	"net/http"

	"polyconnect.dev/protocol/transport"
)

// This file puts net/http's errors into package transport's words where
// they leave this package: Client.Do and reads of a response body on the
// client side, reads of a request body on the server side. The
// translation itself is transport.NetHTTPClientError and
// NetHTTPServerError; a server that talked another protocol is explained
// by diagnose.go and reported as a *transport.DialError.

// typedResponseBody translates the read errors of a response body.
type typedResponseBody struct {
	io.ReadCloser
}

func (b typedResponseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = transport.NetHTTPClientError(err)
	}
	return n, err
}

// typedRequestBody translates the read errors of a request body.
type typedRequestBody struct {
	io.ReadCloser
}

func (b *typedRequestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = transport.NetHTTPServerError(err)
	}
	return n, err
}

// typedBodies makes the request bodies h reads fail in package
// transport's words.
func typedBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &typedRequestBody{r.Body}
		}
		h.ServeHTTP(w, r)
	})
}
