// Command faultload is polyconnect's load-and-fault run: many callers make
// calls through a balancing client to three replica processes while
// replicas are killed and restarted and connections reset at random, and
// it reports calls made, failures by code, retries, latency, goroutines and
// heap before and after. Idempotent unary calls must not fail; the exit
// status is 1 if one did.
//
//	go run ./cmd/faultload                   # 10 minutes at 256 callers
//	go run ./cmd/faultload -smoke            # 8 s at 16 callers, for CI
//	go run ./cmd/faultload -d 1m -c 64 -transport http1 -policy round_robin
//
// Other modes, used by scripts/nginx-test.sh:
//
//	faultload serve -addr 127.0.0.1:9001 -name r1   # one replica (h2c and HTTP/1.1 on one port)
//	faultload check -target https://127.0.0.1:8443 -ca ca.pem   # every protocol and stream kind through a proxy
//	faultload certs -dir DIR -host localhost        # a test CA and server certificate for the proxy
//	faultload -target https://127.0.0.1:8443 -ca ca.pem -transport h2 -d 8s -c 32   # load through a proxy
//
// It runs on Unix (signals and process control).
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	args := os.Args[1:]
	mode := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		mode, args = args[0], args[1:]
	}
	switch mode {
	case "":
		err = run(args)
	case "serve":
		err = serve(args)
	case "check":
		err = check(args)
	case "certs":
		err = writeCerts(args)
	default:
		err = fmt.Errorf("unknown mode %q (want serve, check, certs or none)", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultload:", err)
		os.Exit(1)
	}
}
