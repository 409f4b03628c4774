package eliza

import (
	"strings"
	"testing"
)

func TestReplyRules(t *testing.T) {
	tests := []struct {
		sentence string
		oneOf    []string // the answers the matching rule may give
	}{
		{"Hello!", []string{"Hello. How are you feeling today?", "Hi there. What brings you here today?", "Hello. What would you like to talk about?"}},
		{"I need a holiday.", []string{"Why do you need a holiday?", "Would it really help you to get a holiday?", "Are you sure you need a holiday?"}},
		{"I feel tired of my job", []string{"Tell me more about feeling tired of your job.", "Do you often feel tired of your job?", "When do you usually feel tired of your job?"}},
		{"I'm worried about me", []string{"How long have you been worried about you?", "Did you come to me because you are worried about you?", "How do you feel about being worried about you?"}},
		{"Are you a robot?", []string{"Why does it matter whether I am a robot?", "Would you prefer it if I were not a robot?", "Perhaps you believe I am a robot."}},
		{"My mother called", []string{"Tell me more about your family.", "How do you get along with your family?", "Do you often think of your family?"}},
		{"Goodbye, Eliza", []string{"Goodbye. It was good talking to you.", "Goodbye. Take care of yourself."}},
		{"What is the time?", []string{"Why do you ask that?", "What do you think?", "Perhaps you can answer your own question."}},
		{"The weather is fine", fallbacks},
	}
	for _, tt := range tests {
		got := Reply(tt.sentence)
		ok := false
		for _, a := range tt.oneOf {
			ok = ok || got == a
		}
		if !ok {
			t.Errorf("Reply(%q) = %q, want one of %q", tt.sentence, got, tt.oneOf)
		}
	}
}

func TestReplyIsDeterministicAndVaried(t *testing.T) {
	// The same sentence always gets the same answer ...
	for _, s := range []string{"I need sleep", "hello", "the sky is blue"} {
		if a, b := Reply(s), Reply(s); a != b {
			t.Errorf("Reply(%q) gave %q then %q", s, a, b)
		}
	}
	// ... and different sentences of one rule do not all get the same one.
	seen := map[string]bool{}
	for _, thing := range []string{"sleep", "a friend", "coffee", "money", "a break", "time", "help", "quiet"} {
		seen[strings.SplitN(Reply("I need "+thing), " ", 3)[1]] = true
	}
	if len(seen) < 2 {
		t.Errorf("eight different needs all got the same kind of answer: %v", seen)
	}
}

func TestReplyIgnoresCaseSpacingAndFinalPunctuation(t *testing.T) {
	if a, b := Reply("I need   a HOLIDAY!!"), Reply("i need a holiday"); a != b {
		t.Errorf("%q != %q", a, b)
	}
}

func TestReflect(t *testing.T) {
	tests := map[string]string{
		"my job bores me":      "your job bores you",
		"you are mine.":        "I am yours",
		"i'm sure i was right": "you are sure you were right",
	}
	for in, want := range tests {
		if got := reflect(in); got != want {
			t.Errorf("reflect(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsGoodbye(t *testing.T) {
	for s, want := range map[string]bool{
		"Goodbye!": true, "ok, bye": true, "I quit.": true,
		"hello": false, "byebye": false, "a goodbyes party": false,
	} {
		if got := IsGoodbye(s); got != want {
			t.Errorf("IsGoodbye(%q) = %v, want %v", s, got, want)
		}
	}
}
