package logging

import (
	"testing"

	"polyconnect.dev/interceptors/retry"
)

// The logger reads the header the retry interceptor writes.
func TestAttemptHeaderIsRetrys(t *testing.T) {
	if attemptHeader != retry.AttemptHeader {
		t.Fatalf("logging reads %q, retry writes %q", attemptHeader, retry.AttemptHeader)
	}
}
