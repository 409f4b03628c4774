package retry

import (
	"context"
	"time"
)

// WithClock replaces the clock, the wait between attempts (and the hedging
// timer), and the jitter source, so tests need no real time.
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error, jitter func() float64) Option {
	return optionFunc(func(c *config) {
		c.now, c.sleep, c.jitter = now, sleep, jitter
	})
}
