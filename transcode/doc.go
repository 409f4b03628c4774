// Package transcode serves REST/JSON routes from google.api.http annotations
// beside polyconnect's RPC handlers, on the same mux, port and transport: no
// reverse proxy, no second server.
//
//	mux := http.NewServeMux()
//	mux.Handle(libraryv1rpc.NewLibraryServiceHandler(svc, rpc.WithHandlerInterceptors(auth)))
//	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{
//		libraryv1.File_library_v1_library_proto.Services().ByName("LibraryService"),
//	})
//	if err != nil { … }
//	mux.Handle("/", rest)                            // REST routes
//	mux.Handle("/openapi.json", rest.OpenAPIHandler()) // their OpenAPI 3 document
//
// With the annotation
//
//	rpc GetBook(GetBookRequest) returns (Book) {
//	  option (google.api.http) = {get: "/v1/{name=shelves/*/books/*}"};
//	}
//
// GET /v1/shelves/1/books/2 calls GetBook with name "shelves/1/books/2" and
// answers with the book as JSON.
//
// # How a REST request is served
//
// The [Handler] matches the request to a binding, builds the request message
// from the body, the path variables and the query parameters, and calls the
// method through the http.Handler given to [New] as an in-process Connect
// call (in the proto codec; no network, no goroutine). The RPC handler
// cannot tell the call from any other Connect call: its interceptors,
// authentication, limits, compression settings and the CallInfo in the
// context apply unchanged, and HTTP middleware wrapped around it (CORS,
// tracing) sees the call too. The REST request's headers (Authorization
// included) reach the handler as request headers; [RouteFromContext] tells
// interceptors which REST route the call came from. The response message is
// written as JSON with protojson, errors as google.rpc.Status JSON with the
// HTTP status of their code ([HTTPStatus]).
//
// Bindings are read from the method descriptors at run time: see [New].
//
// # What is supported
//
// Path templates with variables, nested field paths ({book.name=...}),
// multi-segment variables and "*" and "**" wildcards, custom verbs
// (":archive"); GET, PUT, POST, DELETE, PATCH and custom methods;
// additional_bindings; body "*", a body field (of any type), and
// response_body; google.api.HttpBody as the request, as the body field, and
// as the response (raw bytes with their content type); every field type of
// the proto3 JSON mapping, well-known types included, in bodies, and in path
// variables and query parameters where they have a string form; repeated
// fields and maps in query parameters (tags=a&tags=b, labels[k]=v); the
// update mask of a PATCH filled from the fields in its body; streams of
// every kind as newline-delimited JSON.
//
// Client- and bidi-streaming bindings take a stream of request messages as
// newline-delimited JSON (or a raw body for google.api.HttpBody requests);
// a client stream answers like a unary call, a bidi stream like a server
// stream.
//
// # Bad input
//
// A path variable or query parameter that does not parse as its field's type,
// a malformed or mistyped JSON body, trailing data after it, a field set twice
// are INVALID_ARGUMENT (HTTP 400). A body larger than [WithReadMaxBytes]
// (after gzip decompression) is RESOURCE_EXHAUSTED, sent with HTTP 413, and is
// not read further. Unknown query parameters and unknown JSON fields are
// ignored, as by grpc-gateway, unless [WithRejectUnknownQueryParameters] or
// [WithRejectUnknownFields].
package transcode
