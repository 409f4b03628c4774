// Command interopclient runs gRPC's interop test cases with a polyconnect
// client against an interop server, such as grpc-go's
// (google.golang.org/grpc/interop/server) or interopserver. Its flags follow
// grpc-go's interop client:
//
//	interopclient -server_host 127.0.0.1 -server_port 10000 -test_case large_unary
//	interopclient -server_port 10000 -use_tls -ca_file ca.pem -server_host_override localhost -test_case all
//
// -test_case takes one case, a comma-separated list, or "all". Each case
// prints a PASS or FAIL line; the exit status is 1 if any failed, 2 for bad
// flags. The client speaks gRPC over HTTP/2 (h2c without TLS) by default;
// -protocol grpcweb or connect choose the other protocols.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"polyconnect.dev/conformance/internal/engine"
	"polyconnect.dev/conformance/internal/grpcinterop"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	failed, err := run(context.Background(), cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interopclient:", err)
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	host         string
	port         int
	testCases    []string
	useTLS       bool
	hostOverride string
	caFile       string
	useTestCA    bool
	protocol     rpc.Protocol
	timeout      time.Duration
	http2        string // the HTTP/2 engine: package engine's NetHTTP or H2
}

var protocols = map[string]rpc.Protocol{
	"grpc":    rpc.ProtocolGRPC,
	"grpcweb": rpc.ProtocolGRPCWeb,
	"connect": rpc.ProtocolConnect,
}

func parseFlags(args []string, output io.Writer) (config, error) {
	var cfg config
	var testCase, protocol string
	fs := flag.NewFlagSet("interopclient", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cfg.host, "server_host", "localhost", "the server's host name or address")
	fs.IntVar(&cfg.port, "server_port", 10000, "the server's port")
	fs.StringVar(&testCase, "test_case", "large_unary", `the test case to run, a comma-separated list, or "all":`+"\n"+strings.Join(grpcinterop.TestCaseNames(), "\n"))
	fs.BoolVar(&cfg.useTLS, "use_tls", false, "connect with TLS (HTTP/2 over TLS) instead of h2c")
	fs.StringVar(&cfg.hostOverride, "server_host_override", "", "the name to verify the server's certificate for, if not -server_host")
	fs.StringVar(&cfg.caFile, "ca_file", "", "PEM file of the CA to trust instead of the system roots")
	fs.BoolVar(&cfg.useTestCA, "use_test_ca", false, "trust the test CA of -ca_file instead of the system roots (as grpc-go's client; polyconnect has no built-in test CA, so -ca_file is required)")
	fs.StringVar(&protocol, "protocol", "grpc", "the protocol: grpc, grpcweb or connect")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "the longest one test case may take")
	fs.StringVar(&cfg.http2, "http2", engine.NetHTTP, `whose HTTP/2 to speak: "nethttp" (transport-nethttp) or "h2" (transport-h2)`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: interopclient [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	fail := func(msg string) (config, error) {
		fmt.Fprintln(output, "interopclient:", msg)
		fs.Usage()
		return cfg, errors.New(msg)
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments: " + fmt.Sprint(fs.Args()))
	}
	if cfg.port <= 0 || cfg.port > 65535 {
		return fail("-server_port " + strconv.Itoa(cfg.port) + " is out of range")
	}
	var ok bool
	if cfg.protocol, ok = protocols[protocol]; !ok {
		return fail("unknown -protocol " + strconv.Quote(protocol) + ": grpc, grpcweb or connect")
	}
	if cfg.useTestCA && cfg.caFile == "" {
		return fail("-use_test_ca needs -ca_file: polyconnect has no built-in test CA")
	}
	if !cfg.useTLS && (cfg.caFile != "" || cfg.hostOverride != "") {
		return fail("-ca_file and -server_host_override need -use_tls")
	}
	if cfg.timeout <= 0 {
		return fail("-timeout must be positive")
	}
	if cfg.http2 != engine.NetHTTP && cfg.http2 != engine.H2 {
		return fail("-http2 must be nethttp or h2")
	}
	if testCase == "all" {
		cfg.testCases = grpcinterop.TestCaseNames()
	} else {
		for name := range strings.SplitSeq(testCase, ",") {
			name = strings.TrimSpace(name)
			if _, ok := grpcinterop.TestCases[name]; !ok {
				return fail("unknown -test_case " + strconv.Quote(name))
			}
			if !slices.Contains(cfg.testCases, name) {
				cfg.testCases = append(cfg.testCases, name)
			}
		}
	}
	return cfg, nil
}

// run runs the test cases, printing a line for each to out, and returns
// how many failed. An error means the client could not be set up.
func run(ctx context.Context, cfg config, out io.Writer) (failed int, err error) {
	name, err := engine.HTTP2Name(cfg.http2, cfg.useTLS)
	if err != nil {
		return 0, err
	}
	tc := transport.Config{
		Name: name,
		Addr: net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)),
	}
	if cfg.useTLS {
		tc.TLS = &transport.TLSConfig{CAFile: cfg.caFile, ServerName: cfg.hostOverride}
	}
	httpClient, err := transport.NewClient(tc)
	if err != nil {
		return 0, err
	}
	defer httpClient.CloseIdleConnections()
	client := grpcinterop.NewClient(httpClient, httpClient.URL(), rpc.WithProtocol(cfg.protocol))
	for _, name := range cfg.testCases {
		start := time.Now()
		caseCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
		err := grpcinterop.TestCases[name](caseCtx, client)
		cancel()
		elapsed := time.Since(start).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAIL %s (%v): %v\n", name, elapsed, err)
			continue
		}
		fmt.Fprintf(out, "PASS %s (%v)\n", name, elapsed)
	}
	return failed, nil
}
