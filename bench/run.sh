#!/usr/bin/env bash
# run.sh runs the bench suite several times and compares polyconnect with its peers.
#
#   bench/run.sh [-count N] [-benchtime T] [-stream-benchtime T] [-bench REGEXP] [-out DIR]
#                [-profile] [-profile-only] [-profile-benchtime T] [-smoke]
#
#   -count N              runs of the whole suite (default 6); runs are interleaved, one
#                         suite after another, so drift on the machine spreads over every impl
#   -benchtime T          go test -benchtime for the unary and in-process benchmarks (default 1s)
#   -stream-benchtime T   the same for ServerStream, ClientStream and Bidi (default: -benchtime)
#   -bench REGEXP         only the benchmarks matching REGEXP, as go test -bench, all at
#                         -benchtime (default: all)
#   -out DIR              where to write (default: bench/results/<date>, or a temporary
#                         folder with -smoke)
#   -profile              also take CPU and memory profiles of polyconnect (Connect over h2c,
#                         Connect and gRPC over transport-h2's h2c-rpc) in Unary, UnaryParallel,
#                         ServerStream and ClientStream and write their top 15
#   -profile-only         only the profiles, not the suite
#   -profile-benchtime T  go test -benchtime for the profiled benchmarks (default 2s)
#   -smoke                one quick pass (-count 1 -benchtime 1x) that only checks that
#                         everything builds and runs: what CI does
#
# It writes to the output folder:
#   raw.txt        the go test output of every run, the input for benchstat and benchtable
#   benchstat.txt  benchstat of polyconnect against each peer (the peer is the base column)
#   table.md       ratios of polyconnect to each peer, per scenario (cmd/benchtable)
#   chart.svg      UnaryParallel's requests per second per stack, protocol and transport, with
#                  the floor (cmd/benchtable -chart), when the runs include UnaryParallel
#   env.txt        the machine, the Go version, the commit and the load when the runs started
#   profiles.txt   with -profile: the top 15 of each profile (the .prof files stay beside it)
#
# Numbers are only worth comparing from a quiet machine: other builds and tests running at
# the same time show up as noise, or worse, as a bias against whatever ran during them.
set -euo pipefail

count=6
benchtime=1s
stream_benchtime=""
bench=.
out=""
profile=0
profile_only=0
profile_benchtime=2s
smoke=0
while [[ $# -gt 0 ]]; do
	case "$1" in
	-count) count="$2"; shift 2 ;;
	-benchtime) benchtime="$2"; shift 2 ;;
	-stream-benchtime) stream_benchtime="$2"; shift 2 ;;
	-bench) bench="$2"; shift 2 ;;
	-out) out="$2"; shift 2 ;;
	-profile) profile=1; shift ;;
	-profile-only) profile=1 profile_only=1; shift ;;
	-profile-benchtime) profile_benchtime="$2"; shift 2 ;;
	-smoke) smoke=1; shift ;;
	-h | -help | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see -help)" >&2; exit 2 ;;
	esac
done
if [[ $smoke == 1 ]]; then
	count=1 benchtime=1x stream_benchtime=1x
fi
stream_benchtime="${stream_benchtime:-$benchtime}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export GOWORK=off

if [[ -z "$out" ]]; then
	if [[ $smoke == 1 ]]; then
		out="$(mktemp -d "${TMPDIR:-/tmp}/polyconnect-bench-smoke.XXXXXX")"
	else
		out="results/$(date +%Y-%m-%d)"
		[[ -e "$out" ]] && out="results/$(date +%Y-%m-%d-%H%M)"
	fi
fi
mkdir -p "$out"
echo "run.sh: writing to $out" >&2

bin="$(mktemp -d "${TMPDIR:-/tmp}/polyconnect-bench-bin.XXXXXX")"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/benchtable" ./cmd/benchtable
go test -c -o "$bin/bench.test" .

describe() {
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ../protocol ../transport-nethttp ../transport-h2 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "go: $(go version)"
	echo "cpus: $(nproc 2>/dev/null || echo '?')"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
}

status=0
if [[ $profile_only == 0 ]]; then
	{
		describe
		echo "args: -count $count -benchtime $benchtime -stream-benchtime $stream_benchtime -bench '$bench'"
	} >"$out/env.txt"

	# The suite in two groups, so the streaming benchmarks (one op is thousands of messages) can
	# get their own -benchtime; with -bench, one group of what it matches, at -benchtime.
	streams='^Benchmark(ServerStream|ClientStream|Bidi)$'
	others='^Benchmark(Unary|UnaryParallel|UnaryLarge|ServerAllocs|ClientAllocs|OtelNoopServer|OtelNoopClient|OtelSDKServer|OtelSDKClient)$'
	if [[ "$bench" == . ]]; then
		groups=("$others=$benchtime" "$streams=$stream_benchtime")
	else
		groups=("$bench=$benchtime")
	fi

	raw="$out/raw.txt"
	: >"$raw"
	for ((i = 1; i <= count; i++)); do
		echo "run.sh: run $i of $count" >&2
		for group in "${groups[@]}"; do
			re="${group%=*}" bt="${group##*=}"
			rc=0
			(cd "$bin" && ./bench.test -test.run '^$' -test.bench "$re" -test.benchtime "$bt" -test.count 1 \
				-test.timeout 0 >run.txt 2>&1) || rc=$?
			grep -v '^PASS$\|^ok ' "$bin/run.txt" >>"$raw" || true
			if [[ $rc != 0 ]]; then
				echo "run.sh: run $i, $re: the test binary exited with $rc" >&2
				status=$rc
			fi
		done
	done
	if grep -q -- '^--- FAIL\|^FAIL\|^panic:' "$raw"; then
		echo "run.sh: some benchmarks failed; see $raw" >&2
		status=1
	fi
	if grep -q -- '--- SKIP' "$raw"; then
		echo "run.sh: some benchmarks were skipped (polyconnect protocols not working yet):" >&2
		grep -A1 -- '--- SKIP' "$raw" | grep -v -- '^--$' | sed 's/^/  /' >&2 || true
	fi

	# benchstat: each peer is the base column, so "vs base" is polyconnect's change against it.
	{
		echo "# polyconnect vs connect-go (same protocol and transport)"
		go tool benchstat -filter '/impl:(connect-go OR polyconnect)' -col '/impl@(connect-go polyconnect)' "$raw" || true
		echo
		echo "# polyconnect vs grpc-go (gRPC)"
		go tool benchstat -filter '/protocol:grpc /impl:(grpc-go OR polyconnect)' -col '/impl@(grpc-go polyconnect)' "$raw" || true
		echo
		echo "# polyconnect (Connect) vs raw net/http (the floor)"
		go tool benchstat -filter '/impl:raw OR (/impl:polyconnect /protocol:connect)' -ignore /protocol -col '/impl@(raw polyconnect)' "$raw" || true
	} >"$out/benchstat.txt" 2>&1
	"$bin/benchtable" "$raw" >"$out/table.md"
	# The headline chart; a run limited by -bench may have no UnaryParallel to draw.
	if grep -q '^BenchmarkUnaryParallel/' "$raw"; then
		"$bin/benchtable" -chart "$out/chart.svg" "$raw"
	fi
	echo "run.sh: wrote $out/raw.txt, benchstat.txt, table.md and chart.svg" >&2

fi

if [[ $profile == 1 ]]; then
	prof="$out/profiles.txt"
	{
		describe
		echo "args: -profile-benchtime $profile_benchtime"
		echo
	} >"$prof"
	# Connect over net/http's h2c, and Connect and gRPC over transport-h2's h2c-rpc.
	for target in connect/h2c connect/h2c-rpc grpc/h2c-rpc; do
	proto="${target%/*}" tr="${target#*/}"
	for sc in Unary UnaryParallel ServerStream ClientStream; do
		bt="$profile_benchtime"
		name="polyconnect-$proto-$tr-$sc"
		only="^Benchmark$sc\$/^impl=polyconnect\$/^protocol=$proto\$/^transport=$tr\$"
		# Two runs: CPU at the normal memory profile rate, so sampling allocations does not
		# show in it, then every allocation recorded for exact counts.
		(cd "$bin" && ./bench.test -test.run '^$' -test.bench "$only" -test.benchtime "$bt" \
			-test.cpuprofile "$name.cpu.prof" >"$name.txt" 2>&1 &&
			./bench.test -test.run '^$' -test.bench "$only" -test.benchtime "$bt" \
				-test.memprofile "$name.mem.prof" -test.memprofilerate 1 >/dev/null 2>&1) || status=$?
		cp "$bin/$name.cpu.prof" "$bin/$name.mem.prof" "$out/" 2>/dev/null || true
		{
			echo "## $sc, polyconnect, $proto, $tr"
			grep '^Benchmark' "$bin/$name.txt" || cat "$bin/$name.txt"
			echo
			echo "### CPU, top 15 by flat time"
			go tool pprof -top -nodecount=15 "$bin/bench.test" "$bin/$name.cpu.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
			echo "### CPU, top 15 by cumulative time"
			go tool pprof -top -cum -nodecount=15 "$bin/bench.test" "$bin/$name.cpu.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
			echo "### Allocated objects, top 15"
			go tool pprof -top -sample_index=alloc_objects -nodecount=15 "$bin/bench.test" "$bin/$name.mem.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
			echo "### Allocated bytes, top 15"
			go tool pprof -top -sample_index=alloc_space -nodecount=15 "$bin/bench.test" "$bin/$name.mem.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
			# The same with every frame outside polyconnect's protocol module hidden: flat is
			# then what each polyconnect function costs, itself or through what it calls.
			echo "### polyconnect frames only: CPU, top 15 by flat (including what they call outside polyconnect)"
			go tool pprof -top -show 'polyconnect\.dev/(protocol|transport)' -nodecount=15 "$bin/bench.test" "$bin/$name.cpu.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
			echo "### polyconnect frames only: allocated objects, top 15"
			go tool pprof -top -show 'polyconnect\.dev/(protocol|transport)' -sample_index=alloc_objects -nodecount=15 "$bin/bench.test" "$bin/$name.mem.prof" 2>/dev/null | sed -n '/flat%/,$p'
			echo
		} >>"$prof"
	done
	done
	echo "run.sh: wrote $prof" >&2
fi
exit "$status"
