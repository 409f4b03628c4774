package bench

// REST rows: one REST/JSON call (POST /v1/shelves/s1/books?book_id=b1, a
// JSON book of about 100 bytes each way) through polyconnect's transcoder
// (transcode, calling the RPC handler in process) and through grpc-gateway
// proxying to grpc-go over loopback h2c, the way grpc-gateway is deployed.
// Both REST faces are net/http servers on loopback, called over HTTP/1.1
// with keep-alive by one http.Client.
//
//	BenchmarkREST/impl=<polyconnect|grpc-gateway>/protocol=rest/transport=http1          one caller
//	BenchmarkRESTParallel/impl=<polyconnect|grpc-gateway>/protocol=rest/transport=http1  64 callers

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/transcode"

	lib "polyconnect.dev/bench/gen/transcodetest/v1"
	"polyconnect.dev/bench/gen/transcodetest/v1/transcodetestv1rpc"
)

const restBody = `{"title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","pageCount":"304","tags":["sf","classic"]}`

func createBook(req *lib.CreateBookRequest) *lib.Book {
	b := req.Book
	if b == nil {
		b = &lib.Book{}
	}
	b.Name = req.Parent + "/books/" + req.BookId
	return b
}

type grpcBooks struct {
	lib.UnimplementedLibraryServiceServer
}

func (grpcBooks) CreateBook(_ context.Context, req *lib.CreateBookRequest) (*lib.Book, error) {
	return createBook(req), nil
}

type pcBooks struct {
	transcodetestv1rpc.UnimplementedLibraryServiceHandler
}

func (pcBooks) CreateBook(_ context.Context, req *lib.CreateBookRequest) (*lib.Book, error) {
	return createBook(req), nil
}

// restServer starts one REST face and returns its base URL.
func restServer(b *testing.B, impl string) string {
	b.Helper()
	var h http.Handler
	switch impl {
	case "polyconnect":
		mux := http.NewServeMux()
		mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(pcBooks{}))
		sd := lib.File_transcodetest_v1_library_proto.Services().ByName("LibraryService")
		rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{sd})
		if err != nil {
			b.Fatal(err)
		}
		mux.Handle("/", rest)
		h = mux
	case "grpc-gateway":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		gs := grpc.NewServer()
		lib.RegisterLibraryServiceServer(gs, grpcBooks{})
		go func() { _ = gs.Serve(lis) }()
		b.Cleanup(gs.Stop)
		gw := gwruntime.NewServeMux()
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		if err := lib.RegisterLibraryServiceHandlerFromEndpoint(ctx, gw, lis.Addr().String(),
			[]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}); err != nil {
			b.Fatal(err)
		}
		h = gw
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL
}

var restClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

func restCall(url string) error {
	res, err := restClient.Post(url, "application/json", strings.NewReader(restBody))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"shelves/s1/books/b1"`) {
		return &restError{res.StatusCode, string(body)}
	}
	return nil
}

type restError struct {
	status int
	body   string
}

func (e *restError) Error() string { return "REST call: " + http.StatusText(e.status) + ": " + e.body }

func BenchmarkREST(b *testing.B)         { benchREST(b, false) }
func BenchmarkRESTParallel(b *testing.B) { benchREST(b, true) }

func benchREST(b *testing.B, parallel bool) {
	for _, impl := range []string{"polyconnect", "grpc-gateway"} {
		b.Run("impl="+impl+"/protocol=rest/transport=http1", func(b *testing.B) {
			url := restServer(b, impl) + "/v1/shelves/s1/books?book_id=b1"
			for range 3 {
				if err := restCall(url); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			bytesPerOp := float64(2 * len(restBody))
			// The process's CPU time per call, client and server together:
			// on a machine other work loads, a steadier measure of each
			// side's cost than the wall time.
			cpuStart, cpuOK := processCPU()
			if !parallel {
				for b.Loop() {
					if err := restCall(url); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((parallelCallers + procs - 1) / procs)
				var failed atomic.Bool
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if failed.Load() {
							continue
						}
						if err := restCall(url); err != nil && failed.CompareAndSwap(false, true) {
							b.Errorf("%s: %v", impl, err)
						}
					}
				})
			}
			if cpuEnd, ok := processCPU(); cpuOK && ok && b.N > 0 {
				b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
			}
			if sec := b.Elapsed().Seconds(); sec > 0 {
				b.ReportMetric(float64(b.N)/sec, "req/s")
				b.ReportMetric(float64(b.N)*bytesPerOp/1e6/sec, "MB/s")
			}
		})
	}
}
