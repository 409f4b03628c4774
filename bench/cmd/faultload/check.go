package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// check calls every method on every protocol through a proxy at -target,
// over each client transport, and prints what worked. Combinations the
// path cannot carry are listed with the reason and must fail cleanly (an
// RPC error before the deadline, no hang); everything else must work, and
// unary calls must reach more than one replica.
func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	target := fs.String("target", "", "the proxy's URL, https://host:port")
	caFile := fs.String("ca", "", "PEM CA file that verifies the proxy")
	transports := fs.String("transports", "h2,http1", "client transports towards the proxy")
	_ = fs.Parse(args)
	host := strings.TrimPrefix(*target, "https://")
	if host == *target || host == "" {
		return errors.New("check needs -target https://host:port")
	}

	failed := 0
	for _, name := range strings.Split(*transports, ",") {
		client, err := transport.NewClient(transport.Config{Name: name, Addr: host, TLS: &transport.TLSConfig{CAFile: *caFile}})
		if err != nil {
			return err
		}
		for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
			s := newClients(client, client.URL(), p)
			for _, c := range checks {
				why := c.cannot(name, p)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				start := time.Now()
				detail, err := c.run(ctx, s)
				cancel()
				took := time.Since(start).Round(time.Millisecond)
				switch {
				case why == "" && err == nil:
					fmt.Printf("ok    %-6s %-8s %-22s %s\n", name, p, c.name, detail)
				case why == "":
					failed++
					fmt.Printf("FAIL  %-6s %-8s %-22s %v (%v)\n", name, p, c.name, err, took)
				case err != nil && took < 9*time.Second:
					fmt.Printf("n/a   %-6s %-8s %-22s %s: fails cleanly with %s\n", name, p, c.name, why, rpc.CodeOf(err))
				case err != nil:
					failed++
					fmt.Printf("FAIL  %-6s %-8s %-22s %s, but it hung until the deadline: %v\n", name, p, c.name, why, err)
				default:
					fmt.Printf("ok    %-6s %-8s %-22s works, although %s\n", name, p, c.name, why)
				}
			}
		}
		client.CloseIdleConnections()
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}

// aCheck is one call kind.
type aCheck struct {
	name   string
	run    func(context.Context, *clients) (string, error)
	cannot func(transportName string, p rpc.Protocol) string // why the path cannot carry it, or ""
}

func always(string, rpc.Protocol) string { return "" }

func grpcNeedsHTTP2(tn string, p rpc.Protocol) string {
	if p == rpc.ProtocolGRPC && tn == transport.NameHTTP1 {
		return "gRPC requires HTTP/2 and the client speaks HTTP/1.1"
	}
	return ""
}

var checks = []aCheck{
	{"unary (spread)", checkUnarySpread, grpcNeedsHTTP2},
	{"unary POST", checkUnaryPost, grpcNeedsHTTP2},
	{"server stream", func(ctx context.Context, s *clients) (string, error) {
		return "10 messages", serverStream(ctx, s)
	}, grpcNeedsHTTP2},
	{"client stream", func(ctx context.Context, s *clients) (string, error) {
		return "5 messages", clientStream(ctx, s, &benchv1.Payload{Payload: []byte("hello")})
	}, grpcNeedsHTTP2},
	{"bidi half duplex", func(ctx context.Context, s *clients) (string, error) {
		return "5 sent, then 5 echoes", halfDuplexBidi(ctx, s, &benchv1.Payload{Payload: []byte("hello")})
	}, grpcNeedsHTTP2},
	// Through nginx with proxy_buffering and proxy_request_buffering off,
	// full duplex works even to HTTP/1.1 upstreams, and from HTTP/1.1
	// clients too (net/http reads the response while it writes the
	// request); polyconnect promises full duplex only over HTTP/2 and
	// HTTP/3, so from an HTTP/1.1 client it is reported, not required.
	{"bidi full duplex", checkFullDuplex, func(tn string, p rpc.Protocol) string {
		if why := grpcNeedsHTTP2(tn, p); why != "" {
			return why
		}
		if tn == transport.NameHTTP1 {
			return "polyconnect promises only half duplex over HTTP/1.1"
		}
		return ""
	}},
}

// checkUnarySpread makes unary calls (GET for Connect) until two replicas
// have answered.
func checkUnarySpread(ctx context.Context, s *clients) (string, error) {
	seen := map[string]int{}
	method := ""
	for i := 0; i < 30 && len(seen) < 2; i++ {
		callCtx, info := rpc.NewClientContext(ctx)
		res, err := s.unary.CallUnary(callCtx, &benchv1.Payload{Payload: []byte("ping")})
		if err != nil {
			return "", err
		}
		if string(res.GetPayload()) != "ping" {
			return "", fmt.Errorf("echo %q", res.GetPayload())
		}
		seen[info.ResponseHeader().Get("Replica")]++
		method = info.HTTPMethod()
	}
	if len(seen) < 2 {
		return "", fmt.Errorf("30 calls all reached %v", seen)
	}
	return fmt.Sprintf("%s, replicas %v", method, seen), nil
}

// checkUnaryPost sends a request too large for a Connect GET.
func checkUnaryPost(ctx context.Context, s *clients) (string, error) {
	big := &benchv1.Payload{Payload: []byte(strings.Repeat("x", 64<<10))}
	callCtx, info := rpc.NewClientContext(ctx)
	res, err := s.unary.CallUnary(callCtx, big)
	if err != nil {
		return "", err
	}
	if len(res.GetPayload()) != len(big.GetPayload()) {
		return "", fmt.Errorf("echo of %d bytes", len(res.GetPayload()))
	}
	return info.HTTPMethod() + ", 64 KiB each way", nil
}

// checkFullDuplex waits for each echo before sending the next message.
func checkFullDuplex(ctx context.Context, s *clients) (string, error) {
	// A short deadline: a path that cannot carry it holds the first echo.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	stream, err := s.bidi.CallBidiStream(ctx)
	if err != nil {
		return "", err
	}
	defer stream.CloseReceive()
	for i := range 3 {
		msg := &benchv1.Payload{Payload: []byte(fmt.Sprint("ping-", i))}
		if err := stream.Send(msg); err != nil {
			_, rerr := stream.Receive()
			return "", fmt.Errorf("send %d: %w (%v)", i, err, rerr)
		}
		res, err := stream.Receive()
		if err != nil {
			return "", err
		}
		if string(res.GetPayload()) != string(msg.GetPayload()) {
			return "", fmt.Errorf("echo %q", res.GetPayload())
		}
	}
	_ = stream.CloseSend()
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("end: %v", err)
	}
	return "3 ping-pongs", nil
}
