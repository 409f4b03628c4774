package h2

import "time"

// bdpEstimator grows the receive windows from the measured bandwidth-delay
// product. When DATA arrives and no sample is running, the connection sends
// a PING; the bytes that arrive until its acknowledgement are what the
// peer could send in one round trip. If a sample nearly fills the stream
// window (so the window, not the network, may be what limits the peer) and
// the bandwidth it shows is the best yet, the windows grow to twice the
// sample. Small frames (small RPCs) start no sample: they gain nothing
// from larger windows and would pay a PING each. The reader goroutine owns
// it.
type bdpEstimator struct {
	enabled bool
	sent    bool
	sentAt  time.Time
	sample  int64
	bwMax   float64
}

// bdpMinFrame is the smallest DATA frame that starts a sample.
const bdpMinFrame = 4 << 10

func (b *bdpEstimator) init(lim limits) { b.enabled = lim.bdp }

// onData counts n received bytes and reports whether to send a PING that
// starts a sample.
func (b *bdpEstimator) onData(n int) bool {
	if b.sent {
		b.sample += int64(n)
		return false
	}
	if n < bdpMinFrame {
		return false
	}
	b.sent = true
	b.sample = int64(n)
	b.sentAt = time.Now()
	return true
}

// onAck ends the sample. It returns how much to grow the windows by, given
// the current stream window, if they should grow.
func (b *bdpEstimator) onAck(now time.Time, window int32) (inc int32, ok bool) {
	if !b.sent {
		return 0, false
	}
	b.sent = false
	rtt := now.Sub(b.sentAt).Seconds()
	if rtt <= 0 {
		return 0, false
	}
	bw := float64(b.sample) / rtt
	if b.sample*3 < int64(window)*2 || bw <= b.bwMax {
		return 0, false
	}
	b.bwMax = bw
	target := min(2*b.sample, 1<<30)
	if target <= int64(window) {
		return 0, false
	}
	return int32(target - int64(window)), true
}
