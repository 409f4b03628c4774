package retry

import "sync"

// The default budget: gRPC's example retry throttling policy.
const (
	DefaultBudgetTokens = 10
	DefaultBudgetRatio  = 0.1
)

// Budget limits retries across calls. It holds up to maxTokens tokens and
// starts full; an attempt that fails with a retryable code takes one, a
// success gives back ratio of one, and retries (and hedged attempts) are
// allowed only while more than half the tokens are left. With the defaults
// (10 tokens, 0.1), retries stop after about five failures in a row and
// resume once successes outnumber failures ten to one.
//
// A Budget is safe for concurrent use and may be shared by several
// interceptors, say all the clients of one server.
type Budget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	ratio  float64
}

// NewBudget returns a full budget of maxTokens tokens (at least 1) that a
// success refills by ratio.
func NewBudget(maxTokens int, ratio float64) *Budget {
	m := float64(max(maxTokens, 1))
	return &Budget{tokens: m, max: m, ratio: max(ratio, 0)}
}

func (b *Budget) failure() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = max(b.tokens-1, 0)
	b.mu.Unlock()
}

func (b *Budget) success() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, b.max)
	b.mu.Unlock()
}

func (b *Budget) allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens > b.max/2
}

// Tokens returns the tokens left.
func (b *Budget) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}
