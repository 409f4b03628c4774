package realip_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/realip"
	"polyconnect.dev/protocol/rpc"
)

var spec = rpc.Spec{Procedure: "/realip.v1.Test/Who"}

// who serves a handler with the interceptor and returns the client
// address it found for a request from peer with the given headers ("" if
// none).
func who(t *testing.T, ic rpc.HandlerInterceptor, peer string, header http.Header) string {
	t.Helper()
	h := rpc.NewUnaryHandler(spec, func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		ip, ok := realip.FromContext(ctx)
		if !ok {
			return wrapperspb.String(""), nil
		}
		return wrapperspb.String(ip.String()), nil
	}, rpc.WithHandlerInterceptors(ic))
	body, _ := proto.Marshal(wrapperspb.String("x"))
	req := httptest.NewRequest(http.MethodPost, spec.Procedure, strings.NewReader(string(body)))
	req.RemoteAddr = peer
	if header != nil {
		req.Header = header.Clone()
	}
	req.Header.Set("Content-Type", "application/proto")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	var res wrapperspb.StringValue
	if err := proto.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	return res.Value
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestClientAddress(t *testing.T) {
	trusted := realip.New(realip.WithTrustedProxies(
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	))
	cases := []struct {
		name   string
		ic     rpc.HandlerInterceptor
		peer   string
		header http.Header
		want   string
	}{
		{"no trusted proxies: the peer, headers ignored", realip.New(), "203.0.113.9:4000",
			hdr("X-Forwarded-For", "198.51.100.1", "X-Real-Ip", "198.51.100.2"), "203.0.113.9"},
		{"untrusted peer: headers ignored", trusted, "203.0.113.9:4000",
			hdr("X-Forwarded-For", "198.51.100.1"), "203.0.113.9"},
		{"trusted peer without headers", trusted, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"X-Forwarded-For through two trusted proxies", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "198.51.100.1, 10.9.9.9"), "198.51.100.1"},
		{"X-Forwarded-For with a spoofed start: the rightmost untrusted hop", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "1.1.1.1, 198.51.100.1, 10.9.9.9"), "198.51.100.1"},
		{"X-Forwarded-For over several lines", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "198.51.100.1,10.9.9.9"), "198.51.100.1"},
		{"X-Forwarded-For all trusted: the first hop", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "10.7.7.7, 10.9.9.9"), "10.7.7.7"},
		{"X-Forwarded-For with ports and IPv6", trusted, "[fd00::1]:4000",
			hdr("X-Forwarded-For", "[2001:db8::7]:1234, 10.9.9.9:80"), "2001:db8::7"},
		{"X-Forwarded-For garbage: the peer", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "198.51.100.1, not-an-ip"), "10.1.2.3"},
		{"Forwarded", trusted, "10.1.2.3:4000",
			hdr("Forwarded", `for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`), "2001:db8:cafe::17"},
		{"Forwarded quoted, case of the key", trusted, "10.1.2.3:4000",
			hdr("Forwarded", `For="192.0.2.60:80", for=10.3.3.3`), "192.0.2.60"},
		{"Forwarded obfuscated: the next header", trusted, "10.1.2.3:4000",
			hdr("Forwarded", "for=_hidden, for=10.3.3.3", "X-Forwarded-For", "198.51.100.1"), "198.51.100.1"},
		{"Forwarded unknown, nothing else: the peer", trusted, "10.1.2.3:4000",
			hdr("Forwarded", "for=unknown"), "10.1.2.3"},
		{"Forwarded preferred to X-Forwarded-For", trusted, "10.1.2.3:4000",
			hdr("X-Forwarded-For", "198.51.100.1", "Forwarded", "for=192.0.2.60"), "192.0.2.60"},
		{"X-Real-IP", trusted, "10.1.2.3:4000", hdr("X-Real-IP", "198.51.100.5"), "198.51.100.5"},
		{"WithHeaders: X-Real-IP only", realip.New(realip.WithTrustedProxies(netip.MustParsePrefix("10.0.0.0/8")), realip.WithHeaders("x-real-ip")),
			"10.1.2.3:4000", hdr("X-Forwarded-For", "198.51.100.1", "X-Real-IP", "198.51.100.5"), "198.51.100.5"},
		{"IPv4-mapped peer matches an IPv4 prefix", trusted, "[::ffff:10.1.2.3]:4000",
			hdr("X-Forwarded-For", "198.51.100.1"), "198.51.100.1"},
		{"peer that is no IP address", trusted, "client.rpctest.invalid:1", hdr("X-Forwarded-For", "198.51.100.1"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := who(t, tc.ic, tc.peer, tc.header); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
}
