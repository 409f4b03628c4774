// Command eliza is polyconnect's quick start. With no flags it serves the
// Eliza service (connectrpc.eliza.v1.ElizaService, see package
// polyconnect.dev/examples/eliza) on every registered transport at once, on
// loopback, calls every method over each with the generated client in every
// protocol the transport carries, prints a table of what happened and exits
// 0 only if every call succeeded:
//
//	go run ./examples/cmd/eliza
//
// Flags make it a standalone server or a client:
//
//	eliza -serve -addr 127.0.0.1:8080                     # h2c-rpc: HTTP/2 and HTTP/1.1 on one port
//	eliza -serve -transport h2c -addr 127.0.0.1:8080     # net/http's HTTP/2 instead
//	eliza -serve -config server.yaml                      # a transport.Config in YAML or JSON
//	eliza -serve -transport h2-rpc -self-signed           # TLS with a throw-away certificate
//	eliza -serve -cors http://localhost:5173              # let browser pages of that origin call
//	eliza -url http://127.0.0.1:8080                      # call every method of a running server
//	eliza -url https://127.0.0.1:8443 -insecure -protocol grpc
//
// Errors are one line on standard error with a non-zero exit status: 1 for
// a failure, 2 for a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	serve      bool
	url        string
	addr       string
	name       string
	configFile string
	selfSigned bool
	insecure   bool
	cors       []string
	protocols  []rpc.Protocol
	set        map[string]bool // flags given explicitly
	usage      string          // what -help prints
}

// usageError marks a bad command line: exit status 2.
type usageError struct{ error }

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, opts.usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "eliza: %s (see eliza -help)\n", oneLine(err))
		return 2
	}
	switch {
	case opts.serve:
		err = serve(ctx, opts, stdout, stderr)
	case opts.url != "" || opts.configFile != "":
		err = callServer(ctx, opts, stdout)
	default:
		err = demo(ctx, opts, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "eliza:", oneLine(err))
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	return 0
}

// parseFlags parses the command line; -help is flag.ErrHelp.
func parseFlags(args []string) (*options, error) {
	opts := &options{set: map[string]bool{}}
	fs := flag.NewFlagSet("eliza", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by run
	fs.Usage = func() {}
	fs.BoolVar(&opts.serve, "serve", false, "serve Eliza until interrupted")
	fs.StringVar(&opts.url, "url", "", "call every method of the Eliza server at `URL`, such as http://127.0.0.1:8080")
	fs.StringVar(&opts.addr, "addr", "", "`HOST:PORT` to serve on (default 127.0.0.1:8080); port 0 picks a free one")
	fs.StringVar(&opts.name, "transport", "", "transport `NAME`: "+strings.Join(transport.Names(), ", ")+" (default "+defaultTransport+": HTTP/2 on transport-h2 and HTTP/1.1 on the same port; for -url, "+defaultTLSTransport+" for https URLs)")
	fs.StringVar(&opts.configFile, "config", "", "transport.Config `FILE` in YAML or JSON (.json); -transport and -addr override it")
	fs.BoolVar(&opts.selfSigned, "self-signed", false, "with -serve and a TLS transport, use a throw-away self-signed certificate when the config has none")
	fs.BoolVar(&opts.insecure, "insecure", false, "with -url, accept any server certificate (for -self-signed servers)")
	cors := fs.String("cors", "", "with -serve, let browser pages from these comma-separated `ORIGINS` call (* for any)")
	protocols := fs.String("protocol", "", "with -url, the comma-separated protocols to call with (`LIST` of connect, grpc, grpcweb; default: all the transport carries)")
	var b strings.Builder
	b.WriteString(`Usage:
  eliza                                   serve Eliza on every transport, call it every way, print a table
  eliza -serve [-transport NAME] [-addr HOST:PORT] [-config FILE] [-self-signed] [-cors ORIGINS]
  eliza -url URL [-transport NAME] [-config FILE] [-protocol LIST] [-insecure]

Flags:
`)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	opts.usage = b.String()
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags start with -; see -help)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { opts.set[f.Name] = true })
	if opts.serve && opts.url != "" {
		return nil, errors.New("-serve and -url do not go together: serve, or call a server")
	}
	if *cors != "" {
		if !opts.serve {
			return nil, errors.New("-cors applies to -serve")
		}
		for _, o := range strings.Split(*cors, ",") {
			opts.cors = append(opts.cors, strings.TrimSpace(o))
		}
	}
	if *protocols != "" {
		if opts.url == "" && opts.configFile == "" || opts.serve {
			return nil, errors.New("-protocol applies to -url")
		}
		for _, name := range strings.Split(*protocols, ",") {
			p, err := parseProtocol(strings.TrimSpace(name))
			if err != nil {
				return nil, err
			}
			opts.protocols = append(opts.protocols, p)
		}
	}
	return opts, nil
}

func parseProtocol(name string) (rpc.Protocol, error) {
	for _, p := range allProtocols {
		if p.String() == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q (want connect, grpc or grpcweb)", name)
}

// callServer is the client mode: every method of the server at -url (or the
// config's addr) with one transport, in each protocol.
func callServer(ctx context.Context, opts *options, stdout io.Writer) error {
	cfg, err := loadConfig(opts.configFile)
	if err != nil {
		return err
	}
	switch {
	case opts.set["transport"]:
		cfg.Name = opts.name
	case cfg.Name == "" && strings.HasPrefix(opts.url, "https://"):
		cfg.Name = defaultTLSTransport
	case cfg.Name == "":
		cfg.Name = defaultTransport
	}
	if opts.set["addr"] {
		cfg.Addr = opts.addr
	}
	if opts.insecure {
		if cfg.TLS == nil {
			cfg.TLS = &transport.TLSConfig{}
		}
		cfg.TLS.InsecureSkipVerify = true
	}
	client, err := transport.NewClient(cfg)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	url := opts.url
	if url == "" {
		url = client.URL()
	}
	if url == "" {
		return usageError{errors.New("no server to call: give -url, or addr in the -config file")}
	}
	protocols := opts.protocols
	if len(protocols) == 0 {
		protocols = protocolsFor(cfg.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fmt.Fprintf(stdout, "Calling Eliza at %s over %s\n\n", url, cfg.Name)
	var t table
	for _, p := range protocols {
		t.add(callEveryMethod(ctx, client, url, cfg.Name, p)...)
	}
	return t.print(stdout)
}
