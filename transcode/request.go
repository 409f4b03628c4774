package transcode

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
)

// decodeRequest fills msg from the REST request: the body first, then the
// path variables (which win over the body), then the query parameters. buf
// is a pooled buffer for the body; msg may keep no reference to it.
func (h *Handler) decodeRequest(r *http.Request, rt *route, vals []string, msg protoreflect.Message, buf *[]byte) *status {
	if rt.hasBody {
		body, st := h.readBody(r, buf)
		if st != nil {
			return st
		}
		if st := h.decodeBody(rt, msg, body, r.Header.Get("Content-Type")); st != nil {
			return st
		}
	}
	for i, raw := range vals {
		v := rt.tmpl.vars[i]
		val, err := unescape(raw, v.multi(rt.tmpl))
		if err != nil {
			return newStatus(rpc.CodeInvalidArgument, "path variable "+strconv.Quote(v.fieldPath)+": "+err.Error())
		}
		if err := setFromString(msg, rt.vars[i], val, true); err != nil {
			return newStatus(rpc.CodeInvalidArgument, "path variable "+strconv.Quote(v.fieldPath)+": "+err.Error())
		}
	}
	if rt.query != nil && r.URL.RawQuery != "" {
		if err := rt.query.decode(msg, r.URL.RawQuery); err != nil {
			return newStatus(rpc.CodeInvalidArgument, err.Error())
		}
	}
	return nil
}

// decodeBody fills msg (or its body field) from the request body.
func (h *Handler) decodeBody(rt *route, msg protoreflect.Message, body []byte, contentType string) *status {
	if rt.rawBodyIn {
		target := msg
		if rt.body != nil {
			target = msg.Mutable(rt.body).Message()
		}
		fields := target.Descriptor().Fields()
		target.Set(fields.ByName("content_type"), protoreflect.ValueOfString(contentType))
		// The body is the pooled buffer: the message gets its own copy.
		target.Set(fields.ByName("data"), protoreflect.ValueOfBytes(bytes.Clone(body)))
		return nil
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil // an empty body sets nothing, as with grpc-gateway
	}
	switch {
	case rt.bodyAll:
		if err := h.unmarshalBody(body, msg, rt.bodyPlan); err != nil {
			return newStatus(rpc.CodeInvalidArgument, "request body: "+err.Error())
		}
	case rt.body.Message() != nil && !rt.body.IsList() && !rt.body.IsMap():
		sub := msg.NewField(rt.body).Message()
		if err := h.unmarshalBody(body, sub, rt.bodyPlan); err != nil {
			return newStatus(rpc.CodeInvalidArgument, "request body ("+string(rt.body.Name())+"): "+err.Error())
		}
		msg.Set(rt.body, protoreflect.ValueOfMessage(sub))
	default:
		// A repeated, map or scalar field: decode {"<field>": <body>} into a
		// message of the request's type and take the field from it. The
		// body must be exactly one JSON value, or it could close the object
		// and set other fields.
		if !json.Valid(body) {
			return newStatus(rpc.CodeInvalidArgument, "request body ("+string(rt.body.Name())+"): not a JSON value")
		}
		wrapped := make([]byte, 0, len(body)+len(rt.body.JSONName())+5)
		wrapped = append(wrapped, `{"`...)
		wrapped = append(wrapped, rt.body.JSONName()...)
		wrapped = append(wrapped, `":`...)
		wrapped = append(wrapped, body...)
		wrapped = append(wrapped, '}')
		tmp := rt.inType.New()
		if err := h.unmarshal.Unmarshal(wrapped, tmp.Interface()); err != nil {
			return newStatus(rpc.CodeInvalidArgument, "request body ("+string(rt.body.Name())+"): "+err.Error())
		}
		if tmp.Has(rt.body) {
			msg.Set(rt.body, tmp.Get(rt.body))
		}
	}
	if rt.patchMask != nil {
		mask := msg.Get(rt.patchMask).Message()
		paths := mask.Descriptor().Fields().ByName("paths")
		if !msg.Has(rt.patchMask) || mask.Get(paths).List().Len() == 0 {
			got, err := maskFromJSON(body, rt.body.Message())
			if err != nil {
				return newStatus(rpc.CodeInvalidArgument, "request body: "+err.Error())
			}
			m := msg.Mutable(rt.patchMask).Message()
			list := m.Mutable(paths).List()
			for _, p := range got {
				list.Append(protoreflect.ValueOfString(p))
			}
		}
	}
	return nil
}

// unmarshalBody reads a JSON body into m, which is empty: with the decoder's
// plan p when there is one and the decoder takes the body, with protojson
// otherwise.
func (h *Handler) unmarshalBody(body []byte, m protoreflect.Message, p *decodePlan) error {
	if p != nil {
		if h.jsonIn.decode(body, m, p) {
			return nil
		}
		proto.Reset(m.Interface()) // what the decoder set before it gave up
	}
	return h.unmarshal.Unmarshal(body, m.Interface())
}

// maskFromJSON lists the field paths present in a JSON object of message
// md: the leaves, where a repeated, map or well-known field, or an empty
// object, is a leaf. Paths use proto names and are sorted.
func maskFromJSON(body []byte, md protoreflect.MessageDescriptor) ([]string, error) {
	if md == nil {
		return nil, nil
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("field mask: the body is not a JSON object: %w", err)
	}
	var paths []string
	var walk func(obj map[string]json.RawMessage, md protoreflect.MessageDescriptor, prefix string, depth int) error
	walk = func(obj map[string]json.RawMessage, md protoreflect.MessageDescriptor, prefix string, depth int) error {
		if depth > 100 {
			return errors.New("field mask: the body nests too deep")
		}
		for k, raw := range obj {
			fd := lookupField(md, k)
			if fd == nil {
				return fmt.Errorf("field mask: %s has no field %q", md.FullName(), k)
			}
			path := prefix + string(fd.Name())
			sub := fd.Message()
			if sub == nil || fd.IsList() || fd.IsMap() || strings.HasPrefix(string(sub.FullName()), "google.protobuf.") {
				paths = append(paths, path)
				continue
			}
			var child map[string]json.RawMessage
			if json.Unmarshal(raw, &child) != nil || len(child) == 0 {
				paths = append(paths, path)
				continue
			}
			if err := walk(child, sub, path+".", depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, md, "", 0); err != nil {
		return nil, err
	}
	sort.Strings(paths)
	return paths, nil
}

// tooLarge is the status of a request body over the limit: RESOURCE_EXHAUSTED,
// sent with HTTP 413 rather than the 429 of the code mapping, which would
// tell the client to retry the same request later.
func tooLarge(limit int64) *status {
	s := newStatus(rpc.CodeResourceExhausted, "request body is larger than "+strconv.FormatInt(limit, 10)+" bytes")
	s.http = http.StatusRequestEntityTooLarge
	return s
}

var gzipReaders sync.Pool // *gzip.Reader

// readBody reads the request body, decompressing gzip, into buf, up to the
// handler's limit.
func (h *Handler) readBody(r *http.Request, buf *[]byte) ([]byte, *status) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := h.readMax
	var src io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); strings.ToLower(enc) {
	case "", "identity":
		if limit > 0 && r.ContentLength > limit {
			return nil, tooLarge(limit)
		}
	case "gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			return nil, newStatus(rpc.CodeInvalidArgument, "request body: invalid gzip: "+err.Error())
		}
		defer gzipReaders.Put(zr)
		src = zr
	default:
		return nil, newStatus(rpc.CodeUnimplemented, "request body: unsupported Content-Encoding "+strconv.Quote(enc)+": gzip and identity are supported")
	}
	b := (*buf)[:0]
	if n := r.ContentLength; n > 0 && n <= 1<<20 && int(n) > cap(b) {
		b = make([]byte, 0, n+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if limit > 0 && int64(len(b)) > limit {
			*buf = b
			return nil, tooLarge(limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(mbe.Limit)
			}
			return nil, newStatus(rpc.CodeInvalidArgument, "request body: "+err.Error())
		}
	}
	*buf = b
	return b, nil
}
