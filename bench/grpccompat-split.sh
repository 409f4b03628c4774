#!/usr/bin/env bash
# grpccompat-split.sh: the split-process comparison of grpccompat's migration guide. The same
# grpc-go service code served by grpc.Server, and through grpccompat's Registrar on transport-h2
# (h2c-rpc), with polyconnect's own handler on h2c-rpc as the reference, each server in a process
# of its own (cmd/compatserve), called by grpc-go's own client (cmd/load -impl grpc-go) with 64
# callers, unary, 100 bytes each way. Rounds are interleaved so that drift on the machine spreads
# over all three. Prints, per server and round, req/s and the server's CPU time per request.
#
#   bash bench/grpccompat-split.sh [ROUNDS] [DURATION]    # default 3 rounds of 10s
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export GOWORK=off
rounds="${1:-3}"
duration="${2:-10s}"
tmp="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/" ./cmd/compatserve ./cmd/load
ticks="$(getconf CLK_TCK)"
cpu_ns() { # process CPU time (user+system) of pid $1 in ns
	awk -v t="$ticks" '{printf "%.0f\n", ($14 + $15) * (1000000000 / t)}' "/proc/$1/stat"
}
for round in $(seq "$rounds"); do
	for server in grpc registrar native; do
		"$tmp/compatserve" -server "$server" >"$tmp/serve.log" 2>&1 &
		pid=$!
		for _ in $(seq 200); do
			grep -q "serving at" "$tmp/serve.log" && break
			sleep 0.05
		done
		addr="$(sed -n 's/^compatserve: serving at //p' "$tmp/serve.log")"
		"$tmp/load" -impl grpc-go -protocol grpc -transport h2c -addr "$addr" -c 64 -d 1s >/dev/null # warm up
		before="$(cpu_ns "$pid")"
		out="$("$tmp/load" -impl grpc-go -protocol grpc -transport h2c -addr "$addr" -c 64 -d "$duration" -warmup 0s)"
		after="$(cpu_ns "$pid")"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=""
		reqs="$(sed -nE 's/^  requests ([0-9]+) in .*/\1/p' <<<"$out")"
		rate="$(sed -nE 's/.*, ([0-9]+) req\/s.*/\1/p' <<<"$out")"
		printf 'round %d  server=%-10s %8s req/s  server cpu %6d ns/req\n' "$round" "$server" "$rate" $(((after - before) / reqs))
	done
done
