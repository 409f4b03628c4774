// Package reflection serves gRPC server reflection, versions v1
// (grpc.reflection.v1.ServerReflection) and v1alpha, so that grpcurl,
// buf curl, Postman and other tools can list a server's services and call
// them with no .proto files at hand.
//
// A [Reflector] knows which services to list and where to find their file
// descriptors: by default protoregistry.GlobalFiles, where the code that
// protoc-gen-go generates registers every file. [NewHandlerV1] and
// [NewHandlerV1Alpha] serve it like generated services:
//
//	reflector := reflection.NewReflector([]string{greetv1rpc.GreetServiceName})
//	mux.Handle(reflection.NewHandlerV1(reflector))
//	mux.Handle(reflection.NewHandlerV1Alpha(reflector))
//
// Then, against a server on localhost:8080:
//
//	grpcurl -plaintext localhost:8080 list
//	grpcurl -plaintext localhost:8080 describe greet.v1.GreetService
//	buf curl --protocol grpc --http2-prior-knowledge http://localhost:8080/greet.v1.GreetService/Greet -d '{"name":"Ada"}'
//
// The reflector answers every kind of request: list_services,
// file_by_filename, file_containing_symbol, file_containing_extension and
// all_extension_numbers_of_type. A file comes with the files it imports,
// transitively, except those already sent on the same stream. Requests it
// cannot answer get an ErrorResponse with a gRPC code (NOT_FOUND for unknown
// names), and the stream goes on.
//
// The descriptors of the reflection service itself, and those of package
// health, stay out of protobuf's global registry, so that a program may link
// this package and grpc-go's reflection package together. To describe the
// health service, give its descriptor to the reflector with [WithFiles].
package reflection
