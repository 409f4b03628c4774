package retry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// call, stream, server or client that a test ended (by cancellation, an
// early return, a peer reset, a deadline or a shutdown) must leave nothing
// running behind it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
