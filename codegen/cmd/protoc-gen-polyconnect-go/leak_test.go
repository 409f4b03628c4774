package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// generator and the code it writes start none, and must not start to.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
