package h2

import "time"

// calmMeter counts frames that cost the connection work without moving
// any request forward: PINGs and SETTINGS (which want an answer), PRIORITY
// frames, empty DATA and header fragments, unknown frame types, stream
// errors. Frames that carry data pay some of the count back, and it drains
// with time, so a client that pings while it works, or now and then while
// idle, never gets near the limit; a flood does, and the connection is
// closed with ENHANCE_YOUR_CALM. The reader goroutine owns it.
type calmMeter struct {
	score int
	last  time.Time
}

const (
	// calmLimit is how far the count may go.
	calmLimit = 1000
	// calmDrainPerSecond is how much of the count drains each second.
	calmDrainPerSecond = 10
)

// junk counts n frames and reports whether the connection is still within
// the limit.
func (m *calmMeter) junk(n int) bool {
	now := time.Now()
	if m.score > 0 && !m.last.IsZero() {
		drained := int(now.Sub(m.last) / (time.Second / calmDrainPerSecond))
		if drained > 0 {
			m.score = max(0, m.score-drained)
			m.last = now
		}
	} else {
		m.last = now
	}
	m.score += n
	return m.score <= calmLimit
}

// useful pays some of the count back for a frame that carried work.
func (m *calmMeter) useful() {
	if m.score > 0 {
		m.score--
	}
}
