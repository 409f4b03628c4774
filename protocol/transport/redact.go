package transport

import "net/url"

// RedactedURL returns u as text for an error message or a log: scheme,
// host and path, without user information, query or fragment. A Connect
// GET request carries its message in the query, so an error that quoted
// the whole URL would carry the request with it; transports quote URLs
// through RedactedURL only.
func RedactedURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, Opaque: u.Opaque}
	return r.String()
}
