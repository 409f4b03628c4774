package bench

import (
	"context"
	"testing"

	"polyconnect.dev/bench/internal/harness"
)

// BenchmarkOnePortHTTP1 measures what an HTTP/1.1 client gets from
// transport-h2's one-port mode, which hands HTTP/1.1 connections to
// net/http on the engine's port: polyconnect's Connect unary calls over
// HTTP/1.1 against an h2c-rpc server (server=h2c-rpc), next to the same
// client against transport-nethttp's http1 server (server=http1). The
// connection is sniffed once, so keep-alive calls should cost the same.
func BenchmarkOnePortHTTP1(b *testing.B) {
	for _, sc := range []struct {
		name string
		s    scenario
	}{{"Unary", scenarioUnary}, {"UnaryParallel", scenarioUnaryParallel}} {
		for _, server := range []string{harness.TransportHTTP1, harness.TransportH2CRPC} {
			client := harness.Target{Impl: harness.ImplPolyconnect, Protocol: harness.ProtocolConnect, Transport: harness.TransportHTTP1}
			fx := &fixture{target: client}
			fx.once.Do(func() {
				srvTarget := client
				srvTarget.Transport = server
				if fx.srv, fx.err = harness.StartServer(srvTarget); fx.err != nil {
					return
				}
				if fx.client, fx.err = harness.NewClient(client, fx.srv.URL); fx.err != nil {
					return
				}
				fx.err = warmUp(context.Background(), fx.client, sc.s, harness.NewPayload(sc.s.size))
			})
			b.Run(sc.name+"/server="+server, func(b *testing.B) { fx.bench(b, sc.s) })
			fx.close()
		}
	}
}
