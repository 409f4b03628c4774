package rpc

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// grpcStatusValues holds the header value of every standard code, so that
// writing a status does not allocate. Index 0 is OK.
var grpcStatusValues = func() (v [maxCode + 1][]string) {
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

func grpcStatusValue(c Code) []string {
	if c <= maxCode {
		return grpcStatusValues[c]
	}
	return []string{strconv.FormatUint(uint64(c), 10)}
}

// grpcStatusHeaders returns the grpc-status, grpc-message and
// grpc-status-details-bin values for e; e == nil is OK. Empty results are
// omitted by the callers.
func grpcStatusHeaders(e *Error) (status []string, message, details string) {
	if e == nil {
		return grpcStatusValues[0], "", ""
	}
	code := e.code
	if code == 0 {
		// A zero code would read as success on the wire.
		code = CodeUnknown
	}
	status = grpcStatusValue(code)
	message = grpcwire.PercentEncode(e.msg)
	if len(e.details) > 0 {
		details = base64.RawStdEncoding.EncodeToString(appendGRPCStatusProto(nil, code, e.msg, e.details))
	}
	return status, message, details
}

// setGRPCStatus writes the status of e (nil: OK) into h, as trailers (with
// http.TrailerPrefix) or as headers of a trailers-only response.
func setGRPCStatus(h http.Header, e *Error, trailer bool) {
	status, message, details := grpcStatusHeaders(e)
	if trailer {
		h[http.TrailerPrefix+grpcwire.HeaderStatus] = status
		if message != "" {
			h[http.TrailerPrefix+grpcwire.HeaderMessage] = []string{message}
		}
		if details != "" {
			h[http.TrailerPrefix+grpcwire.HeaderDetails] = []string{details}
		}
		return
	}
	h[grpcwire.HeaderStatus] = status
	if message != "" {
		h[grpcwire.HeaderMessage] = []string{message}
	}
	if details != "" {
		h[grpcwire.HeaderDetails] = []string{details}
	}
}

// grpcStatusFields are the status entries of one block of trailers.
type grpcStatusFields struct {
	status      string
	statusCount int // how many grpc-status entries; one is expected
	message     string
	hasMessage  bool
	details     string
}

func grpcStatusFieldsOf(h http.Header) grpcStatusFields {
	var f grpcStatusFields
	if vs := h[grpcwire.HeaderStatus]; len(vs) > 0 {
		f.status, f.statusCount = vs[0], len(vs)
	}
	if vs := h[grpcwire.HeaderMessage]; len(vs) > 0 {
		f.message, f.hasMessage = vs[0], true
	}
	if vs := h[grpcwire.HeaderDetails]; len(vs) > 0 {
		f.details = vs[0]
	}
	return f
}

// grpcStatusFromHeader reads the status carried by h (trailers, or the
// headers of a trailers-only response). It reports found=false when h has no
// grpc-status; err is nil for an OK status. A status that cannot be parsed
// is an error with CodeInternal.
func grpcStatusFromHeader(h http.Header) (err *Error, found bool) {
	return grpcStatusFieldsOf(h).toError()
}

func (f grpcStatusFields) toError() (err *Error, found bool) {
	if f.statusCount == 0 {
		return nil, false
	}
	v := strings.TrimSpace(f.status)
	n, perr := strconv.ParseUint(v, 10, 32)
	if perr != nil || f.statusCount > 1 || (len(v) > 1 && v[0] == '0') {
		return errorf(CodeInternal, "protocol error: invalid grpc-status "+strconv.Quote(f.status)), true
	}
	if n == 0 {
		return nil, true
	}
	code := Code(n)
	if code > maxCode {
		code = CodeUnknown
	}
	e := &Error{code: code, wire: true}
	if f.hasMessage {
		e.msg = grpcwire.PercentDecode(f.message)
	}
	if f.details != "" {
		// A broken details entry does not hide the status it accompanies.
		if b, derr := decodeBase64(f.details); derr == nil {
			if _, msg, details, perr := parseGRPCStatusProto(b); perr == nil {
				e.details = details
				if !f.hasMessage {
					e.msg = msg
				}
			}
		}
	}
	return e, true
}

// The google.rpc.Status message is encoded by hand so that this package needs
// nothing beyond google.golang.org/protobuf:
//
//	message Status {
//	  int32 code = 1;
//	  string message = 2;
//	  repeated google.protobuf.Any details = 3;
//	}
//
// and google.protobuf.Any is {string type_url = 1; bytes value = 2;}.

// appendGRPCStatusProto appends the binary google.rpc.Status to b.
func appendGRPCStatusProto(b []byte, code Code, msg string, details []*anypb.Any) []byte {
	if code != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(int32(code))))
	}
	if msg != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, msg)
	}
	for _, d := range details {
		url, value := d.GetTypeUrl(), d.GetValue()
		size := 0
		if url != "" {
			size += protowire.SizeTag(1) + protowire.SizeBytes(len(url))
		}
		if len(value) > 0 {
			size += protowire.SizeTag(2) + protowire.SizeBytes(len(value))
		}
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		if url != "" {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, url)
		}
		if len(value) > 0 {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendBytes(b, value)
		}
	}
	return b
}

var errBadStatusProto = errors.New("malformed google.rpc.Status")

// parseGRPCStatusProto decodes a binary google.rpc.Status. Unknown fields
// are skipped.
func parseGRPCStatusProto(b []byte) (code Code, msg string, details []*anypb.Any, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, "", nil, errBadStatusProto
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			code = Code(uint32(int32(v)))
		case num == 2 && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			msg = string(v)
		case num == 3 && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				a := new(anypb.Any)
				if uerr := proto.Unmarshal(v, a); uerr != nil {
					return 0, "", nil, errBadStatusProto
				}
				details = append(details, a)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return 0, "", nil, errBadStatusProto
		}
		b = b[n:]
	}
	return code, msg, details, nil
}
