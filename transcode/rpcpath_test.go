package transcode_test

// Tests that a transcoded call goes through the RPC handler like any other:
// interceptors, authentication, limits, deadlines, headers and trailers.
// They use the rpc package's interceptor and call-info API, and are the ones
// to move when that API changes.

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/cors"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/transcode"
	transcodetestv1 "polyconnect.dev/transcode/internal/gen/transcodetest/v1"
	"polyconnect.dev/transcode/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

func TestInterceptorsSeeTranscodedCalls(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	record := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			info, _ := rpc.HandlerCallInfo(ctx)
			route, ok := transcode.RouteFromContext(ctx)
			mu.Lock()
			seen = append(seen, info.Procedure()+" "+route.Method+" "+route.Pattern+" "+info.RequestHeader().Get("X-Request-Id"))
			mu.Unlock()
			if !ok {
				t.Error("no route in the context")
			}
			return next(ctx, req)
		}
	})
	mux, _ := newLibrary(t, []rpc.HandlerOption{rpc.WithHandlerInterceptors(record)})
	r := httptest.NewRequest("GET", "/v1/shelves/s/books/b", nil)
	r.Header.Set("X-Request-Id", "r-1")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := "/polyconnect.transcodetest.v1.LibraryService/GetBook GET /v1/{name=shelves/*/books/*} r-1"
	if len(seen) != 1 || seen[0] != want {
		t.Errorf("interceptor saw %q, want %q", seen, want)
	}
}

func TestAuthInterceptorAppliesToREST(t *testing.T) {
	t.Parallel()
	// In the call phase, before the request is decoded, as authentication
	// belongs: a refused REST call never has its request read.
	auth := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			info, _ := rpc.HandlerCallInfo(ctx)
			if info.RequestHeader().Get("Authorization") != "Bearer good" {
				return rpc.NewError(rpc.CodeUnauthenticated, "who are you?")
			}
			return next(ctx, conn)
		}
	})
	mux, _ := newLibrary(t, []rpc.HandlerOption{rpc.WithHandlerInterceptors(auth)})
	for _, c := range []struct {
		token  string
		status int
	}{{"", 401}, {"Bearer bad", 401}, {"Bearer good", 200}} {
		r := httptest.NewRequest("GET", "/v1/shelves/s/books/b", nil)
		if c.token != "" {
			r.Header.Set("Authorization", c.token)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Errorf("token %q: status %d, want %d: %s", c.token, w.Code, c.status, w.Body)
		}
		if c.status == 401 && !jsonEqual(t, w.Body.String(), `{"code":16,"message":"who are you?","details":[]}`) {
			t.Errorf("token %q: body %s", c.token, w.Body)
		}
	}
}

// headerService sets a response header and a trailer.
type headerService struct{ library }

func (headerService) GetBook(ctx context.Context, req *transcodetestv1.GetBookRequest) (*transcodetestv1.Book, error) {
	info, _ := rpc.HandlerCallInfo(ctx)
	info.ResponseHeader().Set("X-Served-By", "library")
	info.ResponseTrailer().Set("X-Cost", "3")
	if req.Name == "missing" {
		return nil, rpc.NewError(rpc.CodeNotFound, "gone")
	}
	return &transcodetestv1.Book{Name: req.Name}, nil
}

func TestResponseHeadersAndTrailers(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(headerService{}))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{librarySD})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	for _, target := range []string{"/v1/books/b", "/v1/books/missing"} {
		w := do(mux, "GET", target, "", "")
		if got := w.Header().Get("X-Served-By"); got != "library" {
			t.Errorf("%s: X-Served-By %q", target, got)
		}
		if got := w.Header().Get("X-Cost"); got != "3" {
			t.Errorf("%s: trailer X-Cost as header %q", target, got)
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "Connect-") || strings.HasPrefix(k, "Trailer-") {
				t.Errorf("%s: protocol header %s leaked", target, k)
			}
		}
	}
}

// blockingService's GetBook waits for its context to end.
type blockingService struct{ library }

func (blockingService) GetBook(ctx context.Context, _ *transcodetestv1.GetBookRequest) (*transcodetestv1.Book, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestDeadlineFromConnectTimeoutHeader(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(blockingService{}))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{librarySD})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	r := httptest.NewRequest("GET", "/v1/books/b", nil)
	r.Header.Set("Connect-Timeout-Ms", "20")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), `"code":4`) {
		t.Errorf("status %d, body %s; want 504 DEADLINE_EXCEEDED", w.Code, w.Body)
	}
	// A malformed timeout is the client's error.
	r = httptest.NewRequest("GET", "/v1/books/b", nil)
	r.Header.Set("Connect-Timeout-Ms", "soon")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("malformed timeout: status %d, body %s", w.Code, w.Body)
	}
}

func TestHandlerReadLimitAppliesToTheMessage(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, []rpc.HandlerOption{rpc.WithReadMaxBytes(64)})
	small := `{"title":"` + strings.Repeat("x", 40) + `"}`
	if w := do(mux, "POST", "/v1/shelves/s/books", "", small); w.Code != 200 {
		t.Errorf("message under the handler's limit: status %d: %s", w.Code, w.Body)
	}
	big := `{"title":"` + strings.Repeat("x", 100) + `"}`
	w := do(mux, "POST", "/v1/shelves/s/books", "", big)
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), `"code":8`) {
		t.Errorf("message over the handler's limit: status %d, body %s; want 429 RESOURCE_EXHAUSTED", w.Code, w.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 4096
	mux, _ := newLibrary(t, nil, transcode.WithReadMaxBytes(limit))
	// The heaviest honest body: exactly at the limit.
	prefix, suffix := `{"title":"`, `"}`
	exact := prefix + strings.Repeat("x", limit-len(prefix)-len(suffix)) + suffix
	if w := do(mux, "POST", "/v1/shelves/s/books", "", exact); w.Code != 200 {
		t.Errorf("body of exactly the limit: status %d: %s", w.Code, w.Body.String()[:min(200, w.Body.Len())])
	}
	over := prefix + strings.Repeat("x", limit) + suffix
	w := do(mux, "POST", "/v1/shelves/s/books", "", over)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), `"code":8`) {
		t.Errorf("body over the limit: status %d, body %s", w.Code, w.Body)
	}
	// A body without a Content-Length (chunked) is cut at the limit too.
	r := httptest.NewRequest("POST", "/v1/shelves/s/books", struct{ *strings.Reader }{strings.NewReader(over)})
	r.ContentLength = -1
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the limit: status %d", w.Code)
	}
	// A gzip bomb: a few KiB that inflate far past the limit.
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(prefix))
	_, _ = zw.Write(bytes.Repeat([]byte("x"), 64<<20))
	_, _ = zw.Write([]byte(suffix))
	_ = zw.Close()
	r = httptest.NewRequest("POST", "/v1/shelves/s/books", bytes.NewReader(zipped.Bytes()))
	r.Header.Set("Content-Encoding", "gzip")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip bomb (%d bytes): status %d", zipped.Len(), w.Code)
	}
}

func TestGzipRequestBody(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(`{"title":"zipped"}`))
	_ = zw.Close()
	r := httptest.NewRequest("POST", "/v1/shelves/s/books", &zipped)
	r.Header.Set("Content-Encoding", "gzip")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"title":"zipped"`) {
		t.Errorf("status %d, body %s", w.Code, w.Body)
	}
	for _, c := range []struct{ enc, body string }{{"gzip", "not gzip"}, {"br", "{}"}} {
		r := httptest.NewRequest("POST", "/v1/shelves/s/books", strings.NewReader(c.body))
		r.Header.Set("Content-Encoding", c.enc)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code < 400 || w.Code >= 600 || !strings.Contains(w.Body.String(), `"code"`) {
			t.Errorf("Content-Encoding %s with %q: status %d, body %s", c.enc, c.body, w.Code, w.Body)
		}
	}
}

func TestUnmountedProcedure(t *testing.T) {
	t.Parallel()
	// The transcoder's next handler serves no procedure, and routes every
	// path back to the transcoder: the call must end, with UNIMPLEMENTED.
	mux := http.NewServeMux()
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{librarySD})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	for _, target := range []string{"/v1/books/b", "/v1/shelves/s/books:stream"} {
		w := do(mux, "GET", target, "", "")
		if w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), `"code":12`) {
			t.Errorf("%s: status %d, body %s", target, w.Code, w.Body)
		}
	}
	// A next handler that answers 404 for the procedure.
	rest, err = transcode.New(http.NotFoundHandler(), []protoreflect.ServiceDescriptor{librarySD})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(rest, "GET", "/v1/books/b", "", ""); w.Code != http.StatusNotImplemented {
		t.Errorf("next answers 404: status %d, body %s", w.Code, w.Body)
	}
}

func TestCORSPreflightForRESTMethods(t *testing.T) {
	t.Parallel()
	mux, rest := newLibrary(t, nil)
	policy, err := cors.New(cors.WithAllowedOrigins("https://app.example"), cors.WithAllowedMethods(rest.Methods()...))
	if err != nil {
		t.Fatal(err)
	}
	h := policy.Handler(mux)
	r := httptest.NewRequest("OPTIONS", "/v1/shelves/s/books/b", nil)
	r.Header.Set("Origin", "https://app.example")
	r.Header.Set("Access-Control-Request-Method", "PATCH")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code >= 300 || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Errorf("preflight: status %d, headers %v", w.Code, w.Header())
	}
	r = httptest.NewRequest("GET", "/v1/shelves/s/books/b", nil)
	r.Header.Set("Origin", "https://app.example")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("call: status %d, headers %v", w.Code, w.Header())
	}
}

func TestResponseCompression(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	long := `{"stringValue":"` + strings.Repeat("compressible ", 200) + `"}`
	for _, c := range []struct {
		name, accept, body string
		gzipped            bool
	}{
		{"large, gzip accepted", "gzip, deflate, br", long, true},
		{"large, any accepted", "*", long, true},
		{"large, gzip refused", "gzip;q=0, identity", long, false},
		{"large, nothing accepted", "", long, false},
		{"small, gzip accepted", "gzip", `{"stringValue":"short"}`, false},
	} {
		r := httptest.NewRequest("POST", "/v1/echo", strings.NewReader(c.body))
		if c.accept != "" {
			r.Header.Set("Accept-Encoding", c.accept)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: status %d", c.name, w.Code)
		}
		got := w.Body.Bytes()
		if enc := w.Header().Get("Content-Encoding"); (enc == "gzip") != c.gzipped {
			t.Errorf("%s: Content-Encoding %q", c.name, enc)
		}
		if c.gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if n, _ := strconv.Atoi(w.Header().Get("Content-Length")); n != w.Body.Len() || n >= len(got) {
				t.Errorf("%s: Content-Length %d for %d compressed bytes of %d", c.name, n, w.Body.Len(), len(got))
			}
		}
		if !strings.Contains(string(got), "compressible") && c.body == long {
			t.Errorf("%s: body %.100s", c.name, got)
		}
		if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", c.name)
		}
	}
	// Off: never compressed.
	off, _ := newLibrary(t, nil, transcode.WithCompressMinBytes(-1))
	r := httptest.NewRequest("POST", "/v1/echo", strings.NewReader(long))
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	off.ServeHTTP(w, r)
	if w.Header().Get("Content-Encoding") != "" {
		t.Errorf("compression off: Content-Encoding %q", w.Header().Get("Content-Encoding"))
	}
}

// TestQueryAndPathLimits sends the most parameters and path segments the
// transcoder takes, which must pass, and one more, which must not.
func TestQueryAndPathLimits(t *testing.T) {
	t.Parallel()
	mux, _ := newLibrary(t, nil)
	const maxParams = 10000
	q := strings.Repeat("repeatedInt32=1&", maxParams-1) + "repeatedInt32=1"
	w := do(mux, "GET", "/v1/echo?"+q, "", "")
	if w.Code != 200 || strings.Count(w.Body.String(), "1,") != maxParams-1 {
		t.Errorf("%d query parameters: status %d", maxParams, w.Code)
	}
	if w := do(mux, "GET", "/v1/echo?"+q+"&repeatedInt32=1", "", ""); w.Code != 400 {
		t.Errorf("%d query parameters: status %d, want 400", maxParams+1, w.Code)
	}
	// "/v1/files/{path=**}": 256 segments in all is the most.
	deep := "/v1/files" + strings.Repeat("/d", 254)
	if w := do(mux, "GET", deep, "", ""); w.Code != 200 {
		t.Errorf("256 segments: status %d: %.200s", w.Code, w.Body)
	}
	if w := do(mux, "GET", deep+"/d", "", ""); w.Code != 404 {
		t.Errorf("257 segments: status %d, want 404", w.Code)
	}
}
