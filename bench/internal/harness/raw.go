package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
)

// The raw implementation is the floor: the same exchanges as the bench
// service with no RPC framework and no protobuf. Unary moves the payload's
// bytes as the request and response bodies. Streams carry frames of a
// 4-byte big-endian length and the bytes; a server stream is asked for
// with 8 bytes, the count and the size. It uses the same paths as the
// generated services.
//
// To be a floor, the one-way streams do the least net/http allows: the
// server stream writes its frames into net/http's response buffer and
// flushes once at the end, and the client stream writes through a 32 KiB
// buffer, so frames share writes (and HTTP/2 DATA frames). Bidi has to
// flush every message, or the ping-pong would stall.

const rawFrameHeader = 4

var rawBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := rawBuffers.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		rawBuffers.Put(b)
	}
}

// RawHandler returns the raw implementation's handler; mount it at "/".
func RawHandler() http.Handler {
	mux := http.NewServeMux()
	mountRaw(mux)
	return mux
}

func mountRaw(mux *http.ServeMux) {
	mux.HandleFunc("POST "+benchv1connect.BenchServiceUnaryProcedure, rawUnary)
	mux.HandleFunc("POST "+benchv1connect.BenchServiceServerStreamProcedure, rawServerStream)
	mux.HandleFunc("POST "+benchv1connect.BenchServiceClientStreamProcedure, rawClientStream)
	mux.HandleFunc("POST "+benchv1connect.BenchServiceBidiProcedure, rawBidi)
}

func rawUnary(w http.ResponseWriter, r *http.Request) {
	buf := getBuffer()
	defer putBuffer(buf)
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header()["Content-Type"] = octetStream
	w.Header()["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	_, _ = w.Write(buf.Bytes())
}

var octetStream = []string{"application/octet-stream"}

func rawServerStream(w http.ResponseWriter, r *http.Request) {
	var req [8]byte
	if _, err := io.ReadFull(r.Body, req[:]); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	count := int(binary.BigEndian.Uint32(req[:4]))
	size := int(binary.BigEndian.Uint32(req[4:]))
	frame := make([]byte, rawFrameHeader+size)
	binary.BigEndian.PutUint32(frame, uint32(size))
	w.Header()["Content-Type"] = octetStream
	w.WriteHeader(http.StatusOK)
	for range count {
		if _, err := w.Write(frame); err != nil {
			return
		}
	}
}

func rawClientStream(w http.ResponseWriter, r *http.Request) {
	br := bufio.NewReader(r.Body)
	buf := getBuffer()
	defer putBuffer(buf)
	for {
		_, err := readFrame(br, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header()["Content-Type"] = octetStream
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusOK)
}

func rawBidi(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if err := rc.EnableFullDuplex(); err != nil && r.ProtoMajor < 2 {
		http.Error(w, err.Error(), http.StatusHTTPVersionNotSupported)
		return
	}
	w.Header()["Content-Type"] = octetStream
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	br := bufio.NewReader(r.Body)
	buf := getBuffer()
	defer putBuffer(buf)
	for {
		frame, err := readFrame(br, buf)
		if err != nil {
			return
		}
		if _, err := w.Write(frame); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// readFrame reads one frame into buf and returns it, header included. It
// returns io.EOF at a clean end between frames.
func readFrame(r io.Reader, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	buf.Grow(rawFrameHeader)
	hdr := buf.AvailableBuffer()[:rawFrameHeader]
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err // io.EOF only when nothing was read
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if n > 64<<20 {
		return nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	buf.Grow(rawFrameHeader + n) // may move the buffer: the header is written again below
	frame := buf.AvailableBuffer()[:rawFrameHeader+n]
	binary.BigEndian.PutUint32(frame, uint32(n))
	if _, err := io.ReadFull(r, frame[rawFrameHeader:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return frame, nil
}

// appendFrame appends payload as a frame to dst.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

type rawClient struct {
	hc      HTTPDoer
	baseURL string
}

// HTTPDoer is the part of an HTTP client the raw client needs.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
	CloseIdleConnections()
}

func newRawClient(hc HTTPDoer, baseURL string) *rawClient {
	return &rawClient{hc: hc, baseURL: baseURL}
}

func (c *rawClient) post(ctx context.Context, procedure string, body io.Reader, length int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+procedure, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = length
	req.Header["Content-Type"] = octetStream
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		_ = res.Body.Close()
		return nil, fmt.Errorf("raw %s: HTTP %d: %s", procedure, res.StatusCode, bytes.TrimSpace(msg))
	}
	return res, nil
}

func (c *rawClient) Unary(ctx context.Context, req *benchv1.Payload) error {
	res, err := c.post(ctx, benchv1connect.BenchServiceUnaryProcedure, bytes.NewReader(req.Payload), int64(len(req.Payload)))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	buf := getBuffer()
	defer putBuffer(buf)
	if res.ContentLength > 0 {
		buf.Grow(int(res.ContentLength))
	}
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return err
	}
	if buf.Len() != len(req.Payload) {
		return errSize("unary", buf.Len(), len(req.Payload))
	}
	return nil
}

func (c *rawClient) ServerStream(ctx context.Context, count, size int) error {
	var req [8]byte
	binary.BigEndian.PutUint32(req[:4], uint32(count))
	binary.BigEndian.PutUint32(req[4:], uint32(size))
	res, err := c.post(ctx, benchv1connect.BenchServiceServerStreamProcedure, bytes.NewReader(req[:]), int64(len(req)))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	buf := getBuffer()
	defer putBuffer(buf)
	n := 0
	for {
		frame, err := readFrame(br, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(frame)-rawFrameHeader != size {
			return errSize("server stream", len(frame)-rawFrameHeader, size)
		}
		n++
	}
	if n != count {
		return errCount("server stream", n, count)
	}
	return nil
}

// streamCall starts a streaming request whose body is the returned pipe.
// The response arrives on the channel once its headers have.
func (c *rawClient) streamCall(ctx context.Context, procedure string) (*io.PipeWriter, <-chan rawResult) {
	pr, pw := io.Pipe()
	done := make(chan rawResult, 1)
	go func() {
		res, err := c.post(ctx, procedure, pr, -1)
		if err != nil {
			_ = pr.CloseWithError(err)
		}
		done <- rawResult{res, err}
	}()
	return pw, done
}

type rawResult struct {
	res *http.Response
	err error
}

func (c *rawClient) ClientStream(ctx context.Context, count int, msg *benchv1.Payload) error {
	pw, done := c.streamCall(ctx, benchv1connect.BenchServiceClientStreamProcedure)
	frame := appendFrame(nil, msg.Payload)
	bw := bufio.NewWriterSize(pw, 32<<10)
	var werr error
	for range count {
		if _, werr = bw.Write(frame); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = bw.Flush()
	}
	_ = pw.Close()
	r := <-done
	if r.err != nil {
		return r.err
	}
	_, _ = io.Copy(io.Discard, r.res.Body)
	_ = r.res.Body.Close()
	return werr
}

func (c *rawClient) Bidi(ctx context.Context, count int, msg *benchv1.Payload) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pw, done := c.streamCall(ctx, benchv1connect.BenchServiceBidiProcedure)
	defer pw.Close()
	r := <-done
	if r.err != nil {
		return r.err
	}
	defer r.res.Body.Close()
	frame := appendFrame(nil, msg.Payload)
	br := bufio.NewReader(r.res.Body)
	buf := getBuffer()
	defer putBuffer(buf)
	for range count {
		if _, err := pw.Write(frame); err != nil {
			return err
		}
		echo, err := readFrame(br, buf)
		if err != nil {
			return err
		}
		if len(echo) != len(frame) {
			return errSize("bidi", len(echo)-rawFrameHeader, len(msg.Payload))
		}
	}
	_ = pw.Close()
	if _, err := readFrame(br, buf); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("bidi: unexpected extra frame")
		}
		return err
	}
	return nil
}

func (c *rawClient) Close() { c.hc.CloseIdleConnections() }

// NewRawClient returns the raw implementation's client over hc, for
// benchmarks that supply their own HTTP client.
func NewRawClient(hc HTTPDoer, baseURL string) Client { return newRawClient(hc, baseURL) }
