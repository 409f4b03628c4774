package bench

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
	"polyconnect.dev/bench/internal/harness"
	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	nethttp "polyconnect.dev/transport-nethttp"
)

// BenchmarkConnectGoHandlersOnTransportH2 is connect-go's own handlers for
// the bench service (unchanged, they are http.Handlers) served by net/http's
// h2c and by transport-h2's h2c-rpc, called by connect-go's client over
// net/http's h2c client: unary, 100 bytes each way, 64 callers, Connect and
// gRPC.
func BenchmarkConnectGoHandlersOnTransportH2(b *testing.B) {
	type server struct {
		name  string
		start func(b *testing.B, h http.Handler) string
	}
	servers := []server{
		{"transport=h2c", func(b *testing.B, h http.Handler) string {
			srv, err := nethttp.NewServer(transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0"}, h)
			return startTransportServer(b, srv, err)
		}},
		{"transport=h2c-rpc", func(b *testing.B, h http.Handler) string {
			srv, err := h2.NewServer(transport.Config{Name: h2.NameH2C, Addr: "127.0.0.1:0"}, h)
			return startTransportServer(b, srv, err)
		}},
	}
	msg := harness.NewPayload(smallSize)
	for _, protocol := range []string{harness.ProtocolConnect, harness.ProtocolGRPC} {
		for _, s := range servers {
			b.Run("protocol="+protocol+"/"+s.name, func(b *testing.B) {
				mux := http.NewServeMux()
				mux.Handle(harness.ConnectGoHandler())
				addr := s.start(b, mux)
				tr := &http.Transport{Protocols: new(http.Protocols)}
				tr.Protocols.SetUnencryptedHTTP2(true)
				defer tr.CloseIdleConnections()
				client := benchv1connect.NewBenchServiceClient(&http.Client{Transport: tr}, "http://"+addr, harness.ConnectGoClientOptions(protocol)...)
				ctx := context.Background()
				call := func() error {
					res, err := client.Unary(ctx, connect.NewRequest(msg))
					if err == nil && len(res.Msg.GetPayload()) != len(msg.GetPayload()) {
						err = errShortResponse
					}
					return err
				}
				for range 10 { // open the connection, fail early
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
				runParallelUnary(b, call)
			})
		}
	}
}
