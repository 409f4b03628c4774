//go:build !race

package otelrpc_test

const raceEnabled = false
