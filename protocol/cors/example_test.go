package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"polyconnect.dev/protocol/cors"
)

// A service lets the pages of its web app, and of the app's preview
// deployments, call it from the browser with Connect or gRPC-Web.
func Example() {
	policy, err := cors.New(
		cors.WithAllowedOrigins("https://app.example.com", "https://*.preview.example.com"),
		cors.WithAllowedHeaders("Authorization"),
		cors.WithMaxAge(time.Hour),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/connectrpc.eliza.v1.ElizaService/Say", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"sentence":"Hello. How are you feeling today?"}`)
	})
	handler := policy.Handler(mux) // serve this, with any transport

	// The browser asks first ...
	preflight := httptest.NewRequest("OPTIONS", "/connectrpc.eliza.v1.ElizaService/Say", nil)
	preflight.Header.Set("Origin", "https://pr-42.preview.example.com")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, preflight)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Max-Age"))

	// ... then calls, and may read the answer.
	call := httptest.NewRequest("POST", "/connectrpc.eliza.v1.ElizaService/Say", nil)
	call.Header.Set("Origin", "https://pr-42.preview.example.com")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, call)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Body)

	// Pages of other origins are refused at the preflight.
	preflight.Header.Set("Origin", "https://elsewhere.example.net")
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, preflight)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin") == "")
	// Output:
	// 204 https://pr-42.preview.example.com 3600
	// 200 https://pr-42.preview.example.com {"sentence":"Hello. How are you feeling today?"}
	// 403 true
}

// The default lists, for servers that use another CORS library.
func ExampleExposedHeaders() {
	fmt.Println(cors.ExposedHeaders()[:3])
	// Output:
	// [Grpc-Status Grpc-Message Grpc-Status-Details-Bin]
}
