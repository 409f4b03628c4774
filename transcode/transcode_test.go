package transcode_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// jsonEqual reports whether two JSON documents are the same value.
func jsonEqual(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("response is not JSON: %v: %q", err, got)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// jsonField returns a top-level field of a JSON object.
func jsonField(t *testing.T, doc, key string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, doc)
	}
	return m[key]
}

const emptyBook = `"title":"","author":"","genre":"GENRE_UNSPECIFIED","pageCount":"0","tags":[],"publishTime":null,"isbnCode":"","labels":{}`

func TestRoutes(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	cases := []struct {
		name, method, target, ct, body string
		status                         int
		want                           string // the whole JSON response
		contains                       string // or a part of the body
	}{
		{
			name: "get nested variable", method: "GET", target: "/v1/shelves/s1/books/b1",
			status: 200,
			want:   `{"name":"shelves/s1/books/b1","title":"Title of shelves/s1/books/b1","author":"Ada","genre":"GENRE_SCIENCE","pageCount":"1099511627776","tags":["a","b"],"publishTime":"2024-05-06T07:08:09Z","isbnCode":"978-3","labels":{"k":"v"}}`,
		},
		{
			name: "additional binding", method: "GET", target: "/v1/books/b2",
			status: 200, contains: `"name":"b2"`,
		},
		{
			name: "single-segment variable decodes an escaped slash", method: "GET", target: "/v1/books/a%2Fb",
			status: 200, contains: `"name":"a/b"`,
		},
		{
			name: "not found from the handler", method: "GET", target: "/v1/shelves/s1/books/missing",
			status: 404, want: `{"code":5,"message":"no book shelves/s1/books/missing","details":[]}`,
		},
		{
			name: "no route", method: "GET", target: "/v2/nothing",
			status: 404, want: `{"code":5,"message":"Not Found","details":[]}`,
		},
		{
			name: "wrong method", method: "DELETE", target: "/v1/books/b2",
			status: 405, want: `{"code":12,"message":"Method Not Allowed","details":[]}`,
		},
		{
			name: "query parameters", method: "GET",
			target: "/v1/shelves/s1/books?pageSize=2&page_token=tok&tags=x&tags=y&genre=GENRE_HISTORY&filter.author=Bo&filter.minPages=12&filter.published_after=2020-01-02T03:04:05Z",
			status: 200,
			want:   `{"books":[{"name":"shelves/s1/books/0","author":"Bo","genre":"GENRE_HISTORY","tags":["x","y"],"pageCount":"12","publishTime":"2020-01-02T03:04:05Z","title":"","isbnCode":"","labels":{}},{"name":"shelves/s1/books/1","author":"Bo","genre":"GENRE_HISTORY","tags":["x","y"],"pageCount":"12","publishTime":"2020-01-02T03:04:05Z","title":"","isbnCode":"","labels":{}}],"nextPageToken":"tok"}`,
		},
		{
			name: "enum by number in the query", method: "GET", target: "/v1/shelves/s1/books?page_size=1&genre=3",
			status: 200, contains: `"genre":"GENRE_SCIENCE"`,
		},
		{
			name: "query cannot override a path variable", method: "GET", target: "/v1/shelves/s1/books?page_size=1&parent=shelves/evil",
			status: 200, contains: `"name":"shelves/s1/books/0"`,
		},
		{
			name: "unknown query parameter ignored", method: "GET", target: "/v1/shelves/s1/books?page_size=1&_=123",
			status: 200, contains: `"name":"shelves/s1/books/0"`,
		},
		{
			name: "bad query value", method: "GET", target: "/v1/shelves/s1/books?page_size=many",
			status: 400, contains: `"code":3`,
		},
		{
			name: "singular query field given twice", method: "GET", target: "/v1/shelves/s1/books?page_size=1&pageSize=2",
			status: 400, contains: `takes one value`,
		},
		{
			name: "bad enum in the query", method: "GET", target: "/v1/shelves/s1/books?genre=POETRY",
			status: 400, contains: `"code":3`,
		},
		{
			name: "body field", method: "POST", target: "/v1/shelves/s1/books?book_id=b9", ct: "application/json",
			body:   `{"title":"Dune","pageCount":"412","isbnCode":"x"}`,
			status: 200,
			want:   `{"name":"shelves/s1/books/b9","title":"Dune","author":"","genre":"GENRE_UNSPECIFIED","pageCount":"412","tags":[],"publishTime":null,"isbnCode":"x","labels":{}}`,
		},
		{
			// The transcoder's own decoder reads the body above; this one,
			// with an escape, a tag list given to the other name and an
			// unknown field, it leaves to protojson: the same book results.
			name: "body field protojson reads", method: "POST", target: "/v1/shelves/s1/books?book_id=b9", ct: "application/json",
			body:   `{"title":"D\u0075ne","page_count":412,"isbnCode":"x","tags":[],"unknownField":{"a":[1.5]}}`,
			status: 200,
			want:   `{"name":"shelves/s1/books/b9","title":"Dune","author":"","genre":"GENRE_UNSPECIFIED","pageCount":"412","tags":[],"publishTime":null,"isbnCode":"x","labels":{}}`,
		},
		{
			name: "body field given twice", method: "POST", target: "/v1/shelves/s1/books?book_id=b9",
			body: `{"title":"a","title":"b"}`, status: 400, contains: `duplicate field`,
		},
		{
			name: "body field out of range", method: "POST", target: "/v1/shelves/s1/books?book_id=b9",
			body: `{"title":"a","pageCount":"9223372036854775808"}`, status: 400, contains: `"code":3`,
		},
		{
			name: "put binding with the id in the path", method: "PUT", target: "/v1/shelves/s1/books/b7",
			body: `{"title":"Emma"}`, status: 200, contains: `"name":"shelves/s1/books/b7"`,
		},
		{
			name: "error from the handler with a body", method: "POST", target: "/v1/shelves/s1/books",
			body: `{"author":"nobody"}`, status: 400, want: `{"code":3,"message":"a book needs a title","details":[]}`,
		},
		{
			name: "malformed JSON body", method: "POST", target: "/v1/shelves/s1/books",
			body: `{"title":`, status: 400, contains: `"code":3`,
		},
		{
			name: "wrong JSON type", method: "POST", target: "/v1/shelves/s1/books",
			body: `{"title":12}`, status: 400, contains: `"code":3`,
		},
		{
			name: "trailing data after the body", method: "POST", target: "/v1/shelves/s1/books",
			body: `{"title":"a"} {"title":"b"}`, status: 400, contains: `"code":3`,
		},
		{
			name: "unknown body field ignored", method: "POST", target: "/v1/shelves/s1/books",
			body: `{"title":"a","colour":"red"}`, status: 200, contains: `"title":"a"`,
		},
		{
			name: "patch fills the update mask from the body", method: "PATCH", target: "/v1/shelves/s1/books/b1",
			body: `{"title":"New","publishTime":"2021-01-01T00:00:00Z","labels":{"a":"b"}}`, status: 200,
			contains: `"tags":["labels","publish_time","title"]`,
		},
		{
			name: "patch keeps a mask the client sent", method: "PATCH", target: "/v1/shelves/s1/books/b1?update_mask=author",
			body: `{"title":"New"}`, status: 200, contains: `"tags":["author"]`,
		},
		{
			name: "patch path variable wins over the body", method: "PATCH", target: "/v1/shelves/s1/books/b1",
			body: `{"name":"shelves/x/books/y","title":"T"}`, status: 200, contains: `"name":"shelves/s1/books/b1"`,
		},
		{
			name: "delete returns Empty", method: "DELETE", target: "/v1/shelves/s1/books/b1",
			status: 200, want: `{}`,
		},
		{
			name: "failed precondition is 400", method: "DELETE", target: "/v1/shelves/s1/books/locked",
			status: 400, want: `{"code":9,"message":"book shelves/s1/books/locked is locked","details":[]}`,
		},
		{
			name: "delete with a query flag", method: "DELETE", target: "/v1/shelves/s1/books/locked?force=true",
			status: 200, want: `{}`,
		},
		{
			name: "custom verb with body star", method: "POST", target: "/v1/shelves/s1/books/b1:archive",
			body: `{"reason":"old"}`, status: 200,
			want: `{"book":{"name":"shelves/s1/books/b1","title":"old",` + emptyBook[strings.Index(emptyBook, `"author"`):] + `},"archiveTime":"2024-05-06T07:08:09Z"}`,
		},
		{
			name: "custom HTTP method", method: "SEARCH", target: "/v1/books:search",
			body: `{"query":"q","genres":["GENRE_FICTION","GENRE_HISTORY"]}`, status: 200, contains: `"genre":"GENRE_HISTORY"`,
		},
		{
			name: "literal verb beats a variable", method: "GET", target: "/v1/books:search?query=z&genres=GENRE_FICTION",
			status: 200, contains: `"title":"z"`,
		},
		{
			name: "response_body", method: "GET", target: "/v1/shelves/s3:books",
			status: 200, contains: `"name":"shelves/s3/books/1"`,
		},
		{
			name: "http body response", method: "GET", target: "/v1/files/a/b/c.txt",
			status: 200, contains: "contents of a/b/c.txt",
		},
		{
			name: "deep wildcard keeps an escaped slash", method: "GET", target: "/v1/files/a%2Fb/c",
			status: 200, contains: "contents of a%2Fb/c",
		},
		{
			name: "http body error", method: "GET", target: "/v1/files/missing",
			status: 404, contains: `"code":5`,
		},
		{
			name: "http body request", method: "POST", target: "/v1/files/docs/x.bin:upload", ct: "application/octet-stream",
			body: "\x00\x01\x02binary", status: 200,
			want: `{"path":"docs/x.bin","size":"9","contentType":"application/octet-stream"}`,
		},
		{
			name: "echo error with a detail", method: "POST", target: "/v1/echo",
			body: `{"failCode":7}`, status: 403,
			want: `{"code":7,"message":"echo failed as asked","details":[{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"detail of the failure"}]}`,
		},
		{
			name: "echo unauthenticated", method: "POST", target: "/v1/echo", body: `{"failCode":16}`, status: 401, contains: `"code":16`,
		},
		{
			name: "echo unavailable", method: "POST", target: "/v1/echo", body: `{"failCode":14}`, status: 503, contains: `"code":14`,
		},
		{
			name: "echo canceled", method: "POST", target: "/v1/echo", body: `{"failCode":1}`, status: 499, contains: `"code":1`,
		},
		{
			name: "path variables of several types", method: "GET", target: "/v1/echo/hello%20world/-42/GENRE_FICTION",
			status: 200, contains: `"stringValue":"hello world","bytesValue":"","enumValue":"GENRE_FICTION"`,
		},
		{
			name: "bad int64 path variable", method: "GET", target: "/v1/echo/x/forty/GENRE_FICTION",
			status: 400, contains: `path variable \"int64_value\"`,
		},
		{
			name: "bad enum path variable", method: "GET", target: "/v1/echo/x/1/NOPE",
			status: 400, contains: `"code":3`,
		},
		{
			name: "body on a nested message field", method: "PUT", target: "/v1/echo/shelves/s/books/b",
			body: `{"title":"T"}`, status: 200, contains: `"nested":{"name":"shelves/s/books/b","title":"T"`,
		},
		{
			name: "repeated scalar body and response_body", method: "POST", target: "/v1/echo:values",
			body: `[1,2,3]`, status: 200, want: `[1,2,3]`,
		},
		{
			name: "repeated body that tries to close the object", method: "POST", target: "/v1/echo:values",
			body: `[1]}, "failCode": 3, "x": {`, status: 400, contains: `not a JSON value`,
		},
		{
			name: "empty body star", method: "POST", target: "/v1/echo", status: 200, contains: `"int32Value":0`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := do(mux, c.method, c.target, c.ct, c.body)
			if w.Code != c.status {
				t.Errorf("status %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			got := w.Body.String()
			if c.want != "" && !jsonEqual(t, got, c.want) {
				t.Errorf("body\n%s\nwant\n%s", got, c.want)
			}
			if c.contains != "" && !strings.Contains(strings.ReplaceAll(got, " ", ""), strings.ReplaceAll(c.contains, " ", "")) {
				t.Errorf("body\n%s\ndoes not contain\n%s", got, c.contains)
			}
			if w.Code >= 400 && w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("error Content-Type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestWellKnownTypesRoundTrip(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	body := `{
		"doubleValue": 1.5, "floatValue": "NaN", "int32Value": -3, "int64Value": "-9007199254740993",
		"uint32Value": 4000000000, "uint64Value": "18446744073709551615", "sint32Value": -1, "sint64Value": "-2",
		"fixed32Value": 7, "fixed64Value": "8", "sfixed32Value": -9, "sfixed64Value": "-10",
		"boolValue": true, "stringValue": "s", "bytesValue": "AAEC", "enumValue": "GENRE_HISTORY",
		"repeatedInt32": [1, 2], "repeatedString": ["a"], "repeatedEnum": ["GENRE_FICTION", 2],
		"mapStringInt32": {"a": 1}, "mapInt32String": {"5": "five"},
		"nested": {"name": "n"}, "repeatedNested": [{"title": "t"}],
		"optionalString": "", "choiceInt64": "77",
		"timestamp": "1999-12-31T23:59:59.123Z", "duration": "3.500s", "fieldMask": "a.b,cD",
		"struct": {"k": [1, "two", null, {"x": true}]}, "value": 4.5, "listValue": ["x", 1],
		"any": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1s"}, "empty": {},
		"doubleWrapper": 2.5, "floatWrapper": 1, "int64Wrapper": "64", "uint64Wrapper": "65",
		"int32Wrapper": 32, "uint32Wrapper": 33, "boolWrapper": false, "stringWrapper": "w", "bytesWrapper": "/w=="
	}`
	w := do(mux, "POST", "/v1/echo", "application/json", body)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := map[string]string{
		"floatValue":     `"NaN"`,
		"int64Value":     `"-9007199254740993"`,
		"uint64Value":    `"18446744073709551615"`,
		"bytesValue":     `"AAEC"`,
		"repeatedEnum":   `["GENRE_FICTION","GENRE_HISTORY"]`,
		"mapInt32String": `{"5":"five"}`,
		"optionalString": `""`,
		"choiceInt64":    `"77"`,
		"timestamp":      `"1999-12-31T23:59:59.123Z"`,
		"duration":       `"3.500s"`,
		"fieldMask":      `"a.b,cD"`,
		"struct":         `{"k":[1,"two",null,{"x":true}]}`,
		"value":          `4.5`,
		"listValue":      `["x",1]`,
		"any":            `{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}`,
		"empty":          `{}`,
		"floatWrapper":   `1`,
		"int64Wrapper":   `"64"`,
		"boolWrapper":    `false`,
		"bytesWrapper":   `"/w=="`,
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !jsonEqual(t, string(got[k]), v) {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}

func TestWellKnownTypesFromQuery(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	q := "timestamp=2001-02-03T04:05:06Z&duration=1m30s&fieldMask=a,b.c&int64Wrapper=5&boolWrapper=true&stringWrapper=x" +
		"&struct=%7B%22a%22%3A1%7D&value=%22v%22&bytesValue=_w&mapStringInt32%5Bk%5D=4&repeatedEnum=GENRE_FICTION&repeatedEnum=2" +
		"&nested.title=T&doubleValue=Infinity&empty=%7B%7D"
	w := do(mux, "GET", "/v1/echo?"+q, "", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := map[string]string{
		"timestamp":      `"2001-02-03T04:05:06Z"`,
		"duration":       `"90s"`,
		"fieldMask":      `"a,b.c"`,
		"int64Wrapper":   `"5"`,
		"boolWrapper":    `true`,
		"stringWrapper":  `"x"`,
		"struct":         `{"a":1}`,
		"value":          `"v"`,
		"bytesValue":     `"/w=="`,
		"mapStringInt32": `{"k":4}`,
		"repeatedEnum":   `["GENRE_FICTION","GENRE_HISTORY"]`,
		"doubleValue":    `"Infinity"`,
		"empty":          `{}`,
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !jsonEqual(t, string(got[k]), v) {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if title := jsonField(t, w.Body.String(), "nested").(map[string]any)["title"]; title != "T" {
		t.Errorf("nested.title %v", title)
	}
	for _, bad := range []string{
		"timestamp=yesterday", "duration=long", "int64Wrapper=x", "any=1", "repeatedNested=x",
		"mapStringInt32=4", "int32Value=1&int32Value=2", "choiceString=a&choiceInt64=1", "nested.title.x=1",
		"a;b=1", "doubleValue=0x10", "doubleValue=inf", "boolValue=yes", "int32Value=2147483648",
	} {
		if w := do(mux, "GET", "/v1/echo?"+bad, "", ""); w.Code != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400: %s", bad, w.Code, w.Body)
		}
	}
}
