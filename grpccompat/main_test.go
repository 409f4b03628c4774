package grpccompat_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// call and stream the tests make through the Registrar and the ClientConn,
// deadlines and errors included, must leave nothing running behind it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
