package transport_test

import (
	"testing"

	"polyconnect.dev/protocol/internal/leakcheck"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// call, stream, server or client that a test ended (by cancellation, an
// early handler return, a peer reset, a deadline or a shutdown) must leave
// nothing running behind it.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}
