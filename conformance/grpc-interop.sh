#!/usr/bin/env bash
# grpc-interop.sh runs gRPC's interop tests between polyconnect and grpc-go, both ways, over h2c
# and over TLS:
#
#   (a) grpc-go's interop client (google.golang.org/grpc/interop/client)  → cmd/interopserver
#   (b) cmd/interopclient → grpc-go's interop server (google.golang.org/grpc/interop/server)
#   (c) cmd/interopclient → cmd/interopserver, for the compression cases grpc-go's server
#       cannot take part in
#
# and all three again with polyconnect's side on transport-h2 (-http2 h2) instead of net/http.
#
# grpc-go's commands are `tool` lines in go.mod, built with `go tool -n`. Every test case runs as
# its own client process against a server on a free 127.0.0.1 port. It prints a PASS, FAIL or
# SKIP line per case (SKIP: the case does not apply, with the reason) and ends with
# "N passed, N failed"; the exit status is non-zero if any case failed.
#
#   bash conformance/grpc-interop.sh
#   CASES=large_unary,ping_pong bash conformance/grpc-interop.sh   # only these cases
#
# It first runs the Go tests of the interop packages (as one more line, "unit_tests").
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export GOWORK=off

# Test cases, by direction. Cases left out are listed with the reason in skip lines below.
standard_cases=(
	empty_unary large_unary client_streaming server_streaming ping_pong empty_stream
	cancel_after_begin cancel_after_first_response timeout_on_sleeping_server custom_metadata
	status_code_and_message special_status_message unimplemented_method unimplemented_service
)
cases_a=("${standard_cases[@]}" pick_first_unary rpc_soak channel_soak)
cases_b=("${standard_cases[@]}")
cases_c=(client_compressed_unary client_compressed_streaming server_compressed_unary server_compressed_streaming)

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

selected() { # selected CASE: whether $CASES (if set) names CASE
	[[ -z "${CASES:-}" || ",$CASES," == *",$1,"* ]]
}

# The unit tests of the interop code first (scripts/test.sh runs no tests in this module): one line.
unit_pkgs=(./internal/grpcinterop ./cmd/interopserver ./cmd/interopclient)
if selected unit_tests; then
	start=$(date +%s%N)
	if out="$(go test -count=1 "${unit_pkgs[@]}" 2>&1)"; then
		passed=$((passed + 1))
		printf 'PASS  %-52s %-30s %6dms\n' "go test ${unit_pkgs[*]}" unit_tests $((($(date +%s%N) - start) / 1000000))
	else
		failed=$((failed + 1))
		printf 'FAIL  %-52s %-30s\n' "go test ${unit_pkgs[*]}" unit_tests
		tail -n 40 <<<"$out" | sed 's/^/    /'
	fi
fi

echo "grpc-interop: building" >&2
mkdir -p "$tmp/bin"
if ! go build -o "$tmp/bin/" ./cmd/interopserver ./cmd/interopclient; then
	echo "grpc-interop: building interopserver and interopclient failed" >&2
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi
our_server="$tmp/bin/interopserver"
our_client="$tmp/bin/interopclient"
if ! grpc_client="$(go tool -n google.golang.org/grpc/interop/client)" ||
	! grpc_server="$(go tool -n google.golang.org/grpc/interop/server)"; then
	echo "grpc-interop: building grpc-go's interop client and server (go tool) failed" >&2
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi
# grpc-go's test certificates: a CA, and a server certificate for *.test.google.fr.
grpc_testdata="$(go list -m -f '{{.Dir}}' google.golang.org/grpc)/testdata"

# free_port prints a port on 127.0.0.1 that nothing listens on.
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

# start_server LOG COMMAND...: starts COMMAND -port PORT on a free port, waits until the port
# accepts connections, and sets server_pid and server_port. A server that exits first (say, the
# port was taken in between) is retried on another port.
start_server() {
	local log="$1" port
	shift
	for _ in 1 2 3; do
		port="$(free_port)" || break
		"$@" -port "$port" >"$log" 2>&1 &
		server_pid=$!
		local deadline=$((SECONDS + 30))
		while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				server_port="$port"
				return 0
			fi
			sleep 0.05
		done
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=""
	done
	echo "grpc-interop: the server did not start: $*" >&2
	sed 's/^/    server: /' "$log" >&2
	return 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=""
}

# run_case LABEL CASE COMMAND...: runs one client process and prints its verdict.
run_case() {
	local label="$1" name="$2" out rc start ms
	shift 2
	start=$(date +%s%N)
	out="$(timeout -k 5 60 "$@" 2>&1)"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if ((rc == 0)); then
		passed=$((passed + 1))
		printf 'PASS  %-52s %-30s %6dms\n' "$label" "$name" "$ms"
	else
		failed=$((failed + 1))
		printf 'FAIL  %-52s %-30s %6dms  (exit %d)\n' "$label" "$name" "$ms" "$rc"
		tail -n 20 <<<"$out" | sed 's/^/    /'
	fi
}

# skip LABEL REASON CASE...: prints why the cases do not apply.
skip() {
	local label="$1" reason="$2" name
	shift 2
	for name in "$@"; do
		selected "$name" || continue
		skipped=$((skipped + 1))
		printf 'SKIP  %-52s %-30s  %s\n' "$label" "$name" "$reason"
	done
}

# leg LABEL "SERVER COMMAND" "CLIENT COMMAND" CASE...: one server, one client process per case.
# The commands are arrays passed by name.
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
		printf 'FAIL  %-52s %s: the server did not start\n' "$label" "${want[*]}"
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

# (a) grpc-go's client → our server.
a_server_h2c=("$our_server" -host 127.0.0.1)
a_server_tls=("$our_server" -host 127.0.0.1 -use_tls
	-tls_cert_file "$grpc_testdata/server1.pem" -tls_key_file "$grpc_testdata/server1.key")
a_client_h2c=("$grpc_client" -server_host 127.0.0.1)
a_client_tls=("$grpc_client" -server_host 127.0.0.1 -use_tls -use_test_ca
	-ca_file "$grpc_testdata/ca.pem" -server_host_override foo.test.google.fr)
leg "(a) grpc-go client → polyconnect server, h2c" a_server_h2c a_client_h2c "${cases_a[@]}"
leg "(a) grpc-go client → polyconnect server, TLS" a_server_tls a_client_tls "${cases_a[@]}"
skip "(a) grpc-go client → polyconnect server" "needs Google Cloud credentials" \
	compute_engine_creds service_account_creds jwt_token_creds per_rpc_creds oauth2_auth_token \
	google_default_credentials compute_engine_channel_credentials
skip "(a) grpc-go client → polyconnect server" "ORCA load reports: a grpc-go load-balancing feature" \
	orca_per_rpc orca_oob

# (b) our client → grpc-go's server, which uses its own test certificate with -use_tls.
b_server_h2c=("$grpc_server")
b_server_tls=("$grpc_server" -use_tls)
b_client_h2c=("$our_client" -server_host 127.0.0.1)
b_client_tls=("$our_client" -server_host 127.0.0.1 -use_tls -use_test_ca
	-ca_file "$grpc_testdata/ca.pem" -server_host_override foo.test.google.fr)
leg "(b) polyconnect client → grpc-go server, h2c" b_server_h2c b_client_h2c "${cases_b[@]}"
leg "(b) polyconnect client → grpc-go server, TLS" b_server_tls b_client_tls "${cases_b[@]}"
skip "(b) polyconnect client → grpc-go server" "grpc-go's interop server has no gzip decompressor and ignores expect_compressed" \
	client_compressed_unary client_compressed_streaming
skip "(b) polyconnect client → grpc-go server" "grpc-go's interop server ignores response_compressed" \
	server_compressed_unary server_compressed_streaming

# (c) our client → our server, with the in-memory test PKI for TLS.
c_server_h2c=("$our_server" -host 127.0.0.1)
c_server_tls=("$our_server" -host 127.0.0.1 -use_tls -tls_ca_out "$tmp/ca.pem")
c_client_h2c=("$our_client" -server_host 127.0.0.1)
c_client_tls=("$our_client" -server_host 127.0.0.1 -use_tls -ca_file "$tmp/ca.pem" -server_host_override localhost)
leg "(c) polyconnect client → polyconnect server, h2c" c_server_h2c c_client_h2c "${cases_c[@]}"
leg "(c) polyconnect client → polyconnect server, TLS" c_server_tls c_client_tls "${cases_c[@]}"

# The same three legs with polyconnect on transport-h2 (-http2 h2: "h2c-rpc" and "h2-rpc").
a_server_h2c_rpc=("${a_server_h2c[@]}" -http2 h2)
a_server_tls_rpc=("${a_server_tls[@]}" -http2 h2)
leg "(a) grpc-go client → polyconnect server on transport-h2, h2c" a_server_h2c_rpc a_client_h2c "${cases_a[@]}"
leg "(a) grpc-go client → polyconnect server on transport-h2, TLS" a_server_tls_rpc a_client_tls "${cases_a[@]}"
b_client_h2c_rpc=("${b_client_h2c[@]}" -http2 h2)
b_client_tls_rpc=("${b_client_tls[@]}" -http2 h2)
leg "(b) polyconnect client on transport-h2 → grpc-go server, h2c" b_server_h2c b_client_h2c_rpc "${cases_b[@]}"
leg "(b) polyconnect client on transport-h2 → grpc-go server, TLS" b_server_tls b_client_tls_rpc "${cases_b[@]}"
c_server_h2c_rpc=("${c_server_h2c[@]}" -http2 h2)
c_server_tls_rpc=("${c_server_tls[@]}" -http2 h2)
c_client_h2c_rpc=("${c_client_h2c[@]}" -http2 h2)
c_client_tls_rpc=("${c_client_tls[@]}" -http2 h2)
leg "(c) polyconnect ↔ polyconnect, both on transport-h2, h2c" c_server_h2c_rpc c_client_h2c_rpc "${cases_c[@]}"
leg "(c) polyconnect ↔ polyconnect, both on transport-h2, TLS" c_server_tls_rpc c_client_tls_rpc "${cases_c[@]}"

echo
echo "grpc-interop: $skipped cases skipped as not applicable (SKIP lines above)"
echo "$passed passed, $failed failed"
((failed == 0))
