// Package interoptest holds the programs that run grpc-go's interop test
// cases (google.golang.org/grpc/interop) through grpccompat: cmd/compatclient
// (grpc-go's client cases through grpccompat.ClientConn, on any transport and
// protocol) and cmd/compatserver (grpc-go's TestServiceServer mounted on a
// grpccompat.Registrar, on any transport). ../interop.sh runs them. It is a
// module of its own, unpublished, so that grpccompat's requirements stay
// small.
package interoptest
