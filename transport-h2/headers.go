package h2

import (
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is a header block being read: a HEADERS frame and its
// CONTINUATION frames, decoded as they arrive. The reader goroutine owns it.
type headerBlock struct {
	streamID   uint32
	endStream  bool
	selfDep    bool // the HEADERS frame's priority names the stream itself
	fields     []hpack.HeaderField
	size       uint32 // decoded size so far, as SETTINGS_MAX_HEADER_LIST_SIZE counts
	tooLarge   bool   // the decoded list passed the limit; fields is empty
	compressed int    // encoded bytes so far
}

// maxCompressedBlock bounds the encoded size of a header block. A block
// within the decoded limit fits easily; anything larger is a flood.
func (c *conn) maxCompressedBlock() int {
	return 2*int(c.limits.maxHeaderList) + 64<<10
}

// emitField is the HPACK decoder's callback: it keeps fields while the list
// stays within the limit, and only counts them after.
func (c *conn) emitField(f hpack.HeaderField) {
	hb := &c.hb
	if hb.tooLarge {
		return
	}
	hb.size += f.Size()
	if hb.size > c.limits.maxHeaderList {
		hb.tooLarge = true
		clear(hb.fields)
		hb.fields = hb.fields[:0]
		return
	}
	hb.fields = append(hb.fields, f)
}

// readHeadersFrame reads the payload of the HEADERS frame whose header
// the Framer has read (and checked for order and size) and handles it. It
// parses the frame itself, into a buffer it reuses, where the Framer would
// allocate a frame value each time: one HEADERS frame opens every request
// and response.
func (c *conn) readHeadersFrame(fh http2.FrameHeader) error {
	if cap(c.hdrPayload) < int(fh.Length) {
		c.hdrPayload = make([]byte, fh.Length)
	}
	p := c.hdrPayload[:fh.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return err
	}
	if fh.StreamID == 0 {
		return connError{code: http2.ErrCodeProtocol, reason: "HEADERS frame with stream ID 0"}
	}
	pad := 0
	if fh.Flags.Has(http2.FlagHeadersPadded) {
		if len(p) < 1 {
			return connError{code: http2.ErrCodeProtocol, reason: "HEADERS frame too short for its padding"}
		}
		pad = int(p[0])
		p = p[1:]
	}
	selfDep := false
	if fh.Flags.Has(http2.FlagHeadersPriority) {
		if len(p) < 5 {
			return connError{code: http2.ErrCodeProtocol, reason: "HEADERS frame too short for its priority"}
		}
		selfDep = binary.BigEndian.Uint32(p)&(1<<31-1) == fh.StreamID
		p = p[5:]
	}
	if pad > len(p) {
		// The block cannot be decoded, so the HPACK state is lost for the
		// whole connection (RFC 9113 6.2 makes it a connection error).
		return connError{code: http2.ErrCodeProtocol, reason: "HEADERS frame with invalid padding"}
	}
	frag := p[:len(p)-pad]
	ended := fh.Flags.Has(http2.FlagHeadersEndHeaders)
	hb := &c.hb
	clear(hb.fields)
	*hb = headerBlock{
		streamID:  fh.StreamID,
		endStream: fh.Flags.Has(http2.FlagHeadersEndStream),
		selfDep:   selfDep,
		fields:    hb.fields[:0],
	}
	if len(frag) == 0 && !ended {
		if err := c.junk("empty header fragment"); err != nil {
			return err
		}
	}
	return c.headerFragment(frag, ended)
}

func (c *conn) handleContinuation(f *http2.ContinuationFrame) error {
	// The Framer has checked that it follows a HEADERS or CONTINUATION
	// frame of the same stream without END_HEADERS.
	frag := f.HeaderBlockFragment()
	if len(frag) == 0 && !f.HeadersEnded() {
		if err := c.junk("empty CONTINUATION"); err != nil {
			return err
		}
	}
	return c.headerFragment(frag, f.HeadersEnded())
}

// headerFragment decodes one fragment of the block; at the end of the
// block it hands the block to the role.
func (c *conn) headerFragment(frag []byte, end bool) error {
	hb := &c.hb
	hb.compressed += len(frag)
	if hb.compressed > c.maxCompressedBlock() {
		return connError{code: http2.ErrCodeEnhanceYourCalm, reason: "header block too large"}
	}
	if _, err := c.dec.Write(frag); err != nil {
		return connError{code: http2.ErrCodeCompression, reason: "invalid header block: " + err.Error()}
	}
	if !end {
		if c.blockStart.Load() == 0 {
			c.blockStart.Store(time.Now().UnixNano())
		}
		return nil
	}
	c.blockStart.Store(0)
	if err := c.dec.Close(); err != nil {
		return connError{code: http2.ErrCodeCompression, reason: "invalid header block: " + err.Error()}
	}
	if hb.selfDep {
		return streamError{id: hb.streamID, code: http2.ErrCodeProtocol, reason: "stream depends on itself"}
	}
	return c.role.onHeaders(hb)
}

// checkRegularField reports whether a decoded regular (non-pseudo) field is
// allowed in HTTP/2: a lower-case token name that is not a connection
// header, a value without NUL, CR or LF, and "te" only as "trailers".
func checkRegularField(f hpack.HeaderField) bool {
	if !validLowerName(f.Name) || !httpguts.ValidHeaderFieldValue(f.Value) {
		return false
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return false
	case "te":
		return f.Value == "trailers"
	}
	return true
}

// validLowerName reports whether name is a non-empty token without
// upper-case letters.
func validLowerName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b >= 'A' && b <= 'Z' || !httpguts.IsTokenRune(rune(b)) {
			return false
		}
	}
	return true
}

// isConnectionHeader reports whether a canonical header name is one that
// HTTP/2 forbids.
func isConnectionHeader(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// maxNameCache bounds the per-connection header name caches.
const maxNameCache = 512

// canonicalName returns the http.Header form of a lower-case field name.
// The reader goroutine owns the cache.
func (c *conn) canonicalName(lower string) string {
	if v, ok := commonCanonical[lower]; ok {
		return v
	}
	if v, ok := c.canonCache[lower]; ok {
		return v
	}
	v := http.CanonicalHeaderKey(lower)
	if len(c.canonCache) < maxNameCache {
		if c.canonCache == nil {
			c.canonCache = make(map[string]string)
		}
		c.canonCache[lower] = v
	}
	return v
}

// buildHeader makes an http.Header of the regular fields, which the caller
// has validated. Values share one backing array; cookies are joined.
func (c *conn) buildHeader(fields []hpack.HeaderField) http.Header {
	h := make(http.Header, len(fields))
	vals := make([]string, len(fields))
	i := 0
	var cookies []string
	for _, f := range fields {
		if f.Name == "cookie" {
			cookies = append(cookies, f.Value)
			continue
		}
		k := c.canonicalName(f.Name)
		if vs, ok := h[k]; ok {
			h[k] = append(vs, f.Value)
			continue
		}
		vals[i] = f.Value
		h[k] = vals[i : i+1 : i+1]
		i++
	}
	if len(cookies) > 0 {
		h["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	return h
}

var fieldLists = sync.Pool{New: func() any { return &fieldList{fields: make([]hpack.HeaderField, 0, 16)} }}

func getFieldList() *fieldList { return fieldLists.Get().(*fieldList) }

func putFieldList(fl *fieldList) {
	if fl == nil || cap(fl.fields) > 256 {
		return
	}
	clear(fl.fields)
	fl.fields = fl.fields[:0]
	fieldLists.Put(fl)
}

// appendHeader adds the fields of h that may go out in an HTTP/2 header
// block: valid names and values, no connection headers, and none of the
// names skip rejects. Sensitive credentials are never indexed.
func appendHeader(fl *fieldList, h http.Header, skip func(name string) bool) {
	for k, vs := range h {
		if isConnectionHeader(k) || !httpguts.ValidHeaderFieldName(k) || skip != nil && skip(k) {
			continue
		}
		sensitive := k == "Authorization" || k == "Proxy-Authorization" || k == "Cookie" || k == "Set-Cookie"
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue
			}
			if k == "Te" && v != "trailers" {
				continue
			}
			if sensitive {
				fl.addSensitive(k, v)
			} else {
				fl.add(k, v)
			}
		}
	}
}

// isLowerASCII reports whether s has no upper-case ASCII letters.
func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= 'A' && b <= 'Z' {
			return false
		}
	}
	return true
}

// lowerASCII returns s with ASCII letters in lower case.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// commonCanonical and commonLower map the header names RPC traffic uses
// most between their two forms without allocating.
var commonCanonical, commonLower = func() (map[string]string, map[string]string) {
	names := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Accept-Post", "Authorization", "Cache-Control",
		"Connect-Accept-Encoding", "Connect-Content-Encoding", "Connect-Protocol-Version", "Connect-Timeout-Ms",
		"Content-Encoding", "Content-Length", "Content-Type", "Cookie", "Date", "Etag", "Expect", "Grpc-Accept-Encoding",
		"Grpc-Encoding", "Grpc-Message", "Grpc-Status", "Grpc-Status-Details-Bin", "Grpc-Timeout", "Host",
		"If-Match", "If-Modified-Since", "If-None-Match", "Last-Modified", "Location", "Origin", "Referer",
		"Server", "Set-Cookie", "Te", "Trailer", "User-Agent", "Vary", "Via", "X-Content-Type-Options",
		"X-Forwarded-For", "X-Grpc-Web", "X-User-Agent",
	}
	canon := make(map[string]string, len(names))
	lower := make(map[string]string, len(names))
	for _, n := range names {
		l := strings.ToLower(n)
		canon[l] = n
		lower[n] = l
	}
	return canon, lower
}()
