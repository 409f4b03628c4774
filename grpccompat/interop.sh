#!/usr/bin/env bash
# interop.sh runs grpc-go's interop test cases (google.golang.org/grpc/interop) through grpccompat:
#
#   (1) grpc-go's client cases through grpccompat.ClientConn (interoptest/cmd/compatclient), over
#       every polyconnect transport and protocol, against the project's interop server
#       (conformance/cmd/interopserver, on net/http and on transport-h2, h2c and TLS);
#   (2) the same client, gRPC protocol, against grpc-go's own interop server (h2c and TLS);
#   (3) the same client, every transport and protocol, against grpc-go's TestServiceServer mounted
#       on a grpccompat.Registrar (interoptest/cmd/compatserver), HTTP/3 included;
#   (4) grpc-go's interop client against that Registrar server (h2c, h2c-rpc, h2, h2-rpc).
#
# TLS uses grpc-go's test certificates (server1.pem for *.test.google.fr, ca.pem). Every case runs
# as its own client process; the script prints a PASS, FAIL or SKIP line per case (SKIP: the case
# cannot apply, with the reason) and ends with the plain line "N passed, M failed"; the exit status
# is non-zero if any case failed.
#
#   bash grpccompat/interop.sh
#   CASES=large_unary,ping_pong bash grpccompat/interop.sh    # only these cases
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export GOWORK=off

standard_cases=(
	empty_unary large_unary client_streaming server_streaming ping_pong empty_stream
	cancel_after_begin cancel_after_first_response timeout_on_sleeping_server custom_metadata
	status_code_and_message special_status_message unimplemented_method unimplemented_service
)
# Cases that need full-duplex streams: over HTTP/1.1 a stream's responses start only once its
# requests have ended.
duplex_cases=(ping_pong cancel_after_first_response)

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
skipped=0

selected() { [[ -z "${CASES:-}" || ",$CASES," == *",$1,"* ]]; }
is_duplex_case() { [[ " ${duplex_cases[*]} " == *" $1 "* ]]; }

echo "interop.sh: building" >&2
mkdir -p "$tmp/bin"
if ! (cd "$here/interoptest" && go build -o "$tmp/bin/" ./cmd/compatclient ./cmd/compatserver) ||
	! (cd "$root/conformance" && go build -o "$tmp/bin/" ./cmd/interopserver); then
	echo "interop.sh: building the programs failed" >&2
	echo "$passed passed, 1 failed"
	exit 1
fi
if ! grpc_client="$(cd "$here/interoptest" && go tool -n google.golang.org/grpc/interop/client)" ||
	! grpc_server="$(cd "$here/interoptest" && go tool -n google.golang.org/grpc/interop/server)"; then
	echo "interop.sh: building grpc-go's interop client and server failed" >&2
	echo "$passed passed, 1 failed"
	exit 1
fi
testdata="$(cd "$here/interoptest" && go list -m -f '{{.Dir}}' google.golang.org/grpc)/testdata"
compatclient="$tmp/bin/compatclient"
compatserver="$tmp/bin/compatserver"
interopserver="$tmp/bin/interopserver"

free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# start_server LOG COMMAND...: starts COMMAND -port PORT on a free port and waits until its TCP
# port accepts connections (an HTTP/3 server, on UDP: until it says "listening on"); sets
# server_pid and server_port. A server that exits first is retried on another port.
start_server() {
	local log="$1" port
	shift
	for _ in 1 2 3; do
		port="$(free_port)" || break
		"$@" -port "$port" >"$log" 2>&1 &
		server_pid=$!
		local deadline=$((SECONDS + 60))
		while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do
			if [[ " $* " == *" -transport h3 "* ]] && grep -q "listening on" "$log" 2>/dev/null ||
				(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				server_port="$port"
				return 0
			fi
			sleep 0.05
		done
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=""
	done
	sed 's/^/    server: /' "$log" >&2
	return 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=""
}

run_case() { # run_case LABEL CASE COMMAND...
	local label="$1" name="$2" out rc start ms
	shift 2
	start=$(date +%s%N)
	out="$(timeout -k 5 90 "$@" 2>&1)"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if ((rc == 0)); then
		passed=$((passed + 1))
		printf 'PASS  %-62s %-30s %6dms\n' "$label" "$name" "$ms"
	else
		failed=$((failed + 1))
		printf 'FAIL  %-62s %-30s %6dms  (exit %d)\n' "$label" "$name" "$ms" "$rc"
		tail -n 20 <<<"$out" | sed 's/^/    /'
	fi
}

skip() { # skip LABEL REASON CASE...
	local label="$1" reason="$2" name
	shift 2
	for name in "$@"; do
		selected "$name" || continue
		skipped=$((skipped + 1))
		printf 'SKIP  %-62s %-30s  %s\n' "$label" "$name" "$reason"
	done
}

# leg LABEL SERVER_ARRAY CLIENT_ARRAY CASE...: one server, one client process per case.
leg() {
	local label="$1" name log
	local -n _server="$2" _client="$3"
	shift 3
	local want=()
	for name in "$@"; do
		selected "$name" && want+=("$name")
	done
	((${#want[@]} > 0)) || return 0
	log="$tmp/server.log"
	if ! start_server "$log" "${_server[@]}"; then
		failed=$((failed + ${#want[@]}))
		printf 'FAIL  %-62s %s: the server did not start\n' "$label" "${want[*]}"
		return
	fi
	local failed_before=$failed
	for name in "${want[@]}"; do
		run_case "$label" "$name" "${_client[@]}" -server_port "$server_port" -test_case "$name"
	done
	stop_server
	if ((failed > failed_before)) && [[ -s "$log" ]]; then
		tail -n 20 "$log" | sed 's/^/    server: /'
	fi
}

tls_server_flags=(-tls_cert_file "$testdata/server1.pem" -tls_key_file "$testdata/server1.key")
tls_client_flags=(-ca_file "$testdata/ca.pem" -server_host_override foo.test.google.fr)

# client_legs SERVER_LABEL SERVER_ARRAY TRANSPORT PROTOCOLS EXTRA_CASES...: the compat client on
# TRANSPORT, one leg per protocol, against one server configuration.
client_legs() {
	local slabel="$1" sname="$2" tname="$3" protos="$4" p
	shift 4
	local cases=("${standard_cases[@]}" "$@")
	for p in $protos; do
		local client=("$compatclient" -server_host 127.0.0.1 -transport "$tname" -protocol "$p")
		case "$tname" in http1 | h2c | h2c-rpc) ;; *) client+=("${tls_client_flags[@]}") ;; esac
		local label="compatclient $tname/$p → $slabel"
		if [[ "$tname" == http1 ]]; then
			local half=()
			for c in "${cases[@]}"; do is_duplex_case "$c" || half+=("$c"); done
			leg "$label" "$sname" client "${half[@]}"
			skip "$label" "needs full-duplex streams, which HTTP/1.1 does not carry" "${duplex_cases[@]}"
		else
			leg "$label" "$sname" client "${cases[@]}"
		fi
	done
}

# (1) compat client → the project's interop server.
s_nethttp_h2c=("$interopserver" -host 127.0.0.1)
s_h2_h2c=("$interopserver" -host 127.0.0.1 -http2 h2)
s_nethttp_tls=("$interopserver" -host 127.0.0.1 -use_tls "${tls_server_flags[@]}")
s_h2_tls=("$interopserver" -host 127.0.0.1 -use_tls -http2 h2 "${tls_server_flags[@]}")
client_legs "interopserver (net/http h2c)" s_nethttp_h2c http1 "connect grpcweb" pick_first_unary
client_legs "interopserver (net/http h2c)" s_nethttp_h2c h2c "connect grpc grpcweb" pick_first_unary
client_legs "interopserver (transport-h2 h2c)" s_h2_h2c h2c-rpc "connect grpc grpcweb" pick_first_unary
client_legs "interopserver (net/http TLS)" s_nethttp_tls h2 "connect grpc grpcweb" pick_first_unary
client_legs "interopserver (transport-h2 TLS)" s_h2_tls h2-rpc "connect grpc grpcweb" pick_first_unary
skip "compatclient h3 → interopserver" "interopserver has no HTTP/3; HTTP/3 runs against compatserver in (3)" "${standard_cases[@]}"

# (2) compat client, gRPC → grpc-go's interop server (its -use_tls certificate is server1.pem).
g_h2c=("$grpc_server")
g_tls=("$grpc_server" -use_tls)
client_legs "grpc-go server (h2c)" g_h2c h2c grpc
client_legs "grpc-go server (h2c)" g_h2c h2c-rpc grpc
client_legs "grpc-go server (TLS)" g_tls h2 grpc
client_legs "grpc-go server (TLS)" g_tls h2-rpc grpc
skip "compatclient connect/grpcweb → grpc-go server" "grpc-go's server speaks gRPC only" "${standard_cases[@]}"

# (3) compat client → grpc-go's TestServiceServer on a Registrar, on the same transport.
for t in http1 h2c h2c-rpc h2 h2-rpc h3; do
	c_server=("$compatserver" -transport "$t")
	case "$t" in http1 | h2c | h2c-rpc) ;; *) c_server+=("${tls_server_flags[@]}") ;; esac
	if [[ "$t" == http1 ]]; then
		client_legs "compatserver $t" c_server "$t" "connect grpcweb"
		skip "compatclient http1/grpc → compatserver http1" "gRPC needs HTTP/2 or HTTP/3" "${standard_cases[@]}"
	else
		client_legs "compatserver $t" c_server "$t" "connect grpc grpcweb"
	fi
done

# (4) grpc-go's interop client → the Registrar server.
g_client_h2c=("$grpc_client" -server_host 127.0.0.1)
g_client_tls=("$grpc_client" -server_host 127.0.0.1 -use_tls -use_test_ca -ca_file "$testdata/ca.pem" -server_host_override foo.test.google.fr)
for t in h2c h2c-rpc h2 h2-rpc; do
	c_server=("$compatserver" -transport "$t")
	client=g_client_h2c
	case "$t" in h2 | h2-rpc) c_server+=("${tls_server_flags[@]}") client=g_client_tls ;; esac
	leg "grpc-go client → compatserver $t" c_server "$client" "${standard_cases[@]}"
done
skip "grpc-go client → compatserver" "grpc-go's TestServiceServer does not fill server_id" pick_first_unary

echo
echo "interop.sh: $skipped cases skipped as not applicable (SKIP lines above)"
echo "$passed passed, $failed failed"
((failed == 0))
