//go:build race

package h2

// raceEnabled reports whether the race detector is on: tests that move
// gigabytes move less under it.
const raceEnabled = true
