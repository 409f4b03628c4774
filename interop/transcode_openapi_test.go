package interop

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/transcode"

	lib "polyconnect.dev/interop/internal/gen/transcodetest/v1"
	"polyconnect.dev/interop/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// TestTranscoderOpenAPIValidates loads the transcoder's OpenAPI document with
// kin-openapi, validates it against the OpenAPI 3 specification, and checks
// real responses of the transcoder against the schemas the document gives
// their operations.
func TestTranscoderOpenAPIValidates(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(pcLibrary{}))
	sd := lib.File_transcodetest_v1_library_proto.Services().ByName("LibraryService")
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{sd})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	raw, err := rest.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3: %v", err)
	}
	cases := []struct {
		method, path, target, body string
	}{
		{"GET", "/v1/{name}", "/v1/shelves/s/books/b", ""},
		{"GET", "/v1/{name}", "/v1/shelves/s/books/missing", ""},
		{"GET", "/v1/{parent}/books", "/v1/shelves/s/books?page_size=3&tags=a&filter.minPages=5&filter.published_after=2020-01-01T00:00:00Z", ""},
		{"POST", "/v1/{parent}/books", "/v1/shelves/s/books", `{"title":"T","publishTime":"2020-01-01T00:00:00Z","labels":{"a":"b"}}`},
		{"POST", "/v1/{parent}/books", "/v1/shelves/s/books", `{"author":"no title"}`},
		{"PATCH", "/v1/{book.name}", "/v1/shelves/s/books/b", `{"title":"T"}`},
		{"DELETE", "/v1/{name}", "/v1/shelves/s/books/b", ""},
		{"POST", "/v1/{name}:archive", "/v1/shelves/s/books/b:archive", `{"reason":"r"}`},
		{"GET", "/v1/{name}:books", "/v1/shelves/s:books", ""},
		{"POST", "/v1/files/{path}:upload", "/v1/files/a/b:upload", ""},
		{"POST", "/v1/echo", "/v1/echo", `{"int64Value":"5","timestamp":"2020-01-01T00:00:00Z","duration":"1s","struct":{"a":[1]},"value":null,"int32Wrapper":3,"any":{"@type":"type.googleapis.com/google.protobuf.Empty","value":{}},"mapInt32String":{"1":"x"},"repeatedEnum":["GENRE_FICTION"]}`},
		{"POST", "/v1/echo", "/v1/echo", `{"failCode":7}`},
		{"POST", "/v1/echo:values", "/v1/echo:values", `[1,2]`},
	}
	for _, c := range cases {
		item := doc.Paths.Find(c.path)
		if item == nil {
			t.Errorf("no path %s in the document", c.path)
			continue
		}
		op := item.GetOperation(c.method)
		if op == nil {
			t.Errorf("no %s %s in the document", c.method, c.path)
			continue
		}
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		res := op.Responses.Status(w.Code)
		if res == nil {
			res = op.Responses.Default()
		}
		if res == nil || res.Value == nil || res.Value.Content.Get("application/json") == nil {
			t.Errorf("%s %s: no JSON response for status %d in the document", c.method, c.target, w.Code)
			continue
		}
		var body any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %v", c.method, c.target, err)
		}
		schema := res.Value.Content.Get("application/json").Schema.Value
		if err := schema.VisitJSON(body); err != nil {
			t.Errorf("%s %s (%d): the response does not match its schema: %v\n%s", c.method, c.target, w.Code, err, w.Body)
		}
	}
}
