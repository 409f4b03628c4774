package interop

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/transcode"

	lib "polyconnect.dev/interop/internal/gen/transcodetest/v1"
	"polyconnect.dev/interop/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// sideBySide serves library.proto twice on loopback: grpc-gateway proxying
// to grpc-go, and polyconnect's transcoder calling its RPC handler.
type sideBySide struct {
	gateway, transcoder string // base URLs
	client              *http.Client
}

// transcoderReadMax is the transcoder's body limit in the side-by-side test:
// small enough that one case can pass it.
const transcoderReadMax = 1 << 20

func newSideBySide(t *testing.T) *sideBySide {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	lib.RegisterLibraryServiceServer(gs, grpcLibrary{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	gwmux := runtime.NewServeMux()
	if err := lib.RegisterLibraryServiceHandlerFromEndpoint(ctx, gwmux, lis.Addr().String(),
		[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(gwmux)
	t.Cleanup(gw.Close)

	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(pcLibrary{}))
	sd := lib.File_transcodetest_v1_library_proto.Services().ByName("LibraryService")
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{sd}, transcode.WithReadMaxBytes(transcoderReadMax))
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	pc := httptest.NewServer(mux)
	t.Cleanup(pc.Close)
	return &sideBySide{gateway: gw.URL, transcoder: pc.URL, client: &http.Client{Timeout: 30 * time.Second}}
}

type exchange struct {
	status      int
	contentType string
	body        string
}

func (s *sideBySide) send(t *testing.T, base, method, path, contentType, body string) exchange {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, base+path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), body: string(b)}
}

// How a case's two responses must compare.
const (
	same     = iota // the same status and the same JSON (or bytes)
	sameCode        // the same status and google.rpc.Status code; the messages are each side's own words
	differs         // a difference listed in transcode/README.md; want is the transcoder's status
)

// TestTranscoderSideBySideWithGRPCGateway sends each request to grpc-gateway
// (in front of grpc-go) and to the transcoder (in front of polyconnect's
// handler), serving the same implementation, and compares the answers.
// Every difference is listed in transcode/README.md ("Differences from
// grpc-gateway") under the name given here.
func TestTranscoderSideBySideWithGRPCGateway(t *testing.T) {
	s := newSideBySide(t)
	big := `{"title":"` + strings.Repeat("x", transcoderReadMax) + `"}`
	cases := []struct {
		name, method, path, ct, body string
		compare                      int
		want                         int    // differs: the transcoder's status
		reason                       string // differs: the README's name for it
	}{
		// Paths and variables.
		{name: "nested variable", method: "GET", path: "/v1/shelves/s1/books/b1"},
		{name: "additional binding", method: "GET", path: "/v1/books/b2"},
		{name: "variable with a dot and dash", method: "GET", path: "/v1/shelves/s.1/books/b-2"},
		{name: "unicode in a variable", method: "GET", path: "/v1/shelves/%C3%A9t%C3%A9/books/b"},
		{name: "escaped space in a variable", method: "GET", path: "/v1/shelves/a%20b/books/c"},
		{name: "escaped slash in a single-segment variable", method: "GET", path: "/v1/books/a%2Fb", compare: differs, want: 200, reason: "escaped slash"},
		{name: "deep wildcard", method: "GET", path: "/v1/files/a/b/c.txt"},
		{name: "deep wildcard, one segment", method: "GET", path: "/v1/files/readme"},
		{name: "deep wildcard with an escaped slash", method: "GET", path: "/v1/files/a%2Fb/c", compare: differs, want: 200, reason: "escaped slash"},
		{name: "deep wildcard, missing file", method: "GET", path: "/v1/files/missing"},
		{name: "custom verb", method: "POST", path: "/v1/shelves/s/books/b:archive", body: `{"reason":"old"}`},
		{name: "custom verb, empty body", method: "POST", path: "/v1/shelves/s/books/b:archive"},
		{name: "verb literal route", method: "GET", path: "/v1/books:search?query=q&genres=GENRE_FICTION&genres=GENRE_SCIENCE"},
		{name: "custom HTTP method", method: "SEARCH", path: "/v1/books:search", body: `{"query":"q","genres":["GENRE_HISTORY"]}`},
		{name: "response_body", method: "GET", path: "/v1/shelves/s3:books"},
		{name: "no route", method: "GET", path: "/v2/nothing"},
		{name: "no route under a known prefix", method: "GET", path: "/v1/shelves/s/nothing/x/y"},
		{name: "wrong method", method: "DELETE", path: "/v1/books/b2", compare: differs, want: 405, reason: "method not allowed"},
		{name: "trailing slash", method: "GET", path: "/v1/books/", compare: differs, want: 404, reason: "empty segment"},
		{name: "path variables of three types", method: "GET", path: "/v1/echo/hello/-42/GENRE_FICTION"},
		{name: "enum path variable by number", method: "GET", path: "/v1/echo/hello/7/2"},
		{name: "bad int64 path variable", method: "GET", path: "/v1/echo/x/forty/GENRE_FICTION", compare: sameCode},
		{name: "bad enum path variable", method: "GET", path: "/v1/echo/x/1/NOPE", compare: sameCode},
		{name: "int64 path variable out of range", method: "GET", path: "/v1/echo/x/9223372036854775808/1", compare: sameCode},
		// Query parameters.
		{name: "query scalars", method: "GET", path: "/v1/shelves/s1/books?pageSize=2&page_token=tok&genre=GENRE_HISTORY"},
		{name: "query repeated", method: "GET", path: "/v1/shelves/s1/books?page_size=1&tags=x&tags=y&tags=z"},
		{name: "query nested", method: "GET", path: "/v1/shelves/s1/books?page_size=1&filter.author=Bo&filter.minPages=12"},
		{name: "query nested timestamp", method: "GET", path: "/v1/shelves/s1/books?page_size=1&filter.published_after=2020-01-02T03:04:05Z"},
		{name: "query enum by number", method: "GET", path: "/v1/shelves/s1/books?page_size=1&genre=3"},
		{name: "query cannot override a path variable", method: "GET", path: "/v1/shelves/s1/books?page_size=1&parent=shelves/evil"},
		{name: "unknown query parameter", method: "GET", path: "/v1/shelves/s1/books?page_size=1&_=123"},
		{name: "query plus-encoded space", method: "GET", path: "/v1/shelves/s1/books?page_size=1&filter.author=Ada+L"},
		{name: "bad query int", method: "GET", path: "/v1/shelves/s1/books?page_size=many", compare: sameCode},
		{name: "bad query enum", method: "GET", path: "/v1/shelves/s1/books?genre=POETRY", compare: sameCode},
		{name: "bad query timestamp", method: "GET", path: "/v1/shelves/s1/books?filter.published_after=yesterday", compare: sameCode},
		{name: "query field given twice", method: "GET", path: "/v1/shelves/s1/books?page_size=1&pageSize=2", compare: sameCode},
		{name: "query with a semicolon", method: "GET", path: "/v1/shelves/s1/books?page_size=1;x=2", compare: sameCode},
		{name: "query wrappers and WKTs", method: "GET", path: "/v1/echo?int64Wrapper=5&boolWrapper=true&stringWrapper=x&timestamp=2001-02-03T04:05:06Z&duration=90s&fieldMask=a,b.c"},
		{name: "query map", method: "GET", path: "/v1/echo?mapStringInt32%5Bk%5D=4"},
		{name: "query repeated enum", method: "GET", path: "/v1/echo?repeatedEnum=GENRE_FICTION&repeatedEnum=2"},
		{name: "query bytes url-safe", method: "GET", path: "/v1/echo?bytesValue=_w"},
		{name: "query float spellings", method: "GET", path: "/v1/echo?doubleValue=Infinity&floatValue=-1.5e3"},
		{name: "query oneof twice", method: "GET", path: "/v1/echo?choiceString=a&choiceInt64=1", compare: sameCode},
		{name: "query struct value", method: "GET", path: "/v1/echo?struct=%7B%22a%22%3A1%7D&value=%22v%22"},
		{name: "query on a body-star route is ignored", method: "POST", path: "/v1/echo?int32Value=5", body: `{"stringValue":"s"}`},
		// Bodies.
		{name: "body field with query", method: "POST", path: "/v1/shelves/s1/books?book_id=b9", body: `{"title":"Dune","pageCount":"412","isbnCode":"x"}`},
		{name: "body field, proto names", method: "POST", path: "/v1/shelves/s1/books", body: `{"title":"Dune","page_count":412,"publish_time":"2020-01-01T00:00:00Z"}`},
		{name: "put binding", method: "PUT", path: "/v1/shelves/s1/books/b7", body: `{"title":"Emma","labels":{"a":"b"}}`},
		{name: "handler error with a detail", method: "POST", path: "/v1/shelves/s1/books", body: `{"author":"nobody"}`},
		{name: "malformed JSON body", method: "POST", path: "/v1/shelves/s1/books", body: `{"title":`, compare: sameCode},
		{name: "wrong JSON type", method: "POST", path: "/v1/shelves/s1/books", body: `{"title":12}`, compare: sameCode},
		{name: "body is an array", method: "POST", path: "/v1/shelves/s1/books", body: `[1]`, compare: sameCode},
		{name: "trailing data after the body", method: "POST", path: "/v1/shelves/s1/books", body: `{"title":"a"} {"title":"b"}`, compare: sameCode},
		{name: "unknown body field", method: "POST", path: "/v1/shelves/s1/books", body: `{"title":"a","colour":"red"}`},
		{name: "body over the transcoder's limit", method: "POST", path: "/v1/shelves/s1/books", body: big, compare: differs, want: 413, reason: "body limit"},
		{name: "patch fills the update mask", method: "PATCH", path: "/v1/shelves/s1/books/b1", body: `{"title":"New","publishTime":"2021-01-01T00:00:00Z","labels":{"a":"b"}}`},
		{name: "patch nested object mask", method: "PATCH", path: "/v1/shelves/s1/books/b1", body: `{"title":"New","author":"A"}`},
		{name: "patch keeps the client's mask", method: "PATCH", path: "/v1/shelves/s1/books/b1?update_mask=author", body: `{"title":"New"}`},
		{name: "patch path variable wins", method: "PATCH", path: "/v1/shelves/s1/books/b1", body: `{"name":"shelves/x/books/y","title":"T"}`},
		{name: "patch with an empty body", method: "PATCH", path: "/v1/shelves/s1/books/b1"},
		{name: "delete returns Empty", method: "DELETE", path: "/v1/shelves/s1/books/b1"},
		{name: "failed precondition", method: "DELETE", path: "/v1/shelves/s1/books/locked"},
		{name: "delete with a query flag", method: "DELETE", path: "/v1/shelves/s1/books/locked?force=true"},
		{name: "body on a nested field", method: "PUT", path: "/v1/echo/shelves/s/books/b", body: `{"title":"T","tags":["x"]}`},
		{name: "repeated scalar body and response_body", method: "POST", path: "/v1/echo:values", body: `[1,2,3]`},
		{name: "repeated body closing the object", method: "POST", path: "/v1/echo:values", body: `[1]}, "failCode": 3, "x": {`, compare: sameCode},
		{name: "http body request", method: "POST", path: "/v1/files/docs/x.bin:upload", ct: "application/octet-stream", body: "\x00\x01\x02binary", compare: differs, want: 200, reason: "HttpBody requests"},
		// Well-known types and every scalar through a body.
		{name: "everything", method: "POST", path: "/v1/echo", body: `{
			"doubleValue": 1.5, "floatValue": "NaN", "int32Value": -3, "int64Value": "-9007199254740993",
			"uint32Value": 4000000000, "uint64Value": "18446744073709551615", "sint32Value": -1, "sint64Value": "-2",
			"fixed32Value": 7, "fixed64Value": "8", "sfixed32Value": -9, "sfixed64Value": "-10",
			"boolValue": true, "stringValue": "s", "bytesValue": "AAEC", "enumValue": "GENRE_HISTORY",
			"repeatedInt32": [1, 2], "repeatedString": ["a"], "repeatedEnum": ["GENRE_FICTION", 2],
			"mapStringInt32": {"a": 1}, "mapInt32String": {"5": "five"},
			"nested": {"name": "n"}, "repeatedNested": [{"title": "t"}], "optionalString": "", "choiceInt64": "77"}`},
		{name: "well-known types", method: "POST", path: "/v1/echo", body: `{
			"timestamp": "1999-12-31T23:59:59.123Z", "duration": "3.500s", "fieldMask": "a.b,cD",
			"struct": {"k": [1, "two", null, {"x": true}]}, "value": 4.5, "listValue": ["x", 1],
			"any": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1s"}, "empty": {},
			"doubleWrapper": 2.5, "floatWrapper": 1, "int64Wrapper": "64", "uint64Wrapper": "65",
			"int32Wrapper": 32, "uint32Wrapper": 33, "boolWrapper": false, "stringWrapper": "w", "bytesWrapper": "/w=="}`},
		{name: "null fields", method: "POST", path: "/v1/echo", body: `{"timestamp":null,"int64Wrapper":null,"value":null,"nested":null}`},
		{name: "bad timestamp in a body", method: "POST", path: "/v1/echo", body: `{"timestamp":"yesterday"}`, compare: sameCode},
		{name: "unknown Any type", method: "POST", path: "/v1/echo", body: `{"any":{"@type":"type.googleapis.com/no.Such"}}`, compare: sameCode},
		{name: "empty body star", method: "POST", path: "/v1/echo"},
		// Errors: every code's HTTP status.
		{name: "error code 1", method: "POST", path: "/v1/echo", body: `{"failCode":1}`},
		{name: "error code 2", method: "POST", path: "/v1/echo", body: `{"failCode":2}`},
		{name: "error code 3", method: "POST", path: "/v1/echo", body: `{"failCode":3}`},
		{name: "error code 4", method: "POST", path: "/v1/echo", body: `{"failCode":4}`},
		{name: "error code 5", method: "POST", path: "/v1/echo", body: `{"failCode":5}`},
		{name: "error code 6", method: "POST", path: "/v1/echo", body: `{"failCode":6}`},
		{name: "error code 7", method: "POST", path: "/v1/echo", body: `{"failCode":7}`},
		{name: "error code 8", method: "POST", path: "/v1/echo", body: `{"failCode":8}`},
		{name: "error code 9", method: "POST", path: "/v1/echo", body: `{"failCode":9}`},
		{name: "error code 10", method: "POST", path: "/v1/echo", body: `{"failCode":10}`},
		{name: "error code 11", method: "POST", path: "/v1/echo", body: `{"failCode":11}`},
		{name: "error code 12", method: "POST", path: "/v1/echo", body: `{"failCode":12}`},
		{name: "error code 13", method: "POST", path: "/v1/echo", body: `{"failCode":13}`},
		{name: "error code 14", method: "POST", path: "/v1/echo", body: `{"failCode":14}`},
		{name: "error code 15", method: "POST", path: "/v1/echo", body: `{"failCode":15}`},
		{name: "error code 16", method: "POST", path: "/v1/echo", body: `{"failCode":16}`},
		// Server streaming.
		{name: "stream of three", method: "GET", path: "/v1/shelves/s/books:stream?count=3"},
		{name: "empty stream", method: "GET", path: "/v1/shelves/s/books:stream?count=0"},
		{name: "stream failing midway", method: "GET", path: "/v1/shelves/s/books:stream?count=2&fail_code=10"},
		{name: "stream failing at once", method: "GET", path: "/v1/shelves/s/books:stream?count=0&fail_code=5"},
		{name: "stream with a bad query", method: "GET", path: "/v1/shelves/s/books:stream?count=x", compare: sameCode},
		// Client and bidi streaming: the body is a stream of JSON messages.
		{name: "client stream, newline-delimited", method: "POST", path: "/v1/books:batchCreate", ct: "application/x-ndjson",
			body: "{\"parent\":\"shelves/a\",\"bookId\":\"1\",\"book\":{\"title\":\"A\"}}\n{\"parent\":\"shelves/b\",\"bookId\":\"2\",\"book\":{\"title\":\"B\"}}\n"},
		{name: "client stream, values one after the other", method: "POST", path: "/v1/books:batchCreate", body: `{"book":{"title":"A"}}{"book":{"title":"B"}} {"book":{"title":"C"}}`},
		{name: "client stream, empty", method: "POST", path: "/v1/books:batchCreate"},
		{name: "client stream, refused by the handler", method: "POST", path: "/v1/books:batchCreate", body: `{"book":{"title":"A"}} {"book":{}}`},
		{name: "client stream, malformed message", method: "POST", path: "/v1/books:batchCreate", body: `{"book":{"title":"A"}} {"book":`, compare: sameCode},
		{name: "raw client stream", method: "POST", path: "/v1/chunks", ct: "application/octet-stream", body: strings.Repeat("0123456789abcdef", 10000), compare: differs, want: 200, reason: "HttpBody requests"},
		{name: "bidi stream", method: "POST", path: "/v1/books:echo", body: `{"title":"a"} {"title":"b"} {"title":"c"}`},
		{name: "bidi stream, empty", method: "POST", path: "/v1/books:echo"},
		{name: "raw server stream", method: "GET", path: "/v1/chunks/a/b.txt?chunk_size=3&chunks=4", compare: differs, want: 200, reason: "HttpBody streams"},
		{name: "raw server stream, empty", method: "GET", path: "/v1/chunks/a/b.txt?chunks=0"},
		{name: "bidi stream failing", method: "POST", path: "/v1/books:echo", body: `{"title":"a"} {"title":"fail"}`},
	}
	differences := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gw := s.send(t, s.gateway, c.method, c.path, c.ct, c.body)
			tc := s.send(t, s.transcoder, c.method, c.path, c.ct, c.body)
			switch c.compare {
			case same:
				if gw.status != tc.status {
					t.Errorf("status: grpc-gateway %d, transcoder %d\ngateway:    %s\ntranscoder: %s", gw.status, tc.status, clip(gw.body), clip(tc.body))
					return
				}
				if !sameJSONOrBytes(gw.body, tc.body) {
					t.Errorf("bodies differ (status %d)\ngateway:    %s\ntranscoder: %s", gw.status, clip(gw.body), clip(tc.body))
				}
				if mediaType(gw.contentType) != mediaType(tc.contentType) {
					t.Errorf("Content-Type: grpc-gateway %q, transcoder %q", gw.contentType, tc.contentType)
				}
			case sameCode:
				if gw.status != tc.status || statusCode(gw.body) != statusCode(tc.body) || statusCode(tc.body) == nil {
					t.Errorf("grpc-gateway %d %s\ntranscoder   %d %s", gw.status, clip(gw.body), tc.status, clip(tc.body))
				}
			case differs:
				differences++
				if tc.status != c.want {
					t.Errorf("transcoder status %d, want %d: %s", tc.status, c.want, clip(tc.body))
				}
				if gw.status == tc.status && sameJSONOrBytes(gw.body, tc.body) {
					t.Errorf("listed difference %q is gone: both answer %d %s; update the test and transcode/README.md", c.reason, tc.status, clip(tc.body))
				}
				t.Logf("listed difference %q: grpc-gateway %d %s; transcoder %d %s", c.reason, gw.status, clip(gw.body), tc.status, clip(tc.body))
			}
		})
	}
	if len(cases) < 60 {
		t.Errorf("%d cases, the side-by-side test promises at least 60", len(cases))
	}
	t.Logf("%d requests, %d listed differences", len(cases), differences)
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// sameJSONOrBytes compares two bodies as JSON documents, or as
// newline-delimited JSON, or else byte for byte.
func sameJSONOrBytes(a, b string) bool {
	if a == b {
		return true
	}
	la, lb := strings.Split(strings.TrimSpace(a), "\n"), strings.Split(strings.TrimSpace(b), "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		var x, y any
		if json.Unmarshal([]byte(la[i]), &x) != nil || json.Unmarshal([]byte(lb[i]), &y) != nil || !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// statusCode returns the google.rpc.Status code of an error body, unary or
// stream ({"error": ...}).
func statusCode(body string) any {
	var m map[string]any
	if json.Unmarshal([]byte(strings.TrimSpace(body)), &m) != nil {
		return nil
	}
	if e, ok := m["error"].(map[string]any); ok {
		return e["code"]
	}
	return m["code"]
}
