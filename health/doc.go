// Package health serves grpc.health.v1 (work in progress; see issue 12).
package health
