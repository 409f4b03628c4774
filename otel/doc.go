// Package otelrpc is polyconnect's OpenTelemetry interceptor (work in progress; see issue 11).
package otelrpc
