package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// runConfig is what the load-and-fault run does.
type runConfig struct {
	duration    time.Duration
	callers     int
	transport   string
	protocols   []rpc.Protocol
	policy      string
	faultEvery  time.Duration
	streamEvery int
	callTimeout time.Duration
	target      string // a proxy's URL instead of spawned replicas
	caFile      string
	smoke       bool
}

func parseRun(args []string) (runConfig, error) {
	fs := flag.NewFlagSet("faultload", flag.ExitOnError)
	var c runConfig
	var protocols string
	fs.DurationVar(&c.duration, "d", 10*time.Minute, "how long to run")
	fs.IntVar(&c.callers, "c", 256, "concurrent callers")
	fs.StringVar(&c.transport, "transport", transport.NameH2C, "transport to the replicas: h2c or http1 (h2 or http1 with -target https://…)")
	fs.StringVar(&protocols, "protocols", "connect,grpc,grpcweb", "protocols, used in turn")
	fs.StringVar(&c.policy, "policy", "least_loaded", "balancing policy: round_robin or least_loaded")
	fs.DurationVar(&c.faultEvery, "fault-every", 3*time.Second, "mean time between faults (replica kills, connection resets); 0 for none")
	fs.IntVar(&c.streamEvery, "stream-every", 10, "one call in this many is a stream (server, client, bidi in turn); 0 for unary only")
	fs.DurationVar(&c.callTimeout, "call-timeout", 10*time.Second, "deadline of each call")
	fs.StringVar(&c.target, "target", "", "send calls to this URL (a proxy) instead of spawning three replicas; no faults are injected")
	fs.StringVar(&c.caFile, "ca", "", "PEM CA file that verifies -target")
	fs.BoolVar(&c.smoke, "smoke", false, "a short run for CI: 8s, 16 callers, a fault every second")
	_ = fs.Parse(args)
	if c.smoke {
		c.duration, c.callers, c.faultEvery = 8*time.Second, 16, time.Second
	}
	for _, name := range strings.Split(protocols, ",") {
		switch strings.TrimSpace(name) {
		case "connect":
			c.protocols = append(c.protocols, rpc.ProtocolConnect)
		case "grpc":
			if c.transport == transport.NameHTTP1 {
				continue // gRPC needs HTTP/2
			}
			c.protocols = append(c.protocols, rpc.ProtocolGRPC)
		case "grpcweb":
			c.protocols = append(c.protocols, rpc.ProtocolGRPCWeb)
		default:
			return c, fmt.Errorf("unknown protocol %q", name)
		}
	}
	if len(c.protocols) == 0 || c.callers < 1 {
		return c, errors.New("need at least one protocol and one caller")
	}
	return c, nil
}

// outcome is what one caller saw.
type outcome struct {
	unary, streams tally
	lat            *latencies
}

// run is the load-and-fault run; it returns an error if an idempotent
// unary call failed.
func run(args []string) error {
	cfg, err := parseRun(args)
	if err != nil {
		return err
	}
	var replicas []*replicaProc
	var client transport.Client
	if cfg.target == "" {
		for i := range 3 {
			r := &replicaProc{name: fmt.Sprint("r", i+1)}
			if err := r.start(); err != nil {
				return err
			}
			defer r.signal(syscall.SIGKILL) //nolint:errcheck // best effort at exit
			replicas = append(replicas, r)
		}
		addrs := []string{replicas[0].addr, replicas[1].addr, replicas[2].addr}
		client, err = transport.NewClient(transport.Config{
			Name: cfg.transport, Addr: "replicas.faultload:8080",
			DialTimeout: transport.Duration(2 * time.Second),
			Balance:     &transport.BalanceConfig{Addrs: addrs, Policy: cfg.policy},
		})
		fmt.Printf("replicas %v, transport %s, policy %s\n", addrs, cfg.transport, cfg.policy)
	} else {
		host := strings.TrimPrefix(strings.TrimPrefix(cfg.target, "https://"), "http://")
		tc := transport.Config{Name: cfg.transport, Addr: host, DialTimeout: transport.Duration(2 * time.Second)}
		if cfg.caFile != "" {
			tc.TLS = &transport.TLSConfig{CAFile: cfg.caFile}
		}
		client, err = transport.NewClient(tc)
		fmt.Printf("target %s, transport %s\n", client.URL(), cfg.transport)
	}
	if err != nil {
		return err
	}
	var retried retries
	var sets []*clients
	for _, p := range cfg.protocols {
		sets = append(sets, newClients(client, client.URL(), p, rpc.WithClientInterceptors(retried.interceptors()...)))
	}

	// Warm up every protocol, then take the "before" figures.
	for _, s := range sets {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.callTimeout)
		_, err := s.unary.CallUnary(ctx, &benchv1.Payload{Payload: []byte("warm-up")})
		cancel()
		if err != nil {
			return fmt.Errorf("warm-up over %v: %w", s.protocol, err)
		}
	}
	goroutinesBefore, heapBefore := settle(0)

	ctx, stop := context.WithTimeout(context.Background(), cfg.duration)
	defer stop()
	faults := &faultLog{}
	var faultWG sync.WaitGroup
	if len(replicas) > 0 && cfg.faultEvery > 0 {
		faultWG.Go(func() { injectFaults(ctx, replicas, cfg.faultEvery, faults) })
	}
	start := time.Now()
	outcomes := make([]outcome, cfg.callers)
	var wg sync.WaitGroup
	var progress atomic.Uint64
	for g := range cfg.callers {
		wg.Go(func() { outcomes[g] = caller(ctx, g, cfg, sets, &progress) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	faultWG.Wait()

	var unary, streams tally
	lat := newLatencies()
	for _, o := range outcomes {
		unary.merge(o.unary)
		streams.merge(o.streams)
		lat.merge(o.lat)
	}
	client.CloseIdleConnections()
	goroutinesAfter, heapAfter := settle(goroutinesBefore)

	fmt.Printf("ran %v at %d callers over %s\n", elapsed.Round(time.Millisecond), cfg.callers, protocolNames(cfg.protocols))
	fmt.Printf("faults: %d replica kills (%d restarts), %d single-connection resets, %d all-connection resets\n",
		faults.kills.Load(), faults.restarts.Load(), faults.resets.Load(), faults.resetAlls.Load())
	report := func(name string, t tally) {
		fmt.Printf("%-26s %10d calls, %8d failed", name, t.calls, t.failures())
		for _, c := range t.codes() {
			fmt.Printf(", %s %d", c, t.failed[c])
		}
		fmt.Println()
	}
	report("unary (idempotent)", unary)
	report("streams (not retried)", streams)
	fmt.Printf("retried: %d unary attempts\n", retried.n.Load())
	fmt.Printf("rate: %.0f calls/s; unary latency p50 %v, p99 %v\n",
		float64(unary.calls+streams.calls)/elapsed.Seconds(), lat.quantile(0.5).Round(time.Microsecond), lat.quantile(0.99).Round(time.Microsecond))
	fmt.Printf("client goroutines: %d before, %d after; heap in use: %.1f MiB before, %.1f MiB after\n",
		goroutinesBefore, goroutinesAfter, float64(heapBefore)/(1<<20), float64(heapAfter)/(1<<20))

	if n := unary.failures(); n > 0 {
		return fmt.Errorf("%d idempotent calls failed", n)
	}
	if goroutinesAfter > goroutinesBefore+2 {
		return fmt.Errorf("goroutines grew from %d to %d", goroutinesBefore, goroutinesAfter)
	}
	return nil
}

// caller makes calls until ctx ends.
func caller(ctx context.Context, g int, cfg runConfig, sets []*clients, progress *atomic.Uint64) outcome {
	o := outcome{lat: newLatencies()}
	payload := &benchv1.Payload{Payload: make([]byte, 100)}
	for i := g; ctx.Err() == nil; i++ {
		s := sets[i%len(sets)]
		callCtx, cancel := context.WithTimeout(context.Background(), cfg.callTimeout)
		start := time.Now()
		kind := 0
		if cfg.streamEvery > 0 && i%cfg.streamEvery == 0 {
			kind = 1 + (i/cfg.streamEvery)%3
		}
		var err error
		switch kind {
		case 0:
			_, err = s.unary.CallUnary(callCtx, payload)
			if err == nil {
				o.lat.record(time.Since(start))
			}
			o.unary.add(err)
		case 1:
			err = serverStream(callCtx, s)
			o.streams.add(err)
		case 2:
			err = clientStream(callCtx, s, payload)
			o.streams.add(err)
		case 3:
			err = halfDuplexBidi(callCtx, s, payload)
			o.streams.add(err)
		}
		cancel()
		progress.Add(1)
		if err != nil && ctx.Err() == nil && rpc.CodeOf(err) != rpc.CodeUnavailable {
			fmt.Fprintf(os.Stderr, "call failed: %v\n", err)
		}
	}
	return o
}

func serverStream(ctx context.Context, s *clients) error {
	stream, err := s.serverStream.CallServerStream(ctx, &benchv1.StreamRequest{Count: 10, Size: 100})
	if err != nil {
		return err
	}
	defer stream.Close()
	n := 0
	for _, err := range stream.All() {
		if err != nil {
			return err
		}
		n++
	}
	if n != 10 {
		return rpc.NewError(rpc.CodeDataLoss, fmt.Sprintf("got %d messages, want 10", n))
	}
	return nil
}

func clientStream(ctx context.Context, s *clients, msg *benchv1.Payload) error {
	stream, err := s.clientStream.CallClientStream(ctx)
	if err != nil {
		return err
	}
	for range 5 {
		if err := stream.Send(msg); err != nil {
			break // CloseAndReceive reports why
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return err
	}
	if len(res.GetPayload()) != 5*len(msg.GetPayload()) {
		return rpc.NewError(rpc.CodeDataLoss, "client stream: wrong total")
	}
	return nil
}

// halfDuplexBidi sends every message before receiving, which every HTTP
// version and proxy can carry.
func halfDuplexBidi(ctx context.Context, s *clients, msg *benchv1.Payload) error {
	stream, err := s.bidi.CallBidiStream(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseReceive()
	for range 5 {
		if err := stream.Send(msg); err != nil {
			break
		}
	}
	_ = stream.CloseSend()
	n := 0
	for {
		_, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n != 5 {
		return rpc.NewError(rpc.CodeDataLoss, fmt.Sprintf("bidi: got %d echoes, want 5", n))
	}
	return nil
}

// faultLog counts the faults injected.
type faultLog struct {
	kills, restarts, resets, resetAlls atomic.Int64
}

// injectFaults kills and restarts replicas and resets connections at
// random, about every mean, until ctx ends, keeping at most one replica
// down at a time. It leaves every replica running.
func injectFaults(ctx context.Context, replicas []*replicaProc, mean time.Duration, log *faultLog) {
	var down sync.WaitGroup
	defer down.Wait()
	var anyDown atomic.Bool
	for {
		wait := time.Duration(rand.ExpFloat64() * float64(mean))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		r := replicas[rand.IntN(len(replicas))]
		switch p := rand.Float64(); {
		case p < 0.4 && !anyDown.Load():
			if err := r.signal(syscall.SIGKILL); err != nil {
				fmt.Fprintf(os.Stderr, "kill %s: %v\n", r.name, err)
				continue
			}
			log.kills.Add(1)
			anyDown.Store(true)
			downFor := 500*time.Millisecond + time.Duration(rand.Int64N(int64(2500*time.Millisecond)))
			down.Go(func() {
				defer anyDown.Store(false)
				time.Sleep(downFor)
				if err := r.start(); err != nil {
					fmt.Fprintf(os.Stderr, "restart %s: %v\n", r.name, err)
					return
				}
				log.restarts.Add(1)
			})
		case p < 0.85:
			if r.running() && r.signal(syscall.SIGUSR1) == nil {
				log.resets.Add(1)
			}
		default:
			if r.running() && r.signal(syscall.SIGUSR2) == nil {
				log.resetAlls.Add(1)
			}
		}
	}
}

// settle collects garbage and returns the goroutine count and heap in
// use. Given an earlier count, it waits (up to 10 s) for goroutines that
// are still winding down, such as connections being closed.
func settle(before int) (goroutines int, heap uint64) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		goroutines = runtime.NumGoroutine()
		if before == 0 || goroutines <= before || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return goroutines, m.HeapInuse
}

func protocolNames(ps []rpc.Protocol) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}
