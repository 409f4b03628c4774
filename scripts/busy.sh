#!/usr/bin/env bash
# busy.sh runs the unit tests of every module and the conformance suite beside a CPU load of
# twice the cores, N times in a row, to catch tests that assume an idle machine: a test that
# passes alone and fails here assumes some timing it should not. It is how the suite must hold
# on a shared CI runner or a laptop that is building something else.
#
#   bash scripts/busy.sh                   # N=5 rounds, every module, the conformance suite
#   N=1 bash scripts/busy.sh               # one round
#   MODULES="transport-h2 otel" SUITE=0 bash scripts/busy.sh   # some modules, no conformance
#   LOAD=0 bash scripts/busy.sh            # no load: the same runs on a quiet machine
#
# N       rounds (default 5)
# LOAD    busy processes per core (default 2); each spins at normal priority for the whole run
# MODULES folders to test (default: every module of scripts/modules.sh); tests run as CI runs
#         them, -race but for scripts/modules.sh's PLAIN_TEST_MODULES, -count=1
# SUITE   1 (default) also runs conformance/run.sh each round; 0 does not
#
# Each round's output goes to a folder (printed first; BUSY_OUT sets it); the last lines list
# every failed step, round by round. The exit status is non-zero if any step of any round failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/modules.sh

rounds="${N:-5}"
per_core="${LOAD:-2}"
suite="${SUITE:-1}"
if [[ -n "${MODULES:-}" ]]; then
	read -r -a modules <<<"$MODULES"
else
	modules=($(all_modules))
fi
out="${BUSY_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/busy-XXXXXX")}"
mkdir -p "$out"
cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"
spinners=$((cores * per_core))

# The load: plain busy loops, one process each, stopped by their ids when the script ends
# however it ends.
load_pids=()
stop_load() {
	local pid
	for pid in "${load_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${load_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	load_pids=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < spinners; i++)); do
	bash -c 'while :; do :; done' &
	load_pids+=("$!")
done

echo "busy.sh: $rounds round(s) of ${#modules[@]} module(s)$([[ $suite == 1 ]] && echo " and the conformance suite") beside $spinners busy processes on $cores cores; logs in $out"

failures=()
steps=0
for ((round = 1; round <= rounds; round++)); do
	for m in "${modules[@]}"; do
		race=-race
		is_plain_module "$m" && race=""
		log="$out/round$round-$(echo "$m" | tr / -).log"
		start=$SECONDS
		steps=$((steps + 1))
		if (cd "$m" && GOWORK=off go test $race -count=1 ./...) >"$log" 2>&1; then
			echo "round $round: ok      $m ($((SECONDS - start))s)"
		else
			echo "round $round: FAILED  $m ($((SECONDS - start))s), $log:"
			grep -E '^(--- FAIL|FAIL|panic:)|_test\.go:[0-9]+:' "$log" | head -20 | sed 's/^/    /'
			failures+=("round $round: $m ($log)")
		fi
	done
	if [[ "$suite" == 1 ]]; then
		log="$out/round$round-conformance.log"
		start=$SECONDS
		steps=$((steps + 1))
		if bash conformance/run.sh >"$log" 2>&1; then
			echo "round $round: ok      conformance suite ($((SECONDS - start))s): $(tail -1 "$log")"
		else
			echo "round $round: FAILED  conformance suite ($((SECONDS - start))s), $log:"
			grep -E 'FAILED|FAIL|failed' "$log" | head -20 | sed 's/^/    /'
			failures+=("round $round: conformance suite ($log)")
		fi
	fi
done

echo
if ((${#failures[@]} > 0)); then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "busy.sh: $((steps - ${#failures[@]})) of $steps steps passed in $rounds round(s) beside $spinners busy processes on $cores cores"
((${#failures[@]} == 0))
