package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/internal/harness"
)

// The end-to-end benchmarks: a real server on 127.0.0.1 and a real client
// in the same process, over each meaningful implementation × protocol ×
// transport. Names are Benchmark<Scenario>/impl=…/protocol=…/transport=….
// Each sub-benchmark starts its own server and client, warms them up with
// a few calls outside the timer, and closes them when it is done.
//
// allocs/op and B/op count both sides, client and server, since both run
// in this process; BenchmarkServerAllocs and BenchmarkClientAllocs (in
// allocs_test.go) separate them.

const (
	smallSize      = 100
	largeSize      = 1 << 20
	streamMessages = 10_000
	pingPongs      = 1_000
	// parallelCallers is the number of goroutines UnaryParallel calls from.
	parallelCallers = 64
)

// scenario is one kind of operation.
type scenario struct {
	size int
	// count is the number of messages an op sends or receives on its
	// stream (one for unary).
	count int
	// msgsPerOp and bytesPerOp are the messages and payload bytes an op
	// moves, both directions together.
	msgsPerOp  int
	bytesPerOp int
	// unary scenarios report req/s, streaming ones msgs/s.
	unary      bool
	parallel   bool
	fullDuplex bool // needs a transport that interleaves both directions
	op         func(ctx context.Context, c harness.Client, msg *benchv1.Payload, count int) error
}

func unaryOp(ctx context.Context, c harness.Client, msg *benchv1.Payload, _ int) error {
	return c.Unary(ctx, msg)
}

var (
	scenarioUnary         = scenario{size: smallSize, count: 1, msgsPerOp: 2, bytesPerOp: 2 * smallSize, unary: true, op: unaryOp}
	scenarioUnaryParallel = scenario{size: smallSize, count: 1, msgsPerOp: 2, bytesPerOp: 2 * smallSize, unary: true, parallel: true, op: unaryOp}
	scenarioUnaryLarge    = scenario{size: largeSize, count: 1, msgsPerOp: 2, bytesPerOp: 2 * largeSize, unary: true, op: unaryOp}
	scenarioServerStream  = scenario{
		size: smallSize, count: streamMessages, msgsPerOp: streamMessages, bytesPerOp: streamMessages * smallSize,
		op: func(ctx context.Context, c harness.Client, msg *benchv1.Payload, count int) error {
			return c.ServerStream(ctx, count, len(msg.Payload))
		},
	}
	scenarioClientStream = scenario{
		size: smallSize, count: streamMessages, msgsPerOp: streamMessages, bytesPerOp: streamMessages * smallSize,
		op: func(ctx context.Context, c harness.Client, msg *benchv1.Payload, count int) error {
			return c.ClientStream(ctx, count, msg)
		},
	}
	scenarioBidi = scenario{
		size: smallSize, count: pingPongs, msgsPerOp: 2 * pingPongs, bytesPerOp: 2 * pingPongs * smallSize, fullDuplex: true,
		op: func(ctx context.Context, c harness.Client, msg *benchv1.Payload, count int) error {
			return c.Bidi(ctx, count, msg)
		},
	}
)

// BenchmarkUnary is one caller making unary calls of 100 bytes each way.
func BenchmarkUnary(b *testing.B) { runScenario(b, scenarioUnary) }

// BenchmarkUnaryParallel is 64 concurrent callers making unary calls of 100
// bytes each way on one client.
func BenchmarkUnaryParallel(b *testing.B) { runScenario(b, scenarioUnaryParallel) }

// BenchmarkUnaryLarge is one caller making unary calls of 1 MiB each way.
func BenchmarkUnaryLarge(b *testing.B) { runScenario(b, scenarioUnaryLarge) }

// BenchmarkServerStream is one server stream of 10,000 messages of 100
// bytes per op.
func BenchmarkServerStream(b *testing.B) { runScenario(b, scenarioServerStream) }

// BenchmarkClientStream is one client stream of 10,000 messages of 100
// bytes per op.
func BenchmarkClientStream(b *testing.B) { runScenario(b, scenarioClientStream) }

// BenchmarkBidi is 1,000 ping-pongs of 100 bytes on one bidirectional
// stream per op. HTTP/1.1 is left out: its streams are half duplex.
func BenchmarkBidi(b *testing.B) { runScenario(b, scenarioBidi) }

func runScenario(b *testing.B, s scenario) {
	for _, t := range harness.Targets() {
		if s.fullDuplex && !t.FullDuplex() {
			continue
		}
		fx := &fixture{target: t}
		b.Run(t.String(), func(b *testing.B) { fx.bench(b, s) })
		fx.close()
	}
}

// fixture is the server and client of one target. The testing package calls
// a sub-benchmark's function several times as it settles b.N (RunParallel
// does; b.Loop does not), so the fixture is made once and reused.
type fixture struct {
	target harness.Target
	once   sync.Once
	srv    *harness.Server
	client harness.Client
	err    error
}

func (fx *fixture) start() {
	fx.srv, fx.err = harness.StartServer(fx.target)
	if fx.err != nil {
		return
	}
	fx.client, fx.err = harness.NewClient(fx.target, fx.srv.URL)
}

func (fx *fixture) close() {
	if fx.client != nil {
		fx.client.Close()
	}
	if fx.srv != nil {
		fx.srv.Close()
	}
}

// unfinished reports whether the target is one that may not work yet:
// polyconnect's gRPC and gRPC-Web are being written. Its failures skip the
// sub-benchmark, with the error, instead of failing the run.
func unfinished(t harness.Target) bool {
	return t.Impl == harness.ImplPolyconnect && t.Protocol != harness.ProtocolConnect
}

// failSetup ends a sub-benchmark whose set-up or warm-up failed.
func failSetup(tb testing.TB, t harness.Target, err error) {
	tb.Helper()
	if unfinished(t) {
		tb.Skipf("%s not working yet: %v", t, err)
	}
	tb.Fatalf("%s: %v", t, err)
}

// warmUp runs a short version of the scenario's op: it opens the
// connections and fails early on a broken target.
func warmUp(ctx context.Context, c harness.Client, s scenario, msg *benchv1.Payload) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for range 3 {
		if err := s.op(ctx, c, msg, min(s.count, 10)); err != nil {
			return err
		}
	}
	return nil
}

func (fx *fixture) bench(b *testing.B, s scenario) {
	fx.once.Do(func() {
		fx.start()
		if fx.err == nil {
			fx.err = warmUp(context.Background(), fx.client, s, harness.NewPayload(s.size))
		}
	})
	if fx.err != nil {
		failSetup(b, fx.target, fx.err)
	}
	msg := harness.NewPayload(s.size)
	ctx := context.Background()
	b.ReportAllocs()
	cpuStart, cpuOK := processCPU()
	var ops int64
	if s.parallel {
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((parallelCallers + procs - 1) / procs)
		var failed atomic.Bool
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if failed.Load() {
					continue // drain pb so RunParallel ends
				}
				if err := s.op(ctx, fx.client, msg, s.count); err != nil {
					if failed.CompareAndSwap(false, true) {
						b.Errorf("%s: %v", fx.target, err)
					}
				}
			}
		})
		ops = int64(b.N)
	} else {
		for b.Loop() {
			if err := s.op(ctx, fx.client, msg, s.count); err != nil {
				b.Fatalf("%s: %v", fx.target, err)
			}
			ops++
		}
	}
	reportRates(b, s, ops)
	if cpuEnd, ok := processCPU(); cpuOK && ok && ops > 0 {
		// The CPU time client and server spent per op, every goroutine
		// and the garbage collector included: unlike sec/op it hardly
		// moves when other work shares the machine.
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(ops), "cpu-ns/op")
	}
}

// reportRates adds the throughput metrics: req/s for unary scenarios,
// msgs/s for streaming ones, and MB/s of payload (10^6 bytes, both
// directions).
func reportRates(b *testing.B, s scenario, ops int64) {
	sec := b.Elapsed().Seconds()
	if ops == 0 || sec <= 0 {
		return
	}
	if s.unary {
		b.ReportMetric(float64(ops)/sec, "req/s")
	} else {
		b.ReportMetric(float64(ops)*float64(s.msgsPerOp)/sec, "msgs/s")
	}
	b.ReportMetric(float64(ops)*float64(s.bytesPerOp)/1e6/sec, "MB/s")
}
