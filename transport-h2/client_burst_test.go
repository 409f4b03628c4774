package h2

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"polyconnect.dev/protocol/transport"
)

// A complete response that arrives in the same read as the end of its
// stream or connection (RST_STREAM NO_ERROR to stop the request body, or the
// socket closing) is the response: the client must not fail the call with
// the reset or the lost connection. The request body is still open in both
// cases, as in a bidi call whose handler returned early.
func TestCompleteResponseBeforeResetOrClose(t *testing.T) {
	for _, end := range []string{"rst-no-error", "close"} {
		t.Run(end, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			served := make(chan error, 1)
			go func() { served <- serveOneBurst(ln, end) }()

			c := newClient(t, transport.Config{Name: NameH2C})
			pr, pw := io.Pipe()
			defer pw.Close()
			req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", pr)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || string(body) != "complete" {
				t.Fatalf("body %q, %v", body, err)
			}
			if err := <-served; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// serveOneBurst accepts one connection, waits for a request's HEADERS and
// writes, in a single write, the response headers, its whole body and then
// either RST_STREAM(NO_ERROR) or nothing before closing the socket.
func serveOneBurst(ln net.Listener, end string) error {
	nc, err := ln.Accept()
	if err != nil {
		return err
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(br, preface); err != nil {
		return err
	}
	fr := http2.NewFramer(nc, br)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	var id uint32
	for id == 0 {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		if h, ok := f.(*http2.HeadersFrame); ok {
			id = h.StreamID
		}
	}
	var burst, block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	out := http2.NewFramer(&burst, nil)
	_ = out.WriteSettingsAck()
	_ = out.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true})
	_ = out.WriteData(id, true, []byte("complete"))
	if end == "rst-no-error" {
		_ = out.WriteRSTStream(id, http2.ErrCodeNo)
	}
	_, err = nc.Write(burst.Bytes())
	return err
}
