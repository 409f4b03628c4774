// Command conformanceclient is the client under test for the Connect
// conformance suite in client mode. It reads ClientCompatRequests from stdin,
// performs each RPC against the reference server with package rpc's Client,
// and writes a ClientCompatResponse per request to stdout. Requests run
// concurrently (-p); results are written as they complete.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"os"
	"sync"

	"polyconnect.dev/conformance/internal/compat"
	v1 "polyconnect.dev/conformance/internal/gen/connectrpc/conformance/v1"

	// Every compression the configs list; each registers itself.
	_ "polyconnect.dev/protocol/compress/brotli"
	_ "polyconnect.dev/protocol/compress/deflate"
	_ "polyconnect.dev/protocol/compress/snappy"
	_ "polyconnect.dev/protocol/compress/zstd"
	// The http1, h2c, h2, h2c-rpc and h2-rpc transports.
	"polyconnect.dev/conformance/internal/engine"
	// The h3 transport.
	_ "polyconnect.dev/transport-http3"
)

func main() {
	log.SetPrefix("conformanceclient: ")
	log.SetFlags(0)
	parallel := flag.Int("p", 16, "number of RPCs in flight at once")
	http2 := engine.Flag()
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *parallel, *http2); err != nil {
		log.Fatal(err)
	}
}

func run(in io.Reader, out io.Writer, parallel int, http2 string) error {
	in = bufio.NewReader(in)
	var (
		mu       sync.Mutex
		writeErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, max(parallel, 1))
		clients  = newHTTPClients(http2)
	)
	defer clients.close()
	for {
		req := new(v1.ClientCompatRequest)
		if err := compat.ReadMessage(in, req); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res := &v1.ClientCompatResponse{TestName: req.GetTestName()}
			result, err := invoke(context.Background(), clients, req)
			if err != nil {
				res.Result = &v1.ClientCompatResponse_Error{Error: &v1.ClientErrorResult{Message: err.Error()}}
			} else {
				res.Result = &v1.ClientCompatResponse_Response{Response: result}
			}
			mu.Lock()
			defer mu.Unlock()
			if err := compat.WriteMessage(out, res); err != nil && writeErr == nil {
				writeErr = err
			}
		}()
	}
	wg.Wait()
	return writeErr
}
