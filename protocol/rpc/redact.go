package rpc

import (
	"errors"
	"net/url"

	"polyconnect.dev/protocol/transport"
)

// A Connect GET request carries its message in the URL's query
// (message=...), and net/http's client puts the whole URL into the text of
// every error it returns (*url.Error: `Get "https://host/path?...": ...`).
// That text reaches error messages, span status descriptions and log
// records, so the request would leak into all of them. redactURLs removes
// the query (and any user information) from every *url.Error in err's
// chain before the error is used. It changes those errors in place: they
// belong to the failed request, and nothing else holds them.
func redactURLs(err error) {
	for err != nil {
		if ue, ok := err.(*url.Error); ok {
			ue.URL = redactedURL(ue.URL)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				redactURLs(inner)
			}
			return
		default:
			return
		}
	}
}

// redactedURL returns s without its query, fragment and user
// information (see transport.RedactedURL).
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return transport.RedactedURL(u)
}

// withoutContextCause reports whether err, a transport's error for a call
// whose context has ended with ctxErr, is that context error (perhaps
// wrapped, as net/http wraps it in a *url.Error), so that the call's error
// need not repeat it: "context deadline exceeded: Post ...: context
// deadline exceeded" says nothing more than its first part.
func withoutContextCause(err, ctxErr error) bool {
	return errors.Is(err, ctxErr)
}
