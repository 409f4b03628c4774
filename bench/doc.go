// Package bench holds side-by-side benchmarks of polyconnect, connect-go,
// grpc-go and a bare net/http floor (see README.md). The benchmarks are in
// the package's tests; the servers and clients they drive are in
// internal/harness, shared with the load generator in cmd/load.
package bench
