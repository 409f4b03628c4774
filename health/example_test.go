package health_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"polyconnect.dev/health"
)

// A server mounts the health service beside its own services. Any health
// client can then ask about it: grpc-go's, a Kubernetes gRPC probe, or, since
// Check has no side effects, a plain HTTP GET in the Connect protocol.
func ExampleNewHandler() {
	checker := health.NewChecker()
	checker.SetStatus("greet.v1.GreetService", health.StatusServing)

	mux := http.NewServeMux()
	mux.Handle(health.NewHandler(checker))
	// mux.Handle(greetv1rpc.NewGreetServiceHandler(…)) and so on.
	srv := httptest.NewServer(mux)
	defer srv.Close()

	q := url.Values{"encoding": {"json"}, "message": {`{"service":"greet.v1.GreetService"}`}}
	res, err := http.Get(srv.URL + "/grpc.health.v1.Health/Check?" + q.Encode())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	var body struct{ Status string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode, body.Status)
	// Output: 200 SERVING
}

// A server that drains first tells its load balancers, then stops its
// transport: Shutdown reports NOT_SERVING everywhere and ends the Watch
// streams that would otherwise keep a graceful shutdown waiting.
func ExampleChecker_Shutdown() {
	checker := health.NewChecker()
	checker.SetStatus("greet.v1.GreetService", health.StatusServing)

	checker.Shutdown()
	// Then: server.Shutdown(ctx) on the transport.

	status, known := checker.Status("greet.v1.GreetService")
	fmt.Println(status, known)
	status, known = checker.Status("")
	fmt.Println(status, known)
	// Output:
	// NOT_SERVING true
	// NOT_SERVING true
}

// Statuses change at run time, for instance when a dependency goes away;
// watchers hear of each change.
func ExampleChecker_SetStatus() {
	checker := health.NewChecker()
	checker.SetStatus("greet.v1.GreetService", health.StatusNotServing) // starting up
	// … once the database answers:
	checker.SetStatus("greet.v1.GreetService", health.StatusServing)

	status, _ := checker.Status("greet.v1.GreetService")
	fmt.Println(status)
	_, known := checker.Status("other.v1.Other")
	fmt.Println(known)
	// Output:
	// SERVING
	// false
}
