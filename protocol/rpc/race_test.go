//go:build race

package rpc_test

// raceEnabled: the race detector makes sync.Pool drop objects at random,
// so allocation counts through the rpc stack vary under it.
const raceEnabled = true
