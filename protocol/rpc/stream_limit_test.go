package rpc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// TestStreamsNearTheStreamLimit: many streaming calls at once over h2c to
// a server that allows few concurrent streams per connection. net/http's
// client then opens more connections and may retry a request on another
// one; no call may fail for it. Such retries used to fail with UNAVAILABLE
// "io: read/write on closed pipe": the streaming request body had been
// closed by the first attempt.
func TestStreamsNearTheStreamLimit(t *testing.T) {
	noLeaks(t)
	srv := httptest.NewUnstartedServer(echoMux())
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2}
	srv.Start()
	defer srv.Close()
	for _, p := range allProtocols {
		t.Run(p.name, func(t *testing.T) {
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			client := rpc.NewClient[sv, sv](hc, srv.URL, specClient, rpc.WithProtocol(p.protocol))
			bidi := rpc.NewClient[sv, sv](hc, srv.URL, specBidi, rpc.WithProtocol(p.protocol))
			var wg sync.WaitGroup
			errs := make(chan error, 60)
			for i := range 30 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					if i%2 == 0 {
						cs, err := client.CallClientStream(ctx)
						if err != nil {
							errs <- fmt.Errorf("client stream %d: %w", i, err)
							return
						}
						for j := range 3 {
							if err := cs.Send(wrapperspb.String(fmt.Sprint(j))); err != nil {
								errs <- fmt.Errorf("client stream %d: send: %w", i, err)
								return
							}
						}
						res, err := cs.CloseAndReceive()
						if err != nil || res.Value != "0,1,2" {
							errs <- fmt.Errorf("client stream %d: %v %v", i, res, err)
						}
						return
					}
					bs, err := bidi.CallBidiStream(ctx)
					if err != nil {
						errs <- fmt.Errorf("bidi %d: %w", i, err)
						return
					}
					defer bs.CloseReceive()
					if err := bs.Send(wrapperspb.String("x")); err != nil {
						errs <- fmt.Errorf("bidi %d: send: %w", i, err)
						return
					}
					if err := bs.CloseSend(); err != nil {
						errs <- fmt.Errorf("bidi %d: close send: %w", i, err)
						return
					}
					if res, err := bs.Receive(); err != nil || res.Value != "echo:x" {
						errs <- fmt.Errorf("bidi %d: %v %v", i, res, err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
