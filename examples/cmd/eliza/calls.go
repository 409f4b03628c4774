package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	elizav1 "polyconnect.dev/examples/gen/connectrpc/eliza/v1"
	"polyconnect.dev/examples/gen/connectrpc/eliza/v1/elizav1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// allProtocols are the protocols in the order the table shows them.
var allProtocols = []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb}

// callTimeout bounds each call, so a broken transport shows as an error in
// the table instead of a hang. It is generous: a loaded CI machine must not
// turn a slow call into a failure.
const callTimeout = 20 * time.Second

// protocolsFor returns the protocols a transport carries: Connect and
// gRPC-Web everywhere, gRPC only where HTTP/2 or later is spoken, which is
// every transport but HTTP/1.1.
func protocolsFor(name string) []rpc.Protocol {
	if name == transport.NameHTTP1 {
		return []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPCWeb}
	}
	return allProtocols
}

// fullDuplex reports whether a transport lets both sides of a bidi stream
// talk at once: not over HTTP/1.1, where the request body ends before the
// response begins.
func fullDuplex(name string) bool { return name != transport.NameHTTP1 }

// callEveryMethod calls each of Eliza's methods once through the generated
// client and returns a row a call.
func callEveryMethod(ctx context.Context, hc rpc.HTTPClient, url, name string, p rpc.Protocol) []row {
	client := elizav1rpc.NewElizaServiceClient(hc, url, rpc.WithProtocol(p))
	calls := []struct {
		method string
		call   func(context.Context, elizav1rpc.ElizaServiceClient) (string, error)
	}{
		{"Say", say},
		{"Introduce", introduce},
		{"Confide", confide},
		{"Converse", func(ctx context.Context, c elizav1rpc.ElizaServiceClient) (string, error) {
			return converse(ctx, c, fullDuplex(name))
		}},
	}
	rows := make([]row, 0, len(calls))
	for _, c := range calls {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		cctx, info := rpc.NewClientContext(cctx)
		start := time.Now()
		detail, err := c.call(cctx, client)
		elapsed := time.Since(start)
		cancel()
		rows = append(rows, row{
			transport: name,
			http:      info.ResponseHeader().Get(httpVersionHeader),
			protocol:  p.String(),
			method:    c.method,
			err:       err,
			latency:   elapsed,
			detail:    detail,
		})
	}
	return rows
}

func say(ctx context.Context, c elizav1rpc.ElizaServiceClient) (string, error) {
	res, err := c.Say(ctx, &elizav1.SayRequest{Sentence: "Hello, I feel like talking to a computer."})
	if err != nil {
		return "", err
	}
	method := http.MethodPost
	if info, ok := rpc.ClientCallInfo(ctx); ok && info.HTTPMethod() != "" {
		method = info.HTTPMethod()
	}
	return fmt.Sprintf("%s, %q", method, res.Sentence), nil
}

func introduce(ctx context.Context, c elizav1rpc.ElizaServiceClient) (string, error) {
	stream, err := c.Introduce(ctx, &elizav1.IntroduceRequest{Name: "Ada"})
	if err != nil {
		return "", err
	}
	n, first := 0, ""
	for msg, err := range stream.All() {
		if err != nil {
			return "", err
		}
		if n == 0 {
			first = msg.Sentence
		}
		n++
	}
	if n == 0 {
		return "", errors.New("the stream ended without a message")
	}
	return fmt.Sprintf("%d messages, %q …", n, first), nil
}

func confide(ctx context.Context, c elizav1rpc.ElizaServiceClient) (string, error) {
	stream, err := c.Confide(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range []string{"I lost my keys.", "I missed the bus.", "I need a holiday."} {
		if err := stream.Send(&elizav1.ConfideRequest{Sentence: s}); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server answered early: CloseAndReceive has it
			}
			return "", err
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d sent, %q", res.Sentences, res.Sentence), nil
}

// converse talks to Eliza over a bidi stream: turn by turn when the
// transport is full duplex, otherwise everything first, then the answers.
// The goodbye makes Eliza end the stream.
func converse(ctx context.Context, c elizav1rpc.ElizaServiceClient, duplex bool) (string, error) {
	sentences := []string{"I feel a bit anxious.", "My computer never listens to me.", "Goodbye."}
	stream, err := c.Converse(ctx)
	if err != nil {
		return "", err
	}
	defer stream.CloseReceive()
	var answers []string
	// Send reports a broken call as io.EOF; Receive has the reason.
	sendErr := func(err error) error {
		if errors.Is(err, io.EOF) {
			if _, rerr := stream.Receive(); rerr != nil && !errors.Is(rerr, io.EOF) {
				return rerr
			}
		}
		return err
	}
	if duplex {
		for _, s := range sentences {
			if err := stream.Send(&elizav1.ConverseRequest{Sentence: s}); err != nil {
				return "", sendErr(err)
			}
			res, err := stream.Receive()
			if err != nil {
				return "", err
			}
			answers = append(answers, res.Sentence)
		}
		_ = stream.CloseSend()
		if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("after goodbye: got %v, want the end of the stream", err)
		}
	} else {
		for _, s := range sentences {
			if err := stream.Send(&elizav1.ConverseRequest{Sentence: s}); err != nil {
				return "", sendErr(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			return "", err
		}
		for res, err := range stream.All() {
			if err != nil {
				return "", err
			}
			answers = append(answers, res.Sentence)
		}
	}
	if len(answers) != len(sentences) {
		return "", fmt.Errorf("%d answers to %d sentences", len(answers), len(sentences))
	}
	mode := "half duplex"
	if duplex {
		mode = "full duplex"
	}
	return fmt.Sprintf("%d turns, %s, %q", len(answers), mode, answers[len(answers)-1]), nil
}
