package connectwire

import "encoding/json"

// Error is the JSON form of an error in the Connect protocol.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message,omitempty"`
	Details []Detail `json:"details,omitempty"`
}

// Detail is one error detail: a protobuf message's type name (without the
// type URL prefix) and its binary encoding in unpadded base64.
type Detail struct {
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Debug json.RawMessage `json:"debug,omitempty"`
}

// EndStream is the JSON end-of-stream message of Connect streams.
type EndStream struct {
	Error    *Error              `json:"error,omitempty"`
	Metadata map[string][]string `json:"metadata,omitempty"`
}

// TypeURLPrefix is the prefix of the type URLs of details, which the wire
// form leaves out.
const TypeURLPrefix = "type.googleapis.com/"
