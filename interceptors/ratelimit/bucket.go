package ratelimit

import (
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a TokenBucket tracks unless
// WithMaxKeys says otherwise.
const DefaultMaxKeys = 10_000

// TokenBucket is a Limiter with a token bucket per key: each key may make
// burst calls at once and rate calls a second on average. A new key starts
// with a full bucket.
//
// Memory is bounded: at most MaxKeys buckets are kept (DefaultMaxKeys unless
// set by WithMaxKeys), and a new key beyond that evicts the least recently
// used one. A key that comes back after eviction starts full again, which is
// exactly its state had it been kept once it has been idle for burst/rate
// seconds; so keep MaxKeys above the number of keys active within that time,
// or a stream of new keys (peers) can refill the buckets of old ones.
//
// It is safe for concurrent use.
type TokenBucket struct {
	rate    float64 // tokens a second
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	// lru is a circular list of the buckets, most recently used first;
	// lru itself is the sentinel.
	lru bucket
}

type bucket struct {
	key        string
	tokens     float64
	last       time.Time
	prev, next *bucket
}

// BucketOption configures a TokenBucket.
type BucketOption interface{ applyBucket(*TokenBucket) }

type bucketOptionFunc func(*TokenBucket)

func (f bucketOptionFunc) applyBucket(b *TokenBucket) { f(b) }

// WithMaxKeys bounds the number of keys tracked; values below 1 mean 1.
func WithMaxKeys(n int) BucketOption {
	return bucketOptionFunc(func(b *TokenBucket) { b.maxKeys = max(n, 1) })
}

// WithClock sets the source of the current time, for tests; the default is
// time.Now.
func WithClock(now func() time.Time) BucketOption {
	return bucketOptionFunc(func(b *TokenBucket) { b.now = now })
}

// NewTokenBucket returns a limiter that allows rate calls a second per key,
// in bursts of up to burst calls. A burst below 1 is 1; a rate of 0 allows
// each key its first burst calls and no more.
func NewTokenBucket(rate float64, burst int, opts ...BucketOption) *TokenBucket {
	b := &TokenBucket{
		rate:    max(rate, 0),
		burst:   float64(max(burst, 1)),
		maxKeys: DefaultMaxKeys,
		now:     time.Now,
		buckets: make(map[string]*bucket),
	}
	b.lru.prev, b.lru.next = &b.lru, &b.lru
	for _, o := range opts {
		o.applyBucket(b)
	}
	return b
}

// Allow implements Limiter: it takes a token from key's bucket if there is
// one.
func (b *TokenBucket) Allow(_ context.Context, key string) bool {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.buckets[key]
	if k == nil {
		k = b.add(key, now)
	} else {
		b.unlink(k)
		b.pushFront(k)
		if elapsed := now.Sub(k.last); elapsed > 0 {
			k.tokens = min(b.burst, k.tokens+elapsed.Seconds()*b.rate)
		}
		k.last = now
	}
	if k.tokens < 1 {
		return false
	}
	k.tokens--
	return true
}

// Len returns the number of keys tracked.
func (b *TokenBucket) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buckets)
}

func (b *TokenBucket) add(key string, now time.Time) *bucket {
	var k *bucket
	if len(b.buckets) >= b.maxKeys {
		// Reuse the least recently used bucket for the new key.
		k = b.lru.prev
		b.unlink(k)
		delete(b.buckets, k.key)
	} else {
		k = new(bucket)
	}
	*k = bucket{key: key, tokens: b.burst, last: now}
	b.buckets[key] = k
	b.pushFront(k)
	return k
}

func (b *TokenBucket) unlink(k *bucket) {
	k.prev.next = k.next
	k.next.prev = k.prev
}

func (b *TokenBucket) pushFront(k *bucket) {
	k.prev = &b.lru
	k.next = b.lru.next
	b.lru.next.prev = k
	b.lru.next = k
}
