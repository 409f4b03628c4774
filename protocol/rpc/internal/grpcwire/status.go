package grpcwire

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// A status travels in three fields: grpc-status (the code in decimal),
// grpc-message (percent-encoded, see PercentEncode) and
// grpc-status-details-bin (a google.rpc.Status in unpadded base64). They
// are HTTP/2 trailers, the headers of a trailers-only response, or lines
// of a gRPC-Web trailers frame.

// StatusFields are the status entries of one block of trailers, as they
// came: nothing is decoded.
type StatusFields struct {
	Status      string // the first grpc-status
	StatusCount int    // how many grpc-status entries; one is expected
	Message     string // the first grpc-message, still percent-encoded
	HasMessage  bool   // whether there was a grpc-message, even empty
	Details     string // the first grpc-status-details-bin, still base64
}

// StatusFieldsOf returns the status entries of h, whose keys are canonical.
func StatusFieldsOf(h http.Header) StatusFields {
	var f StatusFields
	if vs := h[HeaderStatus]; len(vs) > 0 {
		f.Status, f.StatusCount = vs[0], len(vs)
	}
	if vs := h[HeaderMessage]; len(vs) > 0 {
		f.Message, f.HasMessage = vs[0], true
	}
	if vs := h[HeaderDetails]; len(vs) > 0 {
		f.Details = vs[0]
	}
	return f
}

// Code returns the code of f's one grpc-status: decimal digits without a
// leading zero, spaces around them aside, fitting in 32 bits. ok is false
// when there is no such single entry.
func (f StatusFields) Code() (code uint32, ok bool) {
	v := strings.TrimSpace(f.Status)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || f.StatusCount != 1 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	return uint32(n), true
}

// SetStatus writes the status fields into h: status (grpc-status, shared,
// so that it costs no allocation), and message and details when not empty,
// as trailers (keys with http.TrailerPrefix) or as headers.
func SetStatus(h http.Header, status []string, message, details string, trailer bool) {
	if trailer {
		h[http.TrailerPrefix+HeaderStatus] = status
		if message != "" {
			h[http.TrailerPrefix+HeaderMessage] = []string{message}
		}
		if details != "" {
			h[http.TrailerPrefix+HeaderDetails] = []string{details}
		}
		return
	}
	h[HeaderStatus] = status
	if message != "" {
		h[HeaderMessage] = []string{message}
	}
	if details != "" {
		h[HeaderDetails] = []string{details}
	}
}

// The google.rpc.Status message is encoded by hand, with nothing beyond
// google.golang.org/protobuf:
//
//	message Status {
//	  int32 code = 1;
//	  string message = 2;
//	  repeated google.protobuf.Any details = 3;
//	}
//
// and google.protobuf.Any is {string type_url = 1; bytes value = 2;}.

// AppendStatusProto appends the binary google.rpc.Status to b. The code is
// written as the int32 it is on the wire.
func AppendStatusProto(b []byte, code uint32, msg string, details []*anypb.Any) []byte {
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

// ErrBadStatusProto is the error of ParseStatusProto for bytes that are not
// a google.rpc.Status.
var ErrBadStatusProto = errors.New("malformed google.rpc.Status")

// ParseStatusProto decodes a binary google.rpc.Status. Unknown fields are
// skipped. The code is the int32 of the wire, as a uint32.
func ParseStatusProto(b []byte) (code uint32, msg string, details []*anypb.Any, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, "", nil, ErrBadStatusProto
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			code = uint32(int32(v))
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
					return 0, "", nil, ErrBadStatusProto
				}
				details = append(details, a)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return 0, "", nil, ErrBadStatusProto
		}
		b = b[n:]
	}
	return code, msg, details, nil
}
