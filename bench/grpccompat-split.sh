#!/usr/bin/env bash
# grpccompat-split.sh: the split-process comparison of grpccompat's migration guide. The same
# grpc-go service code served by grpc.Server, and through grpccompat's Registrar on transport-h2
# (h2c-rpc), with polyconnect's own handler on h2c-rpc as the reference, each server in a process
# of its own (cmd/compatserve), called by grpc-go's own client (cmd/load -impl grpc-go) with 64
# callers, unary, 100 bytes each way. Rounds are interleaved so that drift on the machine spreads
# over all three. Prints, per server and round, req/s and the CPU time per request of the server
# and of grpc-go's client (cmd/load with -server-pid reads both over the measured phase only),
# then the median of each column per server and its ratio to grpc.Server's.
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
to_ns() { # a Go duration as cmd/load prints it (21.3µs, 950ns, 1.2ms) in ns
	awk -v d="$1" 'BEGIN {
		if (d ~ /µs$/) { sub(/µs$/, "", d); printf "%.0f\n", d * 1000 }
		else if (d ~ /ms$/) { sub(/ms$/, "", d); printf "%.0f\n", d * 1000000 }
		else if (d ~ /ns$/) { sub(/ns$/, "", d); printf "%.0f\n", d }
		else { sub(/s$/, "", d); printf "%.0f\n", d * 1000000000 }
	}'
}
: >"$tmp/rows"
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
		out="$("$tmp/load" -impl grpc-go -protocol grpc -transport h2c -addr "$addr" -server-pid "$pid" -c 64 -d "$duration" -warmup 0s)"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=""
		rate="$(sed -nE 's/.*, ([0-9]+) req\/s.*/\1/p' <<<"$out")"
		cpu="$(sed -nE 's/^  cpu .* per request: client ([^,]+), server (.+)$/\1 \2/p' <<<"$out")"
		if [[ -z "$cpu" ]]; then
			echo "no CPU figures in cmd/load's output:" >&2
			echo "$out" >&2
			exit 1
		fi
		client="$(to_ns "${cpu% *}")"
		srv="$(to_ns "${cpu#* }")"
		printf 'round %d  server=%-10s %8s req/s  server cpu %6d ns/req  client cpu %6d ns/req  sum %6d ns/req\n' \
			"$round" "$server" "$rate" "$srv" "$client" $((srv + client))
		echo "$server $rate $srv $client $((srv + client))" >>"$tmp/rows"
	done
done
echo "medians (ratio to grpc):"
for server in grpc registrar native; do
	for col in 2 3 4 5; do
		awk -v s="$server" -v c="$col" '$1 == s { print $c }' "$tmp/rows" | sort -n |
			awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
	done | paste -sd' ' >"$tmp/med.$server"
done
read -r g_rate g_srv g_cli g_sum <"$tmp/med.grpc"
for server in grpc registrar native; do
	read -r rate srv cli sum <"$tmp/med.$server"
	awk -v n="$server" -v r="$rate" -v s="$srv" -v c="$cli" -v t="$sum" \
		-v gr="$g_rate" -v gs="$g_srv" -v gc="$g_cli" -v gt="$g_sum" 'BEGIN {
		printf "  server=%-10s %8.0f req/s (%.2fx)  server cpu %6.0f ns/req (%.2fx)  client cpu %6.0f ns/req (%.2fx)  sum %6.0f ns/req (%.2fx)\n",
			n, r, r / gr, s, s / gs, c, c / gc, t, t / gt
	}'
done
