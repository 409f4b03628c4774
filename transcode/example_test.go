package transcode_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/transcode"
	transcodetestv1 "polyconnect.dev/transcode/internal/gen/transcodetest/v1"
	"polyconnect.dev/transcode/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// Serve a service's RPC handler and its REST routes on one mux. The library
// service's GetBook is annotated with
//
//	option (google.api.http) = {get: "/v1/{name=shelves/*/books/*}"};
func Example() {
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(library{}))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{
		transcodetestv1.File_transcodetest_v1_library_proto.Services().ByName("LibraryService"),
	}, transcode.WithMarshalOptions(protojson.MarshalOptions{})) // only the fields that are set
	if err != nil {
		panic(err)
	}
	mux.Handle("/", rest)

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/v1/shelves/1/books/missing", nil))
	fmt.Println(w.Code, strings.ReplaceAll(w.Body.String(), " ", ""))

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "/v1/shelves/1/books?book_id=dune", strings.NewReader(`{"title":"Dune"}`)))
	fmt.Println(w.Code, strings.ReplaceAll(w.Body.String(), " ", ""))
	// Output:
	// 404 {"code":5,"message":"nobookshelves/1/books/missing","details":[]}
	// 200 {"name":"shelves/1/books/dune","title":"Dune"}
}

// List the routes a handler serves, and the methods a CORS policy in front
// of it must allow.
func ExampleHandler_Routes() {
	rest, err := transcode.New(http.NotFoundHandler(), []protoreflect.ServiceDescriptor{
		transcodetestv1.File_transcodetest_v1_library_proto.Services().ByName("LibraryService"),
	})
	if err != nil {
		panic(err)
	}
	for _, r := range rest.Routes()[:4] {
		fmt.Println(r.Method, r.Pattern, "->", r.Procedure)
	}
	fmt.Println(rest.Methods())
	// Output:
	// GET /v1/{name=shelves/*/books/*} -> /polyconnect.transcodetest.v1.LibraryService/GetBook
	// GET /v1/books/{name} -> /polyconnect.transcodetest.v1.LibraryService/GetBook
	// GET /v1/{parent=shelves/*}/books -> /polyconnect.transcodetest.v1.LibraryService/ListBooks
	// POST /v1/{parent=shelves/*}/books -> /polyconnect.transcodetest.v1.LibraryService/CreateBook
	// [DELETE GET PATCH POST PUT SEARCH]
}
