package rpc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConnectRejectsMalformedParameters: a Connect GET whose query does not
// parse (a bad escape such as %ZZ) is INVALID_ARGUMENT, not an empty
// message answered with 200, and Connect-Timeout-Ms accepts digits only:
// "+5000" and " 5000" are INVALID_ARGUMENT, not a 5 s deadline. Both were
// accepted before.
func TestConnectRejectsMalformedParameters(t *testing.T) {
	mux := echoMux()
	for _, tc := range []struct {
		name, method, url, timeout string
	}{
		{"bad escape in a proto message", http.MethodGet, specGet.Procedure + "?connect=v1&encoding=proto&message=%ZZ", ""},
		{"bad escape in message", http.MethodGet, specGet.Procedure + "?connect=v1&encoding=json&message=%ZZ", ""},
		{"bad escape elsewhere", http.MethodGet, specGet.Procedure + "?connect=v1&encoding=json&message=%22x%22&x=%G0", ""},
		{"signed timeout", http.MethodPost, specUnary.Procedure, "+5000"},
		{"spaced timeout", http.MethodPost, specUnary.Procedure, " 5000"},
		{"11 digits", http.MethodPost, specUnary.Procedure, "10000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://test"+tc.url, strings.NewReader(`"x"`))
			if tc.method == http.MethodPost {
				req.Header.Set("Content-Type", "application/json")
				req.Header["Connect-Timeout-Ms"] = []string{tc.timeout}
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			var body struct{ Code string }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != http.StatusBadRequest || body.Code != "invalid_argument" {
				t.Fatalf("status %d, body %s; want 400 invalid_argument", w.Code, w.Body.Bytes())
			}
		})
	}
}
