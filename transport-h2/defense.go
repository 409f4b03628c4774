package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// The flood defences of a connection keep two accounts, both owned by the
// reader goroutine.
//
// Answers are what the peer's frames make this side write back: PING and
// SETTINGS acknowledgements, and the RST_STREAM frames that its malformed
// or out-of-place frames earn (refused streams, malformed requests, DATA on
// closed streams, zero WINDOW_UPDATEs and the other stream errors). Nothing
// the peer sends pays this account back, only time does, so pairing each
// junk frame with a useful one (PING with DATA, a malformed stream with a
// good one: MadeYouReset, CVE-2025-8671) gains an attacker nothing. One
// exception keeps honest traffic clear of it: a PING that arrives after
// this side has written DATA since the previous such PING is free, because
// that is how a receiver measures the bandwidth of what it is sent (grpc-go
// and this engine ping once per round trip while data flows), and the
// DATA it answers cost this side more than the acknowledgement.
//
// Junk is what costs reading without asking for an answer: PRIORITY
// frames, empty DATA and header fragments, unknown frame types, frames for
// streams that are gone, unsolicited acknowledgements, GOAWAY. Honest
// peers send a little of it along with their requests (browsers'
// PRIORITY and PRIORITY_UPDATE frames, a WINDOW_UPDATE racing a stream's
// end), so requests that reach a handler, responses that reach a caller
// and DATA delivered to an open stream (one unit per junkPaybackBytes) pay
// it back; a frame that carries nothing never does.
type floodMeter struct {
	score int
	last  time.Time
}

const (
	// answerLimit is how many answers the peer may have made this side
	// write, net of the drain, before the connection is closed with
	// ENHANCE_YOUR_CALM.
	answerLimit = 1000
	// junkLimit is how far the junk count may go.
	junkLimit = 1000
	// floodDrainPerSecond is how much of each count drains every second.
	floodDrainPerSecond = 10
	// junkPaybackBytes is how much DATA delivered to an open stream pays
	// back one unit of junk.
	junkPaybackBytes = 1 << 10
)

// add counts n and reports whether the count is still within limit.
func (m *floodMeter) add(n, limit int) bool {
	now := time.Now()
	if m.score > 0 && !m.last.IsZero() {
		drained := int(now.Sub(m.last) / (time.Second / floodDrainPerSecond))
		if drained > 0 {
			m.score = max(0, m.score-drained)
			m.last = now
		}
	} else {
		m.last = now
	}
	m.score += n
	return m.score <= limit
}

// payBack takes n off the count.
func (m *floodMeter) payBack(n int) {
	m.score = max(0, m.score-n)
}

// answer counts one frame the peer made this side write back and returns
// the connection error to fail with if that was one too many.
func (c *conn) answer(what string) error {
	if !c.answers.add(1, answerLimit) {
		return connError{code: http2.ErrCodeEnhanceYourCalm, reason: what + " flood"}
	}
	return nil
}

// junk counts one frame that cost reading without moving a request, and
// returns the connection error to fail with if that was one too many.
func (c *conn) junk(what string) error {
	if !c.junkFrames.add(1, junkLimit) {
		return connError{code: http2.ErrCodeEnhanceYourCalm, reason: what + " flood"}
	}
	return nil
}

// useful pays junk back for a stream that started (a request that reached
// a handler, a response that reached its caller).
func (c *conn) useful() { c.junkFrames.payBack(1) }

// delivered pays junk back for n bytes of DATA delivered to an open
// stream.
func (c *conn) delivered(n int) {
	c.deliveredBytes += n
	if c.deliveredBytes >= junkPaybackBytes {
		c.junkFrames.payBack(c.deliveredBytes / junkPaybackBytes)
		c.deliveredBytes %= junkPaybackBytes
	}
}

// freePing reports whether a PING the peer sent is free: this side has
// written DATA since the last free one (the PING measures it). It clears
// the mark. The caller holds c.mu.
func (c *conn) freePingLocked() bool {
	if c.dataSincePing {
		c.dataSincePing = false
		return true
	}
	return false
}
