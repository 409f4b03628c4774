#!/usr/bin/env bash
# fuzz.sh runs every native Go fuzz target of the product modules, one after
# the other, each for FUZZTIME (default 2000x, a count of inputs, about 5-10 s
# a target here: CI runs it so from scripts/test.sh; give it 10m for a real
# session). The default is a count, not a duration, because Go 1.26's fuzz
# coordinator can fail a target with a bare "context deadline exceeded" when
# a duration runs out while a worker is busy (go.dev/issue/75804, fixed in Go
# 1.27): a loaded CI machine hit it. A real finding always writes its input
# to testdata/fuzz. Targets run one at a time with -parallel
# (default 1) workers, so the script can run beside other work on a small
# machine. New crashers land in the target's testdata/fuzz folder: commit them
# as regression seeds once fixed.
#
#   bash scripts/fuzz.sh                       # every target, 2000 inputs each
#   FUZZTIME=10m bash scripts/fuzz.sh FuzzHandler FuzzEnvelopeReader
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzztime="${FUZZTIME:-2000x}"
parallel="${FUZZPARALLEL:-1}"
export GOWORK=off GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Packages that hold fuzz targets, relative to the root: "module package".
packages=(
	"protocol ./rpc"
	"transcode ."
)

failed=0
for entry in "${packages[@]}"; do
	read -r module pkg <<<"$entry"
	cd "$root/$module" || exit 1
	targets="$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)"
	for target in $targets; do
		if (($# > 0)) && ! printf '%s\n' "$@" | grep -qx "$target"; then
			continue
		fi
		echo "=== fuzz $module $pkg $target ($fuzztime)"
		start=$SECONDS
		if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s -parallel "$parallel" "$pkg"; then
			echo "--- ok $target ($((SECONDS - start))s)"
		else
			echo "--- FAILED $target: the failing input is in $module/${pkg#./}/testdata/fuzz/$target"
			failed=1
		fi
	done
done
exit "$failed"
