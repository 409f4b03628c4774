package rpc_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"polyconnect.dev/protocol/rpc"
)

// rawCall sends a hand-made request and returns status, headers and body.
func rawCall(t *testing.T, hc *http.Client, method, url string, header map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

func envelope(flags byte, size uint32, payload []byte) []byte {
	b := make([]byte, 5, 5+len(payload))
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], size)
	return append(b, payload...)
}

// endStreamCode extracts the error code from a Connect streaming response.
func endStreamCode(t *testing.T, body []byte) string {
	t.Helper()
	for len(body) >= 5 {
		flags := body[0]
		n := binary.BigEndian.Uint32(body[1:5])
		if int(n) > len(body)-5 {
			t.Fatalf("truncated response envelope")
		}
		payload := body[5 : 5+n]
		body = body[5+n:]
		if flags&0x02 != 0 {
			var end struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(payload, &end); err != nil {
				t.Fatalf("end of stream: %v", err)
			}
			if end.Error == nil {
				return ""
			}
			return end.Error.Code
		}
	}
	t.Fatalf("no end-of-stream message")
	return ""
}

func unaryCode(t *testing.T, body []byte) (string, string) {
	t.Helper()
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Code, e.Message
}

func TestBadInputUnary(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(1024)))
	for name, hc := range map[string]*http.Client{"http1": srv.Client(), "h2c": h2} {
		t.Run(name, func(t *testing.T) {
			url := srv.URL + specUnary.Procedure
			proto := map[string]string{"Content-Type": "application/proto"}
			cases := []struct {
				name     string
				method   string
				header   map[string]string
				body     []byte
				status   int
				code     string
				contains string
			}{
				{"invalid proto", "POST", proto, []byte{0xff, 0xff, 0xff}, 400, "invalid_argument", "unmarshal"},
				{"invalid json", "POST", map[string]string{"Content-Type": "application/json"}, []byte(`{"value":`), 400, "invalid_argument", "unmarshal"},
				{"empty json", "POST", map[string]string{"Content-Type": "application/json"}, nil, 400, "invalid_argument", ""},
				{"too large", "POST", proto, bytes.Repeat([]byte{0}, 2048), 429, "resource_exhausted", "limit"},
				{"unknown compression", "POST", map[string]string{"Content-Type": "application/proto", "Content-Encoding": "lz77"}, nil, 501, "unimplemented", "gzip"},
				{"garbage gzip", "POST", map[string]string{"Content-Type": "application/proto", "Content-Encoding": "gzip"}, []byte("not gzip"), 400, "invalid_argument", "decompress"},
				{"malformed timeout", "POST", map[string]string{"Content-Type": "application/proto", "Connect-Timeout-Ms": "soon"}, nil, 400, "invalid_argument", "Connect-Timeout-Ms"},
				{"timeout too long", "POST", map[string]string{"Content-Type": "application/proto", "Connect-Timeout-Ms": "12345678901"}, nil, 400, "invalid_argument", "Connect-Timeout-Ms"},
				{"negative timeout", "POST", map[string]string{"Content-Type": "application/proto", "Connect-Timeout-Ms": "-5"}, nil, 400, "invalid_argument", "Connect-Timeout-Ms"},
				{"bad protocol version", "POST", map[string]string{"Content-Type": "application/proto", "Connect-Protocol-Version": "2"}, nil, 400, "invalid_argument", "Connect-Protocol-Version"},
			}
			for _, c := range cases {
				status, _, body := rawCall(t, hc, c.method, url, c.header, c.body)
				if status != c.status {
					t.Errorf("%s: status %d, want %d (body %s)", c.name, status, c.status, body)
					continue
				}
				code, msg := unaryCode(t, body)
				if code != c.code || !strings.Contains(msg, c.contains) {
					t.Errorf("%s: got %s %q, want %s containing %q", c.name, code, msg, c.code, c.contains)
				}
			}
			// Protocol-level rejections carry no RPC body.
			if status, _, _ := rawCall(t, hc, "PUT", url, proto, nil); status != http.StatusMethodNotAllowed {
				t.Errorf("PUT: status %d", status)
			}
			if status, h, _ := rawCall(t, hc, "POST", url, map[string]string{"Content-Type": "text/plain"}, nil); status != http.StatusUnsupportedMediaType || h.Get("Accept-Post") == "" {
				t.Errorf("text/plain: status %d, Accept-Post %q", status, h.Get("Accept-Post"))
			}
			if status, _, _ := rawCall(t, hc, "GET", url+"?encoding=proto&message=", nil, nil); status != http.StatusMethodNotAllowed {
				t.Errorf("GET on a method with side effects: status %d", status)
			}
			if status, _, _ := rawCall(t, hc, "POST", srv.URL+"/test.v1.Echo/Nope", proto, nil); status != http.StatusNotFound {
				t.Errorf("unknown procedure: status %d", status)
			}
			getURL := srv.URL + specGet.Procedure
			if status, _, body := rawCall(t, hc, "GET", getURL+"?encoding=yaml&message=x", nil, nil); status != 400 {
				t.Errorf("GET unknown encoding: %d %s", status, body)
			}
			if status, _, body := rawCall(t, hc, "GET", getURL+"?encoding=proto&base64=1&message=!!!", nil, nil); status != 400 {
				t.Errorf("GET bad base64: %d %s", status, body)
			}
		})
	}
}

func TestBadInputStream(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(1024)))
	unlimited, _ := newH2CServer(t, echoMux(rpc.WithReadMaxBytes(-1)))
	for name, hc := range map[string]*http.Client{"http1": srv.Client(), "h2c": h2} {
		t.Run(name, func(t *testing.T) {
			ct := map[string]string{"Content-Type": "application/connect+proto"}
			cases := []struct {
				name string
				url  string
				hdr  map[string]string
				body []byte
				code string
			}{
				{"truncated prefix", srv.URL, ct, []byte{0, 0, 0}, "invalid_argument"},
				{"truncated payload", srv.URL, ct, envelope(0, 10, []byte{1, 2}), "invalid_argument"},
				{"oversize envelope", srv.URL, ct, envelope(0, 4096, nil), "resource_exhausted"},
				{"claims 4 GiB, limit", srv.URL, ct, envelope(0, 0xFFFFFFFF, []byte("tiny")), "resource_exhausted"},
				{"claims 4 GiB, no limit", unlimited.URL, ct, envelope(0, 0xFFFFFFFF, []byte("tiny")), "invalid_argument"},
				{"invalid proto", srv.URL, ct, envelope(0, 3, []byte{0xff, 0xff, 0xff}), "invalid_argument"},
				{"compressed without encoding", srv.URL, ct, envelope(1, 3, []byte{1, 2, 3}), "internal"},
				{"client end-stream flag", srv.URL, ct, envelope(2, 2, []byte("{}")), "invalid_argument"},
				{"unknown compression", srv.URL, map[string]string{"Content-Type": "application/connect+proto", "Connect-Content-Encoding": "lz77"}, nil, "unimplemented"},
			}
			for _, c := range cases {
				status, _, body := rawCall(t, hc, "POST", c.url+specClient.Procedure, c.hdr, c.body)
				if status != http.StatusOK {
					t.Errorf("%s: status %d", c.name, status)
					continue
				}
				if code := endStreamCode(t, body); code != c.code {
					t.Errorf("%s: code %q, want %q", c.name, code, c.code)
				}
			}
			// A unary content type on a streaming method is not this procedure's protocol.
			if status, _, _ := rawCall(t, hc, "POST", srv.URL+specClient.Procedure, map[string]string{"Content-Type": "application/proto"}, nil); status != http.StatusUnsupportedMediaType {
				t.Errorf("unary content type on stream: %d", status)
			}
		})
	}
}
