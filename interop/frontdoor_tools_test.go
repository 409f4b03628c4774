package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"polyconnect.dev/health"
	"polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1/pingv1rpc"
)

// These tests drive polyconnect's health and reflection services with the
// command-line tools people use against gRPC servers: grpcurl and buf curl,
// given no .proto files, so everything they know comes from server reflection.
//
// The tools are found on PATH or in the repository's .tools/bin, where
// scripts/tools.sh (buf) and scripts/tools-grpcurl.sh (grpcurl) install them.
// A missing tool skips its tests with a message saying how to install it,
// unless POLYCONNECT_REQUIRE_TOOLS=1 (scripts/test.sh, and so CI, sets it) or
// CI is set to anything but "", "0" or "false": then it fails them.

// toolsRequired reports whether a missing tool is a failure.
func toolsRequired() bool {
	if os.Getenv("POLYCONNECT_REQUIRE_TOOLS") == "1" {
		return true
	}
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "0", "false":
		return false
	}
	return true
}

// tool returns the path of a command-line tool, or ends the test.
func tool(t *testing.T, name, installer string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p, err := filepath.Abs(filepath.Join("..", ".tools", "bin", name)); err == nil {
		if info, err := os.Stat(p); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := fmt.Sprintf("%s is neither on PATH nor in .tools/bin: install it with `bash %s`", name, installer)
	if toolsRequired() {
		t.Fatalf("%s (required because POLYCONNECT_REQUIRE_TOOLS=1 or CI is set)", msg)
	}
	t.Skipf("%s; with POLYCONNECT_REQUIRE_TOOLS=1 this skip is a failure", msg)
	return ""
}

// run runs a tool and returns its standard output; it fails the test if the
// tool fails, showing both outputs.
func run(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, errOut, err := runTool(t, path, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runTool(t *testing.T, path string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	// Generous: the tools start fast, but a loaded CI machine is slow; the
	// bound only keeps a hung tool from hanging the test run.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// buf keeps a cache; give it one of its own so the test writes nowhere else.
	cmd.Env = append(os.Environ(), "BUF_CACHE_DIR="+t.TempDir())
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// wantContains fails unless out contains every one of wants.
func wantContains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", what, want, out)
		}
	}
}

// decodeJSONStream decodes the JSON values a tool printed one after another.
func decodeJSONStream(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var values []map[string]any
	for dec.More() {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("output is not JSON values: %v\n%s", err, out)
		}
		values = append(values, v)
	}
	return values
}

func TestGrpcurl(t *testing.T) {
	bin := grpcurlPath(t)
	fd := startFrontDoor(t, frontDoorConfig{})
	fd.checker.SetStatus(pingv1rpc.PingServiceName, health.StatusServing)
	for _, c := range []struct {
		name  string
		flags []string
		addr  string
	}{
		{"h2c", []string{"-plaintext"}, fd.h2c.Addr().String()},
		{"h2", []string{"-cacert", fd.caFile}, fd.h2.Addr().String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			grpcurl := func(args ...string) string {
				t.Helper()
				return run(t, bin, append(slices.Clone(c.flags), args...)...)
			}

			got := strings.Fields(grpcurl(c.addr, "list"))
			want := slices.Sorted(slices.Values(frontDoorServices))
			if !slices.Equal(got, want) {
				t.Errorf("list: %q; want %q", got, want)
			}
			wantContains(t, "list SERVICE", grpcurl(c.addr, "list", pingv1rpc.PingServiceName),
				"polyconnect.interop.ping.v1.PingService.Ping", "polyconnect.interop.ping.v1.PingService.Count")

			wantContains(t, "describe service", grpcurl(c.addr, "describe", pingv1rpc.PingServiceName),
				"service PingService {",
				"rpc Ping ( .polyconnect.interop.ping.v1.PingRequest ) returns ( .polyconnect.interop.ping.v1.PingResponse )",
				"rpc Count ( .polyconnect.interop.ping.v1.CountRequest ) returns ( stream .polyconnect.interop.ping.v1.CountResponse )")
			// A message with a field from an imported file.
			wantContains(t, "describe message", grpcurl(c.addr, "describe", "polyconnect.interop.ping.v1.PingResponse"),
				".google.protobuf.Timestamp answered_at = 2;")
			// The health service's descriptor keeps its comments (protoc-gen-go
			// drops them from the files it registers, so ping's have none).
			wantContains(t, "describe health", grpcurl(c.addr, "describe", health.ServiceName),
				"rpc Check ( .grpc.health.v1.HealthCheckRequest ) returns ( .grpc.health.v1.HealthCheckResponse )",
				"rpc Watch ( .grpc.health.v1.HealthCheckRequest ) returns ( stream .grpc.health.v1.HealthCheckResponse )",
				"Watch sends the status of one service at once")

			// Calls, encoded from what reflection told.
			res := decodeJSONStream(t, grpcurl("-d", `{"text":"hi"}`, c.addr, pingv1rpc.PingServiceName+"/Ping"))
			if len(res) != 1 || res[0]["text"] != "hi" || res[0]["answeredAt"] == nil {
				t.Errorf("Ping: %v", res)
			}
			res = decodeJSONStream(t, grpcurl("-d", `{"up_to":3}`, c.addr, pingv1rpc.PingServiceName+"/Count"))
			if len(res) != 3 || res[2]["number"] != 3.0 {
				t.Errorf("Count: %v", res)
			}
			res = decodeJSONStream(t, grpcurl("-d", `{"service":"`+pingv1rpc.PingServiceName+`"}`, c.addr, "grpc.health.v1.Health/Check"))
			if len(res) != 1 || res[0]["status"] != "SERVING" {
				t.Errorf("Health/Check: %v", res)
			}

			// Errors come back as gRPC statuses.
			_, errOut, err := runTool(t, bin, append(slices.Clone(c.flags), "-d", `{"service":"no.such.Service"}`, c.addr, "grpc.health.v1.Health/Check")...)
			if err == nil || !strings.Contains(errOut, "NotFound") {
				t.Errorf("Check(unknown): err %v, stderr %s; want NotFound", err, errOut)
			}
			_, errOut, err = runTool(t, bin, append(slices.Clone(c.flags), c.addr, "describe", "no.such.Symbol")...)
			if err == nil || !strings.Contains(errOut, "no.such.Symbol") {
				t.Errorf("describe unknown: err %v, stderr %s; want a failure naming the symbol", err, errOut)
			}
		})
	}
}

// grpcurlPath returns the path of grpcurl, or ends the test.
func grpcurlPath(t *testing.T) string { return tool(t, "grpcurl", "scripts/tools-grpcurl.sh") }

// TestGrpcurlV1Alpha checks grpcurl against a server that offers only the
// first version of reflection: grpcurl falls back to it.
func TestGrpcurlV1Alpha(t *testing.T) {
	grpcurl := grpcurlPath(t)
	fd := startFrontDoor(t, frontDoorConfig{noReflectionV1: true})
	addr := fd.h2c.Addr().String()
	got := strings.Fields(run(t, grpcurl, "-plaintext", addr, "list"))
	if want := slices.Sorted(slices.Values(frontDoorServices)); !slices.Equal(got, want) {
		t.Errorf("list: %q; want %q", got, want)
	}
	res := decodeJSONStream(t, run(t, grpcurl, "-plaintext", "-d", `{"text":"alpha"}`, addr, pingv1rpc.PingServiceName+"/Ping"))
	if len(res) != 1 || res[0]["text"] != "alpha" {
		t.Errorf("Ping: %v", res)
	}
}

// TestBufCurl calls the server with buf curl, which learns the schema through
// reflection when no --schema is given, over every protocol, on h2c and TLS.
// buf curl calls reflection, a bidirectional stream, only over HTTP/2: over
// HTTP/1.1 it stops before asking ("the RPC protocol or method requires
// HTTP/2"), whatever the server, so there is no HTTP/1.1 case.
func TestBufCurl(t *testing.T) {
	buf := tool(t, "buf", "scripts/tools.sh")
	fd := startFrontDoor(t, frontDoorConfig{})
	// Each case asks reflection afresh (buf curl keeps no schema between
	// runs); the full set of commands runs in two cases, one a protocol, to
	// keep the test quick: each buf run costs a few hundred milliseconds.
	for _, c := range []struct {
		name  string
		flags []string
		url   string
		full  bool
	}{
		{"connect-h2c", []string{"--http2-prior-knowledge"}, fd.h2c.URL(), true},
		{"grpc-h2c", []string{"--protocol", "grpc", "--http2-prior-knowledge"}, fd.h2c.URL(), false},
		{"grpcweb-h2c", []string{"--protocol", "grpcweb", "--http2-prior-knowledge"}, fd.h2c.URL(), false},
		{"connect-h2", []string{"--cacert", fd.caFile}, fd.h2.URL(), false},
		{"grpc-h2", []string{"--protocol", "grpc", "--cacert", fd.caFile}, fd.h2.URL(), true},
		{"grpcweb-h2", []string{"--protocol", "grpcweb", "--cacert", fd.caFile}, fd.h2.URL(), false},
		{"grpc-h2c-v1alpha", []string{"--protocol", "grpc", "--http2-prior-knowledge", "--reflect-protocol", "grpc-v1alpha"}, fd.h2c.URL(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bufCurl := func(args ...string) string {
				t.Helper()
				return run(t, buf, append(append([]string{"curl"}, c.flags...), args...)...)
			}
			res := decodeJSONStream(t, bufCurl("-d", `{"text":"hi"}`, c.url+pingv1rpc.PingServicePingProcedure))
			if len(res) != 1 || res[0]["text"] != "hi" || res[0]["answeredAt"] == nil {
				t.Errorf("Ping: %v", res)
			}
			if !c.full {
				return
			}
			got := strings.Fields(bufCurl("--list-services", c.url))
			if want := slices.Sorted(slices.Values(frontDoorServices)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("--list-services: %q; want %q", got, want)
			}
			wantContains(t, "--list-methods", bufCurl("--list-methods", c.url),
				"polyconnect.interop.ping.v1.PingService/Ping", "polyconnect.interop.ping.v1.PingService/Count",
				"grpc.health.v1.Health/Watch")
			res = decodeJSONStream(t, bufCurl("-d", `{"upTo":2}`, c.url+pingv1rpc.PingServiceCountProcedure))
			if len(res) != 2 || res[1]["number"] != 2.0 {
				t.Errorf("Count: %v", res)
			}
			res = decodeJSONStream(t, bufCurl("-d", `{}`, c.url+"/grpc.health.v1.Health/Check"))
			if len(res) != 1 || res[0]["status"] != "SERVING" {
				t.Errorf("Health/Check: %v", res)
			}
		})
	}
}
