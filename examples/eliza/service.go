// Package eliza is a small Eliza, the 1966 psychotherapist program, served
// as connectrpc.eliza.v1.ElizaService: the service of Connect's public demo,
// with the same wire names, so the clients and tools people use with that
// demo work against it unchanged. [Reply] is the conversation logic;
// [Service] implements the generated elizav1rpc.ElizaServiceHandler with it.
//
//	mux.Handle(elizav1rpc.NewElizaServiceHandler(eliza.NewService()))
package eliza

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	elizav1 "polyconnect.dev/examples/gen/connectrpc/eliza/v1"
	"polyconnect.dev/examples/gen/connectrpc/eliza/v1/elizav1rpc"
	"polyconnect.dev/protocol/rpc"
)

// MaxSentenceRunes is the longest sentence Eliza listens to; longer ones
// are refused with CodeInvalidArgument.
const MaxSentenceRunes = 1000

// MaxConfidences is the most sentences one Confide call may send; more are
// refused with CodeResourceExhausted.
const MaxConfidences = 1000

// Service implements elizav1rpc.ElizaServiceHandler. It keeps no state
// between calls and is safe for concurrent use.
type Service struct{}

var _ elizav1rpc.ElizaServiceHandler = Service{}

// NewService returns Eliza, ready to be passed to
// elizav1rpc.NewElizaServiceHandler.
func NewService() Service { return Service{} }

// Say answers one sentence. An empty or overlong sentence is an
// invalid_argument error.
func (Service) Say(_ context.Context, req *elizav1.SayRequest) (*elizav1.SayResponse, error) {
	if err := check(req.Sentence); err != nil {
		return nil, err
	}
	return &elizav1.SayResponse{Sentence: Reply(req.Sentence)}, nil
}

// Converse answers each sentence as it arrives, until the client closes its
// side or says goodbye: Eliza answers the goodbye, then ends the call.
func (Service) Converse(_ context.Context, stream *rpc.BidiStream[elizav1.ConverseRequest, elizav1.ConverseResponse]) error {
	for req, err := range stream.All() {
		if err != nil {
			return err
		}
		if err := check(req.Sentence); err != nil {
			return err
		}
		if err := stream.Send(&elizav1.ConverseResponse{Sentence: Reply(req.Sentence)}); err != nil {
			return err
		}
		if IsGoodbye(req.Sentence) {
			return nil
		}
	}
	return nil
}

// Introduce streams Eliza's introduction, one sentence a message, to the
// named person ("stranger" if the name is empty).
func (Service) Introduce(ctx context.Context, req *elizav1.IntroduceRequest, stream *rpc.ServerStream[elizav1.IntroduceResponse]) error {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "stranger"
	}
	if utf8.RuneCountInString(name) > MaxSentenceRunes {
		return rpc.NewError(rpc.CodeInvalidArgument, fmt.Sprintf("the name is longer than %d characters", MaxSentenceRunes))
	}
	for _, sentence := range Introduction(name) {
		if err := stream.Send(&elizav1.IntroduceResponse{Sentence: sentence}); err != nil {
			return err
		}
	}
	return nil
}

// Introduction is what Introduce sends to name, one sentence an element.
func Introduction(name string) []string {
	return []string{
		"Hi " + name + ", I'm Eliza.",
		"I was written by Joseph Weizenbaum at MIT in 1966, and rewritten in Go for polyconnect.",
		"I play a Rogerian psychotherapist: mostly, I turn what you say back into a question.",
		"You can talk to me one sentence at a time with Say, or keep talking with Converse.",
		"So, " + name + ", how are you feeling today?",
	}
}

// Confide listens to every sentence the client sends and answers once,
// when the client closes its side, picking up on the last thing said.
func (Service) Confide(_ context.Context, stream *rpc.ClientStream[elizav1.ConfideRequest]) (*elizav1.ConfideResponse, error) {
	var last string
	var n int32
	for req, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		if err := check(req.Sentence); err != nil {
			return nil, err
		}
		if n++; n > MaxConfidences {
			return nil, rpc.NewError(rpc.CodeResourceExhausted, fmt.Sprintf("Eliza listens to at most %d sentences a call", MaxConfidences))
		}
		last = req.Sentence
	}
	if n == 0 {
		return &elizav1.ConfideResponse{Sentence: "You haven't told me anything. Take your time."}, nil
	}
	answer := fmt.Sprintf("Thank you for telling me %s. %s", things(n), Reply(last))
	return &elizav1.ConfideResponse{Sentence: answer, Sentences: n}, nil
}

// things says how many things were told, in words for small numbers.
func things(n int32) string {
	switch n {
	case 1:
		return "that"
	case 2:
		return "both of those things"
	}
	return fmt.Sprintf("all %d of those things", n)
}

// check refuses a sentence Eliza cannot answer.
func check(sentence string) error {
	switch {
	case strings.TrimSpace(sentence) == "":
		return rpc.NewError(rpc.CodeInvalidArgument, "say something: the sentence is empty")
	case utf8.RuneCountInString(sentence) > MaxSentenceRunes:
		return rpc.NewError(rpc.CodeInvalidArgument, fmt.Sprintf("the sentence is longer than %d characters", MaxSentenceRunes))
	}
	return nil
}
