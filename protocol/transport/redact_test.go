package transport_test

import (
	"net/url"
	"testing"

	"polyconnect.dev/protocol/transport"
)

func TestRedactedURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@example.com:8443/pkg.Svc/Get?connect=v1&message=c2VjcmV0#frag": "https://example.com:8443/pkg.Svc/Get",
		"http://127.0.0.1/a%2Fb/M?message=x":                                            "http://127.0.0.1/a%2Fb/M",
		"/relative/path?message=x":                                                      "/relative/path",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := transport.RedactedURL(u); got != want {
			t.Errorf("RedactedURL(%s) = %s, want %s", in, got, want)
		}
	}
	if got := transport.RedactedURL(nil); got != "" {
		t.Errorf("RedactedURL(nil) = %q", got)
	}
}
