package transcode_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	_, rest := newLibrary(t, nil)
	doc, err := rest.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q", d.OpenAPI)
	}
	// Every route is an operation.
	ops := 0
	for _, item := range d.Paths {
		ops += len(item)
	}
	if routes := len(rest.Routes()); ops != routes {
		t.Errorf("%d operations for %d routes", ops, routes)
	}
	get := d.Paths["/v1/{name}"]["get"]
	if get == nil {
		t.Fatalf("no GET /v1/{name}: paths %v", keys(d.Paths))
	}
	params, _ := json.Marshal(get["parameters"])
	if !strings.Contains(string(params), `"in":"path","name":"name","required":true`) ||
		!strings.Contains(string(params), "shelves/*/books/*") {
		t.Errorf("GET /v1/{name} parameters: %s", params)
	}
	list, _ := json.Marshal(d.Paths["/v1/{parent}/books"]["get"]["parameters"])
	for _, q := range []string{`"name":"pageSize"`, `"name":"tags"`, `"name":"filter.author"`, `"name":"filter.minPages"`, `"name":"genre"`} {
		if !strings.Contains(string(list), q) {
			t.Errorf("ListBooks query parameters lack %s: %s", q, list)
		}
	}
	if strings.Contains(string(list), `"name":"parent","in":"query"`) {
		t.Errorf("the path variable is also a query parameter: %s", list)
	}
	if d.Paths["/v1/books:search"]["x-method-search"] == nil {
		t.Errorf("custom method SEARCH missing: %v", d.Paths["/v1/books:search"])
	}
	book, _ := json.Marshal(d.Components.Schemas["polyconnect.transcodetest.v1.Book"])
	for _, want := range []string{`"isbnCode":{"type":"string"}`, `"pageCount":{"format":"int64","type":"string"}`, `"GENRE_FICTION"`, `"publishTime":{"allOf":[{"$ref":"#/components/schemas/google.protobuf.Timestamp"}],"nullable":true}`} {
		if !strings.Contains(string(book), want) {
			t.Errorf("Book schema lacks %s: %s", want, book)
		}
	}
	// Every reference resolves.
	for _, ref := range refs(doc) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := d.Components.Schemas[name]; !ok || name == ref {
			t.Errorf("dangling reference %s", ref)
		}
	}
	w := httptest.NewRecorder()
	rest.OpenAPIHandler().ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	served, _ := io.ReadAll(w.Body)
	if w.Code != 200 || string(served) != string(doc) || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("served document: status %d, %d bytes", w.Code, len(served))
	}
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// refs lists every "$ref" value in a JSON document.
func refs(doc []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var root any
	_ = json.Unmarshal(doc, &root)
	walk(root)
	return out
}
