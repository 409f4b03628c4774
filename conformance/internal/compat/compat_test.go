package compat

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"
	"polyconnect.dev/protocol/rpc"
)

func TestFraming(t *testing.T) {
	var buf bytes.Buffer
	msgs := []*v1.ClientCompatResponse{{TestName: "a"}, {TestName: ""}, {TestName: "c"}}
	for _, m := range msgs {
		if err := WriteMessage(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range msgs {
		got := new(v1.ClientCompatResponse)
		if err := ReadMessage(&buf, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if err := ReadMessage(&buf, new(v1.ClientCompatResponse)); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
	if err := ReadMessage(bytes.NewReader([]byte{0, 0}), new(v1.ClientCompatResponse)); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("truncated prefix: %v", err)
	}
	if err := ReadMessage(bytes.NewReader([]byte{0, 0, 0, 9, 1}), new(v1.ClientCompatResponse)); err == nil {
		t.Fatal("truncated message: no error")
	}
}

func TestHeaders(t *testing.T) {
	h := make(http.Header)
	AddHeaders(h, []*v1.Header{{Name: "x-a", Value: []string{"1", "2"}}, {Name: "X-A", Value: []string{"3"}}})
	if got := h.Values("X-A"); len(got) != 3 || got[2] != "3" {
		t.Fatalf("values %v", got)
	}
	back := HeadersToProto(h)
	if len(back) != 1 || back[0].GetName() != "X-A" || len(back[0].GetValue()) != 3 {
		t.Fatalf("round trip %v", back)
	}
}

func TestErrors(t *testing.T) {
	detail, _ := anypb.New(wrapperspb.String("d"))
	in := &v1.Error{Code: v1.Code_CODE_ABORTED, Message: proto.String("m"), Details: []*anypb.Any{detail}}
	e := ErrorFromProto(in)
	if e.Code() != rpc.CodeAborted || e.Message() != "m" || len(e.Details()) != 1 {
		t.Fatalf("ErrorFromProto: %v", e)
	}
	if out := ErrorToProto(e); !proto.Equal(out, in) {
		t.Fatalf("ErrorToProto: %v", out)
	}
	if out := ErrorToProto(errors.New("plain")); out.GetCode() != v1.Code_CODE_UNKNOWN || out.GetMessage() != "plain" {
		t.Fatalf("plain error: %v", out)
	}
}
