// Package grpccompat runs grpc-go's generated code on polyconnect, unchanged.
//
// protoc-gen-go-grpc writes services against grpc.ServiceRegistrar and
// clients against grpc.ClientConnInterface. [Registrar] is a
// grpc.ServiceRegistrar: RegisterFooServer(reg, impl) mounts the service as
// polyconnect handlers, which answer Connect (binary and JSON, GET for
// methods without side effects), gRPC and gRPC-Web on any transport.
// [ClientConn] is a grpc.ClientConnInterface: NewFooClient(conn) calls over
// any polyconnect transport (HTTP/1.1, HTTP/2, HTTP/3) and protocol.
//
// What grpc-go code relies on carries over: metadata from
// google.golang.org/grpc/metadata, grpc.SetHeader, grpc.SendHeader and
// grpc.SetTrailer in handlers, peer.FromContext, errors from
// google.golang.org/grpc/status (code, message and details, on every
// protocol), grpc-go's unary and stream interceptors on both sides,
// grpc.Header and grpc.Trailer call options, and deadlines. What is
// grpc-go's own machinery does not: service config, name resolvers and
// load balancers, xDS, channelz, grpc.ServerOption and grpc.DialOption.
//
// Binary metadata ("-bin" keys) is base64-encoded on the wire, as gRPC
// requires, on every protocol. Metadata keys that the protocols reserve
// (grpc-*, connect-*, content-type, te, …) are not sent.
package grpccompat
