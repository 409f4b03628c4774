package eliza_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"polyconnect.dev/examples/eliza"
	elizav1 "polyconnect.dev/examples/gen/connectrpc/eliza/v1"
	"polyconnect.dev/examples/gen/connectrpc/eliza/v1/elizav1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// clients returns an Eliza client for each protocol, over in-memory HTTP/2.
func clients(t *testing.T) map[rpc.Protocol]elizav1rpc.ElizaServiceClient {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(elizav1rpc.NewElizaServiceHandler(eliza.NewService()))
	srv := rpctest.NewServer(t, mux)
	out := map[rpc.Protocol]elizav1rpc.ElizaServiceClient{}
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		out[p] = elizav1rpc.NewElizaServiceClient(srv.HTTP2Client(), srv.URL(), rpc.WithProtocol(p))
	}
	return out
}

func TestSay(t *testing.T) {
	for p, client := range clients(t) {
		res, err := client.Say(context.Background(), &elizav1.SayRequest{Sentence: "I need a holiday"})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if want := eliza.Reply("I need a holiday"); res.Sentence != want {
			t.Errorf("%s: Say = %q, want %q", p, res.Sentence, want)
		}
		for _, bad := range []string{"", "   ", strings.Repeat("é", eliza.MaxSentenceRunes+1)} {
			_, err := client.Say(context.Background(), &elizav1.SayRequest{Sentence: bad})
			if rpc.CodeOf(err) != rpc.CodeInvalidArgument {
				t.Errorf("%s: Say(%.10q…) error = %v, want invalid_argument", p, bad, err)
			}
		}
	}
}

func TestSayUsesGETOverConnect(t *testing.T) {
	client := clients(t)[rpc.ProtocolConnect]
	ctx, info := rpc.NewClientContext(context.Background())
	if _, err := client.Say(ctx, &elizav1.SayRequest{Sentence: "hello"}); err != nil {
		t.Fatal(err)
	}
	if info.HTTPMethod() != http.MethodGet {
		t.Errorf("Say went out as %s, want GET (the method has no side effects)", info.HTTPMethod())
	}
}

func TestIntroduce(t *testing.T) {
	for p, client := range clients(t) {
		for name, want := range map[string][]string{"Ada": eliza.Introduction("Ada"), "  ": eliza.Introduction("stranger")} {
			stream, err := client.Introduce(context.Background(), &elizav1.IntroduceRequest{Name: name})
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			var got []string
			for msg, err := range stream.All() {
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				got = append(got, msg.Sentence)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s: Introduce(%q) = %q, want %q", p, name, got, want)
			}
		}
	}
}

func TestConverse(t *testing.T) {
	for p, client := range clients(t) {
		stream, err := client.Converse(context.Background())
		if err != nil {
			t.Fatalf("%s: open: %v", p, err)
		}
		for _, s := range []string{"I feel sad", "My job bores me"} {
			if err := stream.Send(&elizav1.ConverseRequest{Sentence: s}); err != nil {
				t.Fatalf("%s: send: %v", p, err)
			}
			res, err := stream.Receive()
			if err != nil {
				t.Fatalf("%s: receive: %v", p, err)
			}
			if want := eliza.Reply(s); res.Sentence != want {
				t.Errorf("%s: answer to %q = %q, want %q", p, s, res.Sentence, want)
			}
		}
		// Goodbye ends the conversation from Eliza's side: the answer, then
		// the end of the stream, although the client never closed its side.
		if err := stream.Send(&elizav1.ConverseRequest{Sentence: "Goodbye"}); err != nil {
			t.Fatalf("%s: send: %v", p, err)
		}
		res, err := stream.Receive()
		if err != nil || !strings.HasPrefix(res.Sentence, "Goodbye") {
			t.Fatalf("%s: answer to goodbye = %v, %v", p, res, err)
		}
		if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: after goodbye: %v, want io.EOF", p, err)
		}
		_ = stream.CloseSend()
		_ = stream.CloseReceive()
	}
}

func TestConverseRefusesEmptySentence(t *testing.T) {
	for p, client := range clients(t) {
		stream, err := client.Converse(context.Background())
		if err != nil {
			t.Fatalf("%s: open: %v", p, err)
		}
		if err := stream.Send(&elizav1.ConverseRequest{Sentence: ""}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		_ = stream.CloseSend()
		if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", p, err)
		}
		_ = stream.CloseReceive()
	}
}

func TestConfide(t *testing.T) {
	for p, client := range clients(t) {
		stream, err := client.Confide(context.Background())
		if err != nil {
			t.Fatalf("%s: open: %v", p, err)
		}
		sentences := []string{"I lost my keys", "I missed the bus", "I need a holiday"}
		for _, s := range sentences {
			if err := stream.Send(&elizav1.ConfideRequest{Sentence: s}); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		res, err := stream.CloseAndReceive()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want := "Thank you for telling me all 3 of those things. " + eliza.Reply("I need a holiday")
		if res.Sentences != 3 || res.Sentence != want {
			t.Errorf("%s: Confide = %d %q, want 3 %q", p, res.Sentences, res.Sentence, want)
		}

		stream, err = client.Confide(context.Background())
		if err != nil {
			t.Fatalf("%s: open: %v", p, err)
		}
		empty, err := stream.CloseAndReceive()
		if err != nil || empty.Sentences != 0 || !strings.Contains(empty.Sentence, "haven't told me anything") {
			t.Errorf("%s: empty Confide = %v, %v", p, empty, err)
		}
	}
}

func TestConfideLimit(t *testing.T) {
	client := clients(t)[rpc.ProtocolGRPC]
	stream, err := client.Confide(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range eliza.MaxConfidences + 1 {
		if err := stream.Send(&elizav1.ConfideRequest{Sentence: "again"}); err != nil {
			break // the server may answer before the client is done sending
		}
	}
	if _, err := stream.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Errorf("Confide of %d sentences: %v, want resource_exhausted", eliza.MaxConfidences+1, err)
	}
}
