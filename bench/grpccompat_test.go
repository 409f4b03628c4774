package bench

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/bench/internal/harness"
	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	nethttp "polyconnect.dev/transport-nethttp"
)

// implGRPCCompat is grpc-go's implementation of the bench service (its
// generated code and handler code, unchanged) mounted on a
// grpccompat.Registrar: the grpc-go service code on polyconnect.
const implGRPCCompat = "grpccompat"

func grpcCompatHandler() http.Handler {
	reg := grpccompat.NewRegistrar()
	harness.RegisterGRPCGoService(reg)
	return reg
}

// BenchmarkGRPCCompatUnaryParallel is the migration guide's comparison: the
// same grpc-go service code on grpc.Server and through grpccompat's
// Registrar on polyconnect's transports, all called by grpc-go's own client
// over h2c, unary, 100 bytes each way, 64 callers; polyconnect's own
// handler for the service is the reference row.
func BenchmarkGRPCCompatUnaryParallel(b *testing.B) {
	type server struct {
		name  string
		start func(b *testing.B) string // returns host:port
	}
	servers := []server{
		{"server=grpc.Server", func(b *testing.B) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			s := harness.NewGRPCGoServer()
			go func() { _ = s.Serve(ln) }()
			b.Cleanup(s.Stop)
			return ln.Addr().String()
		}},
		{"server=registrar/transport=h2c-rpc", func(b *testing.B) string {
			srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, grpcCompatHandler())
			return startTransportServer(b, srv, err)
		}},
		{"server=polyconnect-native/transport=h2c-rpc", func(b *testing.B) string {
			// The reference: polyconnect's own generated handler for the
			// same service, so the compat layer's cost shows apart.
			mux := http.NewServeMux()
			path, h := harness.PolyconnectHandler()
			mux.Handle(path, h)
			srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, mux)
			return startTransportServer(b, srv, err)
		}},
		{"server=registrar/transport=h2c", func(b *testing.B) string {
			srv, err := nethttp.NewServer(transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0"}, grpcCompatHandler())
			return startTransportServer(b, srv, err)
		}},
	}
	msg := harness.NewPayload(smallSize)
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			addr := s.start(b)
			cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			client := benchv1.NewBenchServiceClient(cc)
			ctx := context.Background()
			for range 10 { // open the connection, fail early
				if _, err := client.Unary(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			runParallelUnary(b, func() error {
				res, err := client.Unary(ctx, msg)
				if err == nil && len(res.GetPayload()) != len(msg.GetPayload()) {
					err = errShortResponse
				}
				return err
			})
		})
	}
}

type shortResponseError struct{}

func (shortResponseError) Error() string { return "response payload of the wrong size" }

var errShortResponse error = shortResponseError{}

func startTransportServer(b *testing.B, srv transport.Server, err error) string {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv.Addr().String()
}

// runParallelUnary runs call from parallelCallers goroutines and reports
// req/s and the process's CPU time per call (client and server).
func runParallelUnary(b *testing.B, call func() error) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((parallelCallers + procs - 1) / procs)
	b.ReportAllocs()
	var failed atomic.Bool
	cpuStart, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if failed.Load() {
				continue // drain pb so RunParallel ends
			}
			if err := call(); err != nil && failed.CompareAndSwap(false, true) {
				b.Error(err)
			}
		}
	})
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "req/s")
	}
	if cpuEnd, ok := processCPU(); cpuOK && ok && b.N > 0 {
		// Client and server CPU per call: steadier than req/s when other
		// work shares the machine.
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
	}
}
