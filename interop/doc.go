// Package interop holds interoperability tests that run polyconnect against
// real peers nobody here wrote: connect-go and grpc-go. It is test-only and
// unpublished; it is the one place, besides bench, where the peers are
// imported.
package interop
