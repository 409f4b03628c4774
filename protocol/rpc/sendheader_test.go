package rpc_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// SendHeader lets a streaming handler answer with headers before any
// message: the client sees them while it has not sent anything yet.
func TestSendHeaderBeforeFirstMessage(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Early/Headers", StreamType: rpc.StreamTypeBidi}
	h := rpc.NewBidiStreamHandler(spec, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Early", "yes")
		if err := rpc.SendHeader(ctx); err != nil {
			return err
		}
		if err := rpc.SendHeader(ctx); err != nil { // a second call does nothing
			return err
		}
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if err := s.Send(msg); err != nil {
				return err
			}
		}
		return nil
	})
	srv, h2 := newH2CServer(t, h)
	for _, ct := range []string{"application/connect+proto", "application/grpc", "application/grpc-web+proto"} {
		pr, pw := io.Pipe()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+spec.Procedure, pr)
		req.Header.Set("Content-Type", ct)
		res, err := h2.Do(req) // returns on the response headers; nothing was sent
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		if res.StatusCode != http.StatusOK || res.Header.Get("X-Early") != "yes" {
			t.Errorf("%s: status %d, headers %v", ct, res.StatusCode, res.Header)
		}
		_ = pw.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	// Through our own client the call works as before.
	bidi, err := rpc.NewClient[sv, sv](h2, srv.URL, spec).CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := bidi.Send(wrapperspb.String("ping")); err != nil {
		t.Fatal(err)
	}
	msg, err := bidi.Receive()
	if err != nil || msg.Value != "ping" || bidi.ResponseHeader().Get("X-Early") != "yes" {
		t.Fatalf("%v %v %v", msg, err, bidi.ResponseHeader())
	}
	_ = bidi.CloseSend()
	_ = bidi.CloseReceive()
}

func TestSendHeaderRefusedForUnary(t *testing.T) {
	var got error
	h := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		got = rpc.SendHeader(ctx)
		return req, nil
	})
	srv, h2 := newH2CServer(t, h)
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("SendHeader succeeded in a unary handler")
	}
	if err := rpc.SendHeader(context.Background()); err == nil {
		t.Fatal("SendHeader succeeded without a call")
	}
}
