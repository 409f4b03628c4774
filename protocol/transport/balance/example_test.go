package balance_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"polyconnect.dev/protocol/transport/balance"
)

// A client for "greet.internal:8080" that spreads its requests over three
// replicas. Programs that build clients from a transport.Config get the
// same by listing the replicas in its Balance section.
func Example() {
	var replicas []string
	for i := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "replica %d answered for %s", i, r.Host)
		}))
		defer srv.Close()
		replicas = append(replicas, strings.TrimPrefix(srv.URL, "http://"))
	}

	client, err := balance.New("greet.internal:8080", balance.Static(replicas...),
		func(addr string) (balance.Backend, error) { return &http.Client{}, nil },
		balance.WithPolicy(balance.RoundRobin))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()
	for range 4 {
		res, err := client.Do(must(http.NewRequest(http.MethodGet, "http://greet.internal:8080/", nil)))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// replica 0 answered for greet.internal:8080
	// replica 1 answered for greet.internal:8080
	// replica 2 answered for greet.internal:8080
	// replica 0 answered for greet.internal:8080
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}
