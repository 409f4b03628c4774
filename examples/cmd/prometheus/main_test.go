package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPrometheusScrape runs the example on a free loopback port and
// scrapes /metrics as Prometheus would: the call durations of both sides
// are there as histograms, one series per method, protocol and outcome,
// with the calls the example made counted.
func TestPrometheusScrape(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, "127.0.0.1:0", &out, func(url string) { urls <- url }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("the example ended before serving: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second): // a bound only: it starts in milliseconds
		cancel()
		t.Fatal("the example did not start")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the example failed: %v", err)
		}
	}()

	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("HTTP %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		"# TYPE rpc_server_call_duration_seconds histogram",
		"# TYPE rpc_client_call_duration_seconds histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	// One call of each outcome per protocol, on each side: gRPC and
	// gRPC-Web share rpc.system.name "grpc", so they count 2.
	for _, side := range []string{"client", "server"} {
		for _, c := range []struct {
			system, status string
			count          string
		}{
			{"connectrpc", "OK", "1"},
			{"connectrpc", "INVALID_ARGUMENT", "1"},
			{"grpc", "OK", "2"},
			{"grpc", "INVALID_ARGUMENT", "2"},
		} {
			re := regexp.MustCompile(`(?m)^rpc_` + side + `_call_duration_seconds_count\{([^}]*)\} (\d+)$`)
			found := false
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				labels := m[1]
				if strings.Contains(labels, `rpc_method="greet.v1.GreetService/Greet"`) &&
					strings.Contains(labels, `rpc_system_name="`+c.system+`"`) &&
					strings.Contains(labels, `rpc_response_status_code="`+c.status+`"`) &&
					strings.Contains(labels, `otel_scope_name="polyconnect.dev/otel"`) {
					found = true
					if m[2] != c.count {
						t.Errorf("%s %s %s: count %s, want %s", side, c.system, c.status, m[2], c.count)
					}
				}
			}
			if !found {
				t.Errorf("no %s series for %s %s in\n%s", side, c.system, c.status, text)
			}
		}
	}
	// Server metrics carry no server.address by default.
	if regexp.MustCompile(`rpc_server_call_duration_seconds_count\{[^}]*server_address`).MatchString(text) {
		t.Error("server metric with server_address")
	}
}
