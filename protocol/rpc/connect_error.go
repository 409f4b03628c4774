package rpc

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
)

func toConnectWireError(e *Error) *connectwire.Error {
	w := &connectwire.Error{Code: e.code.String(), Message: e.msg}
	for _, d := range e.details {
		w.Details = append(w.Details, connectwire.Detail{
			Type:  strings.TrimPrefix(d.GetTypeUrl(), connectwire.TypeURLPrefix),
			Value: base64.RawStdEncoding.EncodeToString(d.GetValue()),
		})
	}
	return w
}

// wireToError decodes a wire error. A missing, null or unknown code becomes
// fallback: the code implied by the HTTP status for a unary error, Unknown in
// an end-of-stream message. The message and details are kept either way.
func wireToError(w *connectwire.Error, fallback Code) *Error {
	code := fallback
	var parsed Code
	if w.Code != "" && parsed.UnmarshalText([]byte(w.Code)) == nil && parsed >= minCode && parsed <= maxCode {
		code = parsed
	}
	e := &Error{code: code, msg: w.Message, wire: true}
	for _, d := range w.Details {
		typ := d.Type
		if !strings.Contains(typ, "/") {
			typ = connectwire.TypeURLPrefix + typ
		}
		value, err := decodeBase64(d.Value)
		if err != nil {
			continue
		}
		e.details = append(e.details, &anypb.Any{TypeUrl: typ, Value: value})
	}
	return e
}

func marshalConnectError(e *Error) []byte {
	b, err := json.Marshal(toConnectWireError(e))
	if err != nil {
		return []byte(`{"code":"internal","message":"marshal error"}`)
	}
	return b
}
