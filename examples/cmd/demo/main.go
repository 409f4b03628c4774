// Command demo is polyconnect's quick start: it serves the greet service
// over HTTP/1.1, h2c and TLS HTTP/2 on loopback, calls every method over
// each with the generated client in each protocol the transport carries
// (Connect, gRPC, gRPC-Web), and prints what happened.
//
//	go run ./examples/cmd/demo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	greetv1 "polyconnect.dev/examples/gen/greet/v1"
	"polyconnect.dev/examples/gen/greet/v1/greetv1rpc"
	_ "polyconnect.dev/protocol/compress/zstd"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
	"polyconnect.dev/transport-nethttp/certs"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// greeter implements greetv1rpc.GreetServiceHandler.
type greeter struct{}

func (greeter) Greet(ctx context.Context, req *greetv1.GreetRequest) (*greetv1.GreetResponse, error) {
	if req.Name == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "name is required")
	}
	info, _ := rpc.CallInfoFromContext(ctx)
	info.ResponseTrailer().Set("Greet-Method", info.HTTPMethod())
	return &greetv1.GreetResponse{Greeting: "Hello, " + req.Name + "!"}, nil
}

func (greeter) GreetMany(ctx context.Context, req *greetv1.GreetRequest, stream *rpc.ServerStream[greetv1.GreetResponse]) error {
	for i := 1; i <= 3; i++ {
		if err := stream.Send(&greetv1.GreetResponse{Greeting: fmt.Sprintf("Hello #%d, %s!", i, req.Name)}); err != nil {
			return err
		}
	}
	return nil
}

func (greeter) GreetAll(ctx context.Context, stream *rpc.ClientStream[greetv1.GreetRequest]) (*greetv1.GreetResponse, error) {
	var names []string
	for req, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		names = append(names, req.Name)
	}
	return &greetv1.GreetResponse{Greeting: "Hello, " + strings.Join(names, " and ") + "!"}, nil
}

func (greeter) Chat(ctx context.Context, stream *rpc.BidiStream[greetv1.GreetRequest, greetv1.GreetResponse]) error {
	for req, err := range stream.All() {
		if err != nil {
			return err
		}
		if err := stream.Send(&greetv1.GreetResponse{Greeting: "Nice to meet you, " + req.Name + "."}); err != nil {
			return err
		}
	}
	return nil
}

// withHTTPVersion reports the HTTP version each request arrived with in a
// response header, so the client can show what the transport negotiated.
func withHTTPVersion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Demo-Http-Version", r.Proto)
		h.ServeHTTP(w, r)
	})
}

func run(out io.Writer) error {
	pki, err := certs.NewTestPKI("127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(greetv1rpc.NewGreetServiceHandler(greeter{}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fmt.Fprintln(out, "polyconnect demo: the greet service over every transport, on loopback")
	for _, name := range []string{transport.NameHTTP1, transport.NameH2C, transport.NameH2} {
		serverCfg := transport.Config{Name: name, Addr: "127.0.0.1:0"}
		clientCfg := transport.Config{Name: name}
		if name == transport.NameH2 {
			serverCfg.TLS = pki.ServerTLS()
			clientCfg.TLS = pki.ClientTLS()
		}
		srv, err := nethttp.NewServer(serverCfg, withHTTPVersion(mux))
		if err != nil {
			return err
		}
		if err := srv.Start(); err != nil {
			return err
		}
		hc, err := nethttp.NewClient(clientCfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n[%s] serving at %s\n", name, srv.URL())
		var callErr error
		for _, protocol := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
			if protocol == rpc.ProtocolGRPC && name == transport.NameHTTP1 {
				continue // gRPC needs HTTP/2
			}
			fmt.Fprintf(out, "  -- %s\n", protocol)
			client := greetv1rpc.NewGreetServiceClient(hc, srv.URL(), rpc.WithProtocol(protocol), rpc.WithSendCompression("zstd"))
			if callErr = callAll(ctx, out, client, name != transport.NameHTTP1); callErr != nil {
				callErr = fmt.Errorf("%s: %w", protocol, callErr)
				break
			}
		}
		hc.CloseIdleConnections()
		shutdownErr := srv.Shutdown(ctx)
		if err := errors.Join(callErr, shutdownErr); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintln(out, "\nall calls succeeded")
	return nil
}

func callAll(ctx context.Context, out io.Writer, client greetv1rpc.GreetServiceClient, fullDuplex bool) error {
	cctx, info := rpc.NewCallContext(ctx)
	res, err := client.Greet(cctx, &greetv1.GreetRequest{Name: "Ada"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  Greet      (%s over %s): %s\n", info.ResponseTrailer().Get("Greet-Method"),
		info.ResponseHeader().Get("Demo-Http-Version"), res.Greeting)

	_, err = client.Greet(ctx, &greetv1.GreetRequest{})
	fmt.Fprintf(out, "  Greet      (empty name): error code %s, message %q\n", rpc.CodeOf(err), messageOf(err))
	if rpc.CodeOf(err) != rpc.CodeInvalidArgument {
		return fmt.Errorf("empty name: want invalid_argument, got %v", err)
	}

	stream, err := client.GreetMany(ctx, &greetv1.GreetRequest{Name: "Grace"})
	if err != nil {
		return err
	}
	var greetings []string
	for msg, err := range stream.All() {
		if err != nil {
			return err
		}
		greetings = append(greetings, msg.Greeting)
	}
	fmt.Fprintf(out, "  GreetMany  (server stream): %s\n", strings.Join(greetings, " / "))

	all := client.GreetAll(ctx)
	for _, name := range []string{"Alan", "Barbara", "Edsger"} {
		if err := all.Send(&greetv1.GreetRequest{Name: name}); err != nil {
			return err
		}
	}
	joined, err := all.CloseAndReceive()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  GreetAll   (client stream): %s\n", joined.Greeting)

	chat := client.Chat(ctx)
	defer chat.CloseReceive()
	names := []string{"Ken", "Rob"}
	var replies []string
	if fullDuplex {
		for _, name := range names {
			if err := chat.Send(&greetv1.GreetRequest{Name: name}); err != nil {
				return err
			}
			msg, err := chat.Receive()
			if err != nil {
				return err
			}
			replies = append(replies, msg.Greeting)
		}
		_ = chat.CloseSend()
	} else {
		for _, name := range names {
			if err := chat.Send(&greetv1.GreetRequest{Name: name}); err != nil {
				return err
			}
		}
		_ = chat.CloseSend()
		for msg, err := range chat.All() {
			if err != nil {
				return err
			}
			replies = append(replies, msg.Greeting)
		}
	}
	mode := "half duplex"
	if fullDuplex {
		mode = "full duplex"
	}
	fmt.Fprintf(out, "  Chat       (bidi, %s): %s\n", mode, strings.Join(replies, " / "))
	return nil
}

func messageOf(err error) string {
	var e *rpc.Error
	if errors.As(err, &e) {
		return e.Message()
	}
	return ""
}
