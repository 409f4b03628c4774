package rpc

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"
)

// connectWireError is the JSON form of an error in the Connect protocol.
type connectWireError struct {
	Code    string              `json:"code"`
	Message string              `json:"message,omitempty"`
	Details []connectWireDetail `json:"details,omitempty"`
}

type connectWireDetail struct {
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Debug json.RawMessage `json:"debug,omitempty"`
}

// connectEndStream is the JSON end-of-stream message of Connect streams.
type connectEndStream struct {
	Error    *connectWireError   `json:"error,omitempty"`
	Metadata map[string][]string `json:"metadata,omitempty"`
}

const typeURLPrefix = "type.googleapis.com/"

func toConnectWireError(e *Error) *connectWireError {
	w := &connectWireError{Code: e.code.String(), Message: e.msg}
	for _, d := range e.details {
		w.Details = append(w.Details, connectWireDetail{
			Type:  strings.TrimPrefix(d.GetTypeUrl(), typeURLPrefix),
			Value: base64.RawStdEncoding.EncodeToString(d.GetValue()),
		})
	}
	return w
}

// toError decodes a wire error. A missing, null or unknown code becomes
// fallback: the code implied by the HTTP status for a unary error, Unknown in
// an end-of-stream message. The message and details are kept either way.
func (w *connectWireError) toError(fallback Code) *Error {
	code := fallback
	var parsed Code
	if w.Code != "" && parsed.UnmarshalText([]byte(w.Code)) == nil && parsed >= minCode && parsed <= maxCode {
		code = parsed
	}
	e := &Error{code: code, msg: w.Message, wire: true}
	for _, d := range w.Details {
		typ := d.Type
		if !strings.Contains(typ, "/") {
			typ = typeURLPrefix + typ
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
