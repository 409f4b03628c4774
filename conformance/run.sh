#!/usr/bin/env bash
# run.sh runs the Connect conformance suite (connectrpc.com/conformance, the
# version in go.mod) against polyconnect's client and server.
#
#   ./run.sh                  every config in config/
#   ./run.sh connect.client   only config/connect.client.yaml (names as in config/)
#   ./run.sh -v connect.server --run 'Basic/**'   extra flags go to the runner
#
# Each config/NAME.MODE.yaml (MODE is client or server) runs in that mode with
# config/NAME.MODE.known-failing.txt, which must exist and list no test case:
# a failing case is a bug to fix. Flags in config/NAME.MODE.args, if present,
# go to the program under test (the *-h2rpc configs run it on transport-h2).
# The runner's pass/fail lines are printed as they come; the last line sums up
# every run. The exit status is non-zero if any run failed.
#
# Without extra runner flags, each config runs in two passes: every case but
# the Deadline Propagation ones, in parallel, then those alone, one call at a
# time (they check that a call finishes within its 2 s deadline on the wall
# clock, which calls in flight beside it would eat into on a busy machine).
#
# Parallelism (2 cores are plenty): MAX_SERVERS processes under test at once
# (default 2), PARALLEL RPCs in flight from the reference client in server mode
# (default 8), CLIENT_PARALLEL RPCs in flight from our client in client mode
# (default 16).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export GOWORK=off

names=()
extra=()
while (($#)); do
	case "$1" in
	-*) extra+=("$@"); break ;;
	*) names+=("$1"); shift ;;
	esac
done
if ((${#names[@]} == 0)); then
	for conf in config/*.yaml; do
		names+=("$(basename "$conf" .yaml)")
	done
fi

# The programs' own unit tests first: scripts/test.sh runs no tests in this module.
go test -count=1 ./internal/compat ./internal/service

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
echo "run.sh: building the runner and the programs under test" >&2
go build -o "$bin/" ./cmd/conformanceclient ./cmd/conformanceserver
go build -o "$bin/connectconformance" connectrpc.com/conformance/cmd/connectconformance

total_pass=0
# The cases that assert a wall-clock budget (see below).
deadline_cases='**/Deadline Propagation/**'

# run_pass NAME CONF MODE KNOWN MAX_SERVERS PARALLEL CLIENT_PARALLEL RUNNER-FLAGS…: one run of the
# runner; adds its counts to the totals and this config's.
run_pass() {
	local name="$1" conf="$2" mode="$3" known="$4" servers="$5" parallel="$6" client_parallel="$7"
	shift 7
	local args=(--conf "$conf" --mode "$mode" --known-failing "@$known" --max-servers "$servers")
	local cmd
	case "$mode" in
	client) cmd=("$bin/conformanceclient" -p "$client_parallel") ;;
	server)
		args+=(--parallel "$parallel")
		cmd=("$bin/conformanceserver")
		;;
	*)
		echo "run.sh: $conf: mode must be client or server" >&2
		exit 2
		;;
	esac
	cmd+=("${prog_args[@]}")
	local log="$bin/$name.log" rc=0 line pass fail
	"$bin/connectconformance" "${args[@]}" "$@" -- "${cmd[@]}" 2>&1 | tee "$log" || rc=$?
	line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)"
	pass="$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"${line:-0 passed}")"
	fail="$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"${line:-0 passed, 0 failed}")"
	if ((rc != 0)) || [[ -z "$line" ]]; then
		status=1
		if ((fail == 0)); then fail=1; fi
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	conf_pass=$((conf_pass + pass))
	conf_fail=$((conf_fail + fail))
}

total_fail=0
status=0
summary=()
for name in "${names[@]}"; do
	conf="config/$name.yaml"
	known="config/$name.known-failing.txt"
	mode="${name##*.}"
	if [[ ! -f "$conf" ]]; then
		echo "run.sh: no $conf" >&2
		exit 2
	fi
	if [[ ! -f "$known" ]]; then
		echo "run.sh: $known is missing (it must exist, and be empty)" >&2
		exit 2
	fi
	if grep -qvE '^[[:space:]]*(#.*)?$' "$known"; then
		echo "run.sh: $known lists test cases; fix them instead" >&2
		status=1
	fi
	# config/NAME.MODE.args, if present, holds flags for the program under test.
	prog_args=()
	if [[ -f "config/$name.args" ]]; then
		read -ra prog_args <"config/$name.args"
	fi
	echo "=== $name ($mode mode)"
	start=$SECONDS
	conf_pass=0
	conf_fail=0
	if ((${#extra[@]} > 0)); then
		# The caller chose the cases: one pass, as asked.
		run_pass "$name" "$conf" "$mode" "$known" "${MAX_SERVERS:-2}" "${PARALLEL:-8}" "${CLIENT_PARALLEL:-16}" "${extra[@]}"
	else
		# The Deadline Propagation cases check that a call completes within the deadline it
		# carries (2 s) on the wall clock. Beside the suite's other calls in flight (up to 16, some
		# of them megabytes of payload), a call's wall time depends on what else happens to run:
		# on a loaded machine the 2 s went by. So they run apart, after the rest, one call at a
		# time: then their budget covers their own work alone.
		run_pass "$name" "$conf" "$mode" "$known" "${MAX_SERVERS:-2}" "${PARALLEL:-8}" "${CLIENT_PARALLEL:-16}" --skip "$deadline_cases"
		run_pass "$name" "$conf" "$mode" "$known" 1 1 1 --run "$deadline_cases"
	fi
	summary+=("$(printf '%-28s %6d passed, %4d failed  %4ds' "$name" "$conf_pass" "$conf_fail" $((SECONDS - start)))")
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "conformance: $total_pass passed, $total_fail failed"
exit "$status"
