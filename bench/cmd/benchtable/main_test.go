package main

import (
	"bytes"
	"strings"
	"testing"
)

const input = `goos: linux
goarch: amd64
pkg: polyconnect.dev/bench
cpu: Test CPU
BenchmarkUnary/impl=polyconnect/protocol=connect/transport=h2c-2   	 1000	  50000 ns/op	 4.00 MB/s	 20000 req/s	 2000 B/op	 20 allocs/op
BenchmarkUnary/impl=polyconnect/protocol=connect/transport=h2c-2   	 1000	  50000 ns/op	 4.00 MB/s	 20000 req/s	 2000 B/op	 20 allocs/op
BenchmarkUnary/impl=connect-go/protocol=connect/transport=h2c-2    	 1000	 100000 ns/op	 2.00 MB/s	 10000 req/s	 4000 B/op	 40 allocs/op
BenchmarkUnary/impl=raw/protocol=none/transport=h2c-2              	 1000	  25000 ns/op	 8.00 MB/s	 40000 req/s	 1000 B/op	 10 allocs/op
BenchmarkUnary/impl=grpc-go/protocol=grpc/transport=h2c-2          	 1000	  25000 ns/op	 8.00 MB/s	 40000 req/s	 1000 B/op	 10 allocs/op
BenchmarkUnary/impl=polyconnect/protocol=grpc/transport=h2c-rpc-2   	 1000	  20000 ns/op	 10.0 MB/s	 50000 req/s	 1000 B/op	 10 allocs/op
BenchmarkUnary/impl=raw/protocol=none/transport=h2c-rpc-2          	 1000	  10000 ns/op	 20.0 MB/s	100000 req/s	 500 B/op	  5 allocs/op
BenchmarkServerAllocs/impl=polyconnect/protocol=connect-2          	 1000	   1000 ns/op	  700 B/op	  8 allocs/op
BenchmarkServerAllocs/impl=connect-go/protocol=connect-2           	 1000	   2000 ns/op	 1400 B/op	 24 allocs/op
--- SKIP: BenchmarkUnary/impl=polyconnect/protocol=grpc/transport=h2c
    bench_test.go:1: not working yet
`

func TestTable(t *testing.T) {
	res := &results{data: make(map[string]map[key]sample), keys: make(map[string][]key)}
	if err := parse(strings.NewReader(input), res); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	write(&b, res)
	out := b.String()
	for _, want := range []string{
		"cpu: Test CPU",
		"| connect | h2c | connect-go | 20k | 10k | 2.00× | 0.50× | 20 / 40 | 0.50× | 0.50× |",
		"| connect | h2c | raw | 20k | 40k | 0.50× | 2.00× | 20 / 10 | 2.00× | 2.00× |",
		"| connect | — | connect-go | 1000 | 2000 | 0.50× | 8 / 24 | 0.33× | 700 / 1400 | 0.50× |",
		"| Unary | 2.00× | 0.50× | 0.50× | — | — | — | 0.50× | 2.00× | 2.00× |",
		// transport-h2 rows meet the peers on their own h2c, raw on the engine.
		"| grpc | h2c-rpc (peer: h2c) | grpc-go | 50k | 40k | 1.25× | 0.80× | 10 / 10 | 1.00× | 1.00× |",
		"| grpc | h2c-rpc (peer: h2c) | grpc-go | 1.25× |",
		"| connect | h2c | connect-go | 2.00× |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| grpc | h2c | grpc-go") {
		t.Errorf("table compares grpc-go with a polyconnect result that does not exist:\n%s", out)
	}
}

func TestFmtNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 8: "8", 2.5: "2.50", 12.34: "12.3", 999: "999", 12345: "12.3k", 2.5e6: "2.50M"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
}
