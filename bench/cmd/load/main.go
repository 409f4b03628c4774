// Command load makes unary calls of a fixed size for a fixed time at a fixed
// concurrency against one or more implementations, and prints the request
// rate and the latency distribution of each.
//
//	go run ./cmd/load -impl polyconnect,connect-go -protocol connect -transport h2c -c 64 -d 10s
//
// By default it starts the implementation's server in-process on
// 127.0.0.1; with -addr it calls a server that is already running there (of
// the same implementation or any other that speaks the protocol). -impl,
// -protocol and -transport take comma-separated lists, and every meaningful
// combination runs in turn, each with a fresh server and client.
//
// To keep the server's CPU apart from the load generator's, run with -split:
// each target's server then runs in a child process of its own (this
// program with -serve), so client and server do not share a Go scheduler or
// heap. Or start one process with -serve (it prints the server's URL and
// serves for -d, or until interrupted) and point another at it with -addr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/internal/harness"
)

type config struct {
	impls, protocols, transports []string
	concurrency                  int
	duration, warmup, timeout    time.Duration
	size                         int
	addr                         string
	insecure                     bool
	maxRequests                  int64
	serve                        bool
	split                        bool
	cpuProfile, memProfile       string
	serverPID                    int
}

func main() {
	var cfg config
	impls := flag.String("impl", harness.ImplPolyconnect, "implementations, comma-separated: "+strings.Join(harness.Impls, ", ")+", or all")
	protocols := flag.String("protocol", harness.ProtocolConnect, "protocols, comma-separated: "+strings.Join(harness.Protocols, ", ")+" (raw's), or all")
	transports := flag.String("transport", harness.TransportH2C, "transports, comma-separated: "+strings.Join(harness.Transports, ", ")+", or all")
	flag.IntVar(&cfg.concurrency, "c", 64, "concurrent callers, sharing one client")
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "how long to measure")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "how long to call before measuring")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "deadline of each call")
	flag.IntVar(&cfg.size, "size", 100, "payload bytes of each request and response")
	flag.StringVar(&cfg.addr, "addr", "", "call the server at this host:port or URL instead of starting one (loopback only)")
	flag.BoolVar(&cfg.insecure, "insecure", false, "with -addr and h2: accept any server certificate")
	flag.Int64Var(&cfg.maxRequests, "n", 0, "stop after this many measured requests, even before -d (0: no limit)")
	flag.BoolVar(&cfg.serve, "serve", false, "only start the server of the one target given, on 127.0.0.1, print its URL and serve for -d or until interrupted")
	flag.BoolVar(&cfg.split, "split", false, "run each target's server in a child process of its own (this program with -serve) instead of in this one")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to the file (with -serve: of the server)")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "with -addr: the server's process id, to report its CPU time per request beside this process's")
	flag.StringVar(&cfg.memProfile, "memprofile", "", "write an allocation profile of this process to the file when it ends")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: load [flags]\n\nFixed-duration unary load; prints req/s and latency percentiles.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	cfg.impls = list(*impls, harness.Impls)
	cfg.protocols = list(*protocols, harness.Protocols)
	cfg.transports = list(*transports, harness.Transports)
	if cfg.concurrency < 1 || cfg.duration <= 0 || cfg.size < 0 {
		fatalf("-c must be at least 1, -d positive and -size not negative")
	}
	if cfg.serverPID != 0 && cfg.addr == "" {
		fatalf("-server-pid goes with -addr")
	}
	if cfg.split && (cfg.serve || cfg.addr != "") {
		fatalf("-split starts its own servers: it goes with neither -serve nor -addr")
	}

	var targets []harness.Target
	var firstErr error
	for _, impl := range cfg.impls {
		for _, p := range cfg.protocols {
			for _, tr := range cfg.transports {
				t := harness.Target{Impl: impl, Protocol: p, Transport: tr}
				if err := t.Check(); err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", t, err)
					}
					continue
				}
				targets = append(targets, t)
			}
		}
	}
	if len(targets) == 0 {
		fatalf("no meaningful combination of -impl, -protocol and -transport: %v", firstErr)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fatalf("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("%v", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	if cfg.memProfile != "" {
		defer func() {
			f, err := os.Create(cfg.memProfile)
			if err != nil {
				fatalf("%v", err)
			}
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}()
	}
	if cfg.serve {
		if len(targets) != 1 {
			fatalf("-serve needs exactly one target, not %d", len(targets))
		}
		serve(cfg, targets[0])
		return
	}
	failed := false
	for _, t := range targets {
		res, err := run(cfg, t)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: %s: %v\n", t, err)
			failed = true
			continue
		}
		res.print(os.Stdout, cfg, t)
	}
	if failed {
		os.Exit(1)
	}
}

// serve runs t's server until cfg.duration has passed or the process is
// interrupted.
func serve(cfg config, t harness.Target) {
	srv, err := harness.StartServer(t)
	if err != nil {
		fatalf("%s: %v", t, err)
	}
	defer srv.Close()
	fmt.Printf("%s serving at %s for %v\n", t, srv.URL, cfg.duration)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(cfg.duration):
	}
}

// list splits a comma-separated flag; "all" means every value.
func list(s string, all []string) []string {
	if s == "all" {
		return all
	}
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(2)
}

// baseURL turns -addr into a URL with the transport's scheme.
func baseURL(addr, transport string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimRight(addr, "/")
	}
	if tlsTransport(transport) {
		return "https://" + addr
	}
	return "http://" + addr
}

// tlsTransport reports whether a transport runs over TLS.
func tlsTransport(transport string) bool {
	return transport == harness.TransportH2 || transport == harness.TransportH3 || transport == harness.TransportH2RPC
}

type result struct {
	hist     histogram
	elapsed  time.Duration
	errors   int64
	firstErr error
	// CPU time used while measuring, by this process and by the server's
	// (-split), when it could be read.
	cpuSelf, cpuServer time.Duration
	cpuKnown, split    bool
	// remote: the server runs in a process this one did not start and
	// whose id it was not given, so cpuSelf is the client's alone.
	remote bool
	// System calls and context switches while measuring, of this process
	// and of the server's, when the server's process is known.
	ioSelf, ioServer ioCounts
	ioKnown          bool
	// Heap allocations this process made while measuring.
	mallocs uint64
}

func run(cfg config, t harness.Target) (*result, error) {
	url := ""
	serverPID := 0
	switch {
	case cfg.addr != "":
		url = baseURL(cfg.addr, t.Transport)
		serverPID = cfg.serverPID
	case cfg.split:
		child, err := startChildServer(cfg, t)
		if err != nil {
			return nil, fmt.Errorf("starting the server process: %w", err)
		}
		defer child.stop()
		url = child.url
		serverPID = child.cmd.Process.Pid
		// The child made its own test certificate.
		cfg.insecure = true
	default:
		srv, err := harness.StartServer(t)
		if err != nil {
			return nil, fmt.Errorf("starting the server: %w", err)
		}
		defer srv.Close()
		url = srv.URL
	}
	client, err := harness.NewClientWith(t, url, harness.ClientOptions{InsecureSkipVerify: cfg.insecure})
	if err != nil {
		return nil, fmt.Errorf("making the client: %w", err)
	}
	defer client.Close()
	msg := harness.NewPayload(cfg.size)

	// One call first, so a broken target fails at once with its error.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	err = client.Unary(ctx, msg)
	cancel()
	if err != nil {
		if cfg.addr != "" && tlsTransport(t.Transport) && !cfg.insecure {
			return nil, fmt.Errorf("first call (a server this process did not start needs -insecure): %w", err)
		}
		return nil, fmt.Errorf("first call: %w", err)
	}
	if cfg.warmup > 0 {
		_ = load(client, msg, cfg, cfg.warmup, 0)
	}
	self0, ok1 := processCPU(os.Getpid())
	server0, ok2 := processCPU(serverPID)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs0 := ms.Mallocs
	selfIO0, okIO1 := processIO(os.Getpid())
	serverIO0, okIO2 := processIO(serverPID)
	res := load(client, msg, cfg, cfg.duration, cfg.maxRequests)
	self1, ok3 := processCPU(os.Getpid())
	server1, ok4 := processCPU(serverPID)
	selfIO1, okIO3 := processIO(os.Getpid())
	serverIO1, okIO4 := processIO(serverPID)
	runtime.ReadMemStats(&ms)
	res.mallocs = ms.Mallocs - mallocs0
	if okIO1 && okIO2 && okIO3 && okIO4 && serverPID != 0 {
		res.ioKnown = true
		res.ioSelf, res.ioServer = selfIO1.sub(selfIO0), serverIO1.sub(serverIO0)
	}
	res.cpuSelf, res.cpuKnown = self1-self0, ok1 && ok3
	res.remote = cfg.addr != "" && serverPID == 0
	if serverPID != 0 {
		res.split = true
		res.cpuServer = server1 - server0
		res.cpuKnown = res.cpuKnown && ok2 && ok4
	}
	return res, nil
}

// load calls from cfg.concurrency goroutines until d has passed or limit
// calls (if positive) have been made.
func load(client harness.Client, msg *benchv1.Payload, cfg config, d time.Duration, limit int64) *result {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		res      = new(result)
		issued   atomic.Int64
		stop     atomic.Bool
		errCount atomic.Int64
	)
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	start := time.Now()
	for range cfg.concurrency {
		wg.Go(func() {
			h := new(histogram)
			var firstErr error
			for !stop.Load() {
				if limit > 0 && issued.Add(1) > limit {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
				t0 := time.Now()
				err := client.Unary(ctx, msg)
				lat := time.Since(t0)
				cancel()
				if err != nil {
					errCount.Add(1)
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				h.record(lat)
			}
			mu.Lock()
			res.hist.merge(h)
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.errors = errCount.Load()
	return res
}

func (r *result) print(w io.Writer, cfg config, t harness.Target) {
	rate := float64(r.hist.total) / r.elapsed.Seconds()
	fmt.Fprintf(w, "%s c=%d size=%dB\n", t, cfg.concurrency, cfg.size)
	fmt.Fprintf(w, "  requests %d in %v, %.0f req/s, errors %d\n", r.hist.total, r.elapsed.Round(time.Millisecond), rate, r.errors)
	fmt.Fprintf(w, "  latency  mean %v  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n",
		round(r.hist.mean()), round(r.hist.quantile(0.5)), round(r.hist.quantile(0.9)),
		round(r.hist.quantile(0.99)), round(r.hist.quantile(0.999)), round(time.Duration(r.hist.max)))
	if r.cpuKnown && r.hist.total > 0 {
		per := func(d time.Duration) time.Duration { return d / time.Duration(r.hist.total) }
		if r.split {
			fmt.Fprintf(w, "  cpu      %v per request: client %v, server %v\n",
				round(per(r.cpuSelf+r.cpuServer)), round(per(r.cpuSelf)), round(per(r.cpuServer)))
		} else if r.remote {
			fmt.Fprintf(w, "  cpu      client %v per request (the server's is not known: -server-pid)\n", round(per(r.cpuSelf)))
		} else {
			fmt.Fprintf(w, "  cpu      %v per request, client and server together\n", round(per(r.cpuSelf)))
		}
	}
	if r.hist.total > 0 && (r.split || r.remote) {
		fmt.Fprintf(w, "  client allocations %.1f per request\n", float64(r.mallocs)/float64(r.hist.total))
	}
	if r.ioKnown && r.hist.total > 0 {
		per := func(n int64) float64 { return float64(n) / float64(r.hist.total) }
		fmt.Fprintf(w, "  syscalls per request: client read %.2f write %.2f switch %.2f, server read %.2f write %.2f switch %.2f\n",
			per(r.ioSelf.reads), per(r.ioSelf.writes), per(r.ioSelf.switches),
			per(r.ioServer.reads), per(r.ioServer.writes), per(r.ioServer.switches))
	}
	if r.firstErr != nil {
		fmt.Fprintf(w, "  first error: %v\n", r.firstErr)
		if errors.Is(r.firstErr, context.DeadlineExceeded) {
			fmt.Fprintf(w, "  (calls hit -timeout %v)\n", cfg.timeout)
		}
	}
}

// round keeps three or four significant digits.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
