package grpcwire

import (
	"math"
	"strconv"
	"time"
)

// grpc-timeout is "TimeoutValue TimeoutUnit": at most 8 ASCII digits, then
// one of H (hours), M (minutes), S (seconds), m (milliseconds),
// u (microseconds) or n (nanoseconds).

// MaxTimeoutValue is the largest number a grpc-timeout value may carry.
const MaxTimeoutValue = 99_999_999

// timeoutUnits lists the units from the finest to the coarsest.
var timeoutUnits = [...]struct {
	unit byte
	d    time.Duration
}{
	{'n', time.Nanosecond},
	{'u', time.Microsecond},
	{'m', time.Millisecond},
	{'S', time.Second},
	{'M', time.Minute},
	{'H', time.Hour},
}

// EncodeTimeout returns the grpc-timeout value for d > 0 in the finest
// unit whose value fits in 8 digits, rounded up so that the server never
// sees a deadline earlier than the client's.
func EncodeTimeout(d time.Duration) string {
	if d <= 0 {
		return "0n"
	}
	for _, u := range timeoutUnits {
		v := int64(d / u.d)
		if d%u.d != 0 {
			v++
		}
		if v <= MaxTimeoutValue {
			var b [10]byte
			out := strconv.AppendInt(b[:0], v, 10)
			out = append(out, u.unit)
			return string(out)
		}
	}
	// Unreachable: a time.Duration is at most about 2.6 million hours.
	return "99999999H"
}

// ParseTimeout parses a grpc-timeout value. It reports ok=false for a
// malformed value. A timeout too large for a time.Duration is returned as
// math.MaxInt64, which callers treat as no deadline.
func ParseTimeout(s string) (d time.Duration, ok bool) {
	if len(s) < 2 || len(s) > 9 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'n':
		unit = time.Nanosecond
	case 'u':
		unit = time.Microsecond
	case 'm':
		unit = time.Millisecond
	case 'S':
		unit = time.Second
	case 'M':
		unit = time.Minute
	case 'H':
		unit = time.Hour
	default:
		return 0, false
	}
	if v > math.MaxInt64/int64(unit) {
		return math.MaxInt64, true
	}
	return time.Duration(v) * unit, true
}
