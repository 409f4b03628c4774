package balance_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"polyconnect.dev/protocol/transport/balance"
)

// fakeBackend answers 200, or fails every exchange like a replica that
// closed its connection after the request went out.
type fakeBackend struct {
	addr  string
	fails bool
	mu    *sync.Mutex
	seen  *[]string
}

func (b *fakeBackend) Do(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	*b.seen = append(*b.seen, req.Method+" "+b.addr)
	b.mu.Unlock()
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if b.fails {
		return nil, io.ErrUnexpectedEOF
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("ok"))}, nil
}

func (b *fakeBackend) CloseIdleConnections() {}

// A safe request (GET: Connect's calls to methods without side effects)
// that fails on one replica goes to another; a POST that may have reached
// the replica is not resent, since only the RPC method can say whether
// repeating it is safe.
func TestSafeRequestsGoToAnotherReplica(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	c, err := balance.New("svc:80", balance.Static("bad:1", "good:2"), func(addr string) (balance.Backend, error) {
		return &fakeBackend{addr: addr, fails: addr == "bad:1", mu: &mu, seen: &seen}, nil
	}, balance.WithPolicy(balance.RoundRobin))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	var gets, posts int
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, "http://svc:80/x", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			gets++
		}
		req, _ = http.NewRequest(http.MethodPost, "http://svc:80/x", strings.NewReader("body"))
		resp, err := c.Do(req)
		switch {
		case err == nil:
			resp.Body.Close()
			posts++
		case !errors.Is(err, io.ErrUnexpectedEOF):
			t.Errorf("POST: %v", err)
		}
	}
	if gets != 4 {
		t.Errorf("%d of 4 GETs succeeded; calls %v", gets, seen)
	}
	if posts == 0 {
		t.Errorf("no POST succeeded once the bad replica was ejected: %v", seen)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seen {
		if s == "POST bad:1" && i+1 < len(seen) && seen[i+1] == "POST good:2" {
			t.Errorf("a failed POST was resent: %v", seen)
		}
	}
}
