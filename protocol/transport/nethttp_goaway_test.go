package transport_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"polyconnect.dev/protocol/transport"
)

// h2Frame writes one HTTP/2 frame (RFC 9113, section 4.1) to w.
func h2Frame(t *testing.T, w io.Writer, typ, flags byte, stream uint32, payload []byte) {
	t.Helper()
	hdr := make([]byte, 9, 9+len(payload))
	hdr[0], hdr[1], hdr[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	hdr[3], hdr[4] = typ, flags
	binary.BigEndian.PutUint32(hdr[5:], stream)
	if _, err := w.Write(append(hdr, payload...)); err != nil {
		t.Error(err)
	}
}

// goAwayServer accepts one h2c connection, answers its first request with
// headers only, then sends GOAWAY with that stream as the last one and
// closes the connection: the call was processed, and its connection is
// gone while its response is still open.
func goAwayServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
		if _, err := io.ReadFull(c, preface); err != nil {
			t.Error(err)
			return
		}
		h2Frame(t, c, 0x4, 0, 0, nil) // SETTINGS, empty
		for {
			hdr := make([]byte, 9)
			if _, err := io.ReadFull(c, hdr); err != nil {
				t.Error(err)
				return
			}
			n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
			if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
				t.Error(err)
				return
			}
			switch typ, flags, stream := hdr[3], hdr[4], binary.BigEndian.Uint32(hdr[5:])&(1<<31-1); {
			case typ == 0x4 && flags&0x1 == 0: // the client's SETTINGS
				h2Frame(t, c, 0x4, 0x1, 0, nil) // SETTINGS ACK
			case typ == 0x1: // the request's HEADERS
				h2Frame(t, c, 0x1, 0x4, stream, []byte{0x88}) // :status 200 (HPACK static index 8), END_HEADERS
				goAway := make([]byte, 8)
				binary.BigEndian.PutUint32(goAway, stream) // last stream: this one; NO_ERROR
				h2Frame(t, c, 0x7, 0, 0, goAway)
				return // close the connection under the open response
			}
		}
	}()
	return ln.Addr().String()
}

// TestNetHTTPClientGoAwayThenClose: a response body cut because the
// server sent GOAWAY (naming the call's stream as processed) and then
// closed the connection is a lost connection, whose Err is the GOAWAY.
func TestNetHTTPClientGoAwayThenClose(t *testing.T) {
	resp, err := h2cClient(t, nil).Get("http://" + goAwayServer(t) + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	if err == nil {
		t.Fatal("the body ended without an error")
	}
	got := transport.NetHTTPClientError(err)
	var goAway *transport.GoAwayError
	if !errors.Is(got, transport.ErrConnectionLost) || !errors.As(got, &goAway) || goAway.Code != 0 || goAway.HTTP3 {
		t.Fatalf("%v (%T) from %v (%T): want a lost connection wrapping a GOAWAY with NO_ERROR", got, got, err, err)
	}
}
