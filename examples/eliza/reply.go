package eliza

import (
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
)

// A rule is one of Eliza's keywords: a pattern that a sentence may match and
// the answers she gives when it does. An answer's %s is replaced by the part
// of the sentence the pattern's first group captured, with the pronouns
// turned around ("my job" becomes "your job").
type rule struct {
	pattern *regexp.Regexp
	answers []string
}

// rules are tried in order; the first that matches answers. The patterns
// see the sentence in lower case, without its final punctuation.
var rules = []rule{
	{regexp.MustCompile(`^(?:hello|hi|hey|good (?:morning|afternoon|evening))\b`), []string{
		"Hello. How are you feeling today?",
		"Hi there. What brings you here today?",
		"Hello. What would you like to talk about?",
	}},
	goodbyeRule,
	{regexp.MustCompile(`\bi need (.+)`), []string{
		"Why do you need %s?",
		"Would it really help you to get %s?",
		"Are you sure you need %s?",
	}},
	{regexp.MustCompile(`\bwhy don'?t you (.+)`), []string{
		"Do you really think I don't %s?",
		"Perhaps one day I will %s.",
		"Do you want me to %s?",
	}},
	{regexp.MustCompile(`\bwhy can'?t i (.+)`), []string{
		"Do you think you should be able to %s?",
		"If you could %s, what would you do?",
		"What is stopping you from trying to %s?",
	}},
	{regexp.MustCompile(`\bi can'?t (.+)`), []string{
		"How do you know you can't %s?",
		"Perhaps you could %s if you tried.",
		"What would it take for you to %s?",
	}},
	{regexp.MustCompile(`\bi feel (.+)`), []string{
		"Tell me more about feeling %s.",
		"Do you often feel %s?",
		"When do you usually feel %s?",
	}},
	{regexp.MustCompile(`\b(?:i am|i'm) (.+)`), []string{
		"How long have you been %s?",
		"Did you come to me because you are %s?",
		"How do you feel about being %s?",
	}},
	{regexp.MustCompile(`\bare you (.+)`), []string{
		"Why does it matter whether I am %s?",
		"Would you prefer it if I were not %s?",
		"Perhaps you believe I am %s.",
	}},
	{regexp.MustCompile(`\bbecause (.+)`), []string{
		"Is that the real reason?",
		"What other reasons come to mind?",
		"If %s, what else must be true?",
	}},
	{regexp.MustCompile(`\b(?:sorry|apologi[sz]e)\b`), []string{
		"There is no need to apologise.",
		"Apologies are not necessary. What are you feeling?",
	}},
	{regexp.MustCompile(`\bi think (.+)`), []string{
		"Do you doubt %s?",
		"Do you really think so?",
		"But you are not sure %s?",
	}},
	{regexp.MustCompile(`\b(?:mother|father|mom|mum|dad|sister|brother|family|parents)\b`), []string{
		"Tell me more about your family.",
		"How do you get along with your family?",
		"Do you often think of your family?",
	}},
	{regexp.MustCompile(`\bmy (.+)`), []string{
		"Your %s?",
		"Why do you say that your %s?",
		"How does that make you feel about your %s?",
	}},
	{regexp.MustCompile(`\byou (.+)`), []string{
		"We should be discussing you, not me.",
		"Why do you say that about me?",
		"Why do you care whether I %s?",
	}},
	{regexp.MustCompile(`\b(?:yes|yeah|yep)\b`), []string{
		"You seem quite sure.",
		"I see. Please go on.",
	}},
	{regexp.MustCompile(`\b(?:no|nope|never)\b`), []string{
		"Why not?",
		"You are being a bit negative.",
		"Are you saying no just to be negative?",
	}},
	{regexp.MustCompile(`\?$`), []string{
		"Why do you ask that?",
		"What do you think?",
		"Perhaps you can answer your own question.",
	}},
}

// fallbacks answer a sentence no rule matched.
var fallbacks = []string{
	"Please tell me more.",
	"How does that make you feel?",
	"I see. And what does that tell you?",
	"Let's talk about something else. Tell me about your family.",
	"Very interesting. Please go on.",
}

// goodbyeRule matches the sentences that end a conversation.
var goodbyeRule = rule{regexp.MustCompile(`\b(?:goodbye|bye|farewell|quit)\b`), []string{
	"Goodbye. It was good talking to you.",
	"Goodbye. Take care of yourself.",
}}

// reflections turn the pronouns of a captured phrase around.
var reflections = map[string]string{
	"i":        "you",
	"me":       "you",
	"my":       "your",
	"mine":     "yours",
	"myself":   "yourself",
	"am":       "are",
	"was":      "were",
	"i'm":      "you are",
	"i've":     "you have",
	"i'll":     "you will",
	"i'd":      "you would",
	"you":      "I",
	"your":     "my",
	"yours":    "mine",
	"yourself": "myself",
	"are":      "am",
	"you're":   "I am",
	"you've":   "I have",
	"you'll":   "you will",
}

// Reply is Eliza's answer to one sentence. It is deterministic: the same
// sentence always gets the same answer, which keeps tests and demos
// reproducible while different sentences still get varied answers.
func Reply(sentence string) string {
	s := normalize(sentence)
	pick := choose(s)
	for _, r := range rules {
		m := r.pattern.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		answer := r.answers[pick%uint32(len(r.answers))]
		if len(m) > 1 && strings.Contains(answer, "%s") {
			answer = strings.Replace(answer, "%s", reflect(m[1]), 1)
		}
		return answer
	}
	return fallbacks[pick%uint32(len(fallbacks))]
}

// IsGoodbye reports whether sentence ends a conversation.
func IsGoodbye(sentence string) bool {
	return goodbyeRule.pattern.MatchString(normalize(sentence))
}

// normalize lowers a sentence, collapses its spaces and trims final
// punctuation other than a question mark, which some rules look for.
func normalize(sentence string) string {
	s := strings.ToLower(strings.Join(strings.Fields(sentence), " "))
	return strings.TrimRightFunc(s, func(r rune) bool {
		return r != '?' && (unicode.IsPunct(r) || unicode.IsSpace(r))
	})
}

// reflect turns the pronouns of a phrase around and drops its trailing
// punctuation, so it reads well inside an answer.
func reflect(phrase string) string {
	words := strings.Fields(strings.TrimRightFunc(phrase, unicode.IsPunct))
	for i, w := range words {
		if r, ok := reflections[w]; ok {
			words[i] = r
		}
	}
	return strings.Join(words, " ")
}

// choose hashes a normalized sentence into the index of an answer.
func choose(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
