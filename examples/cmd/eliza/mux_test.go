package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnknownService checks that a call to a service Eliza does not serve
// gets a Connect error naming the path, not net/http's text/plain 404.
func TestUnknownService(t *testing.T) {
	srv := httptest.NewServer(newHandler(nil))
	defer srv.Close()
	const path = "/connectrpc.eliza.v1.ElizaServic/Say" // a typo in the service
	res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var e struct{ Code, Message string }
	if err := json.Unmarshal(body, &e); err != nil || res.StatusCode != http.StatusNotFound ||
		e.Code != "unimplemented" || !strings.Contains(e.Message, path) {
		t.Errorf("HTTP %d %s: %s (%v), want 404 with code unimplemented naming %s", res.StatusCode, res.Header.Get("Content-Type"), body, err, path)
	}
}
