#!/usr/bin/env bash
# test.sh runs every test of every module, on a fresh machine as on a developer's: it installs
# what the tests need itself (scripts/tools.sh and the suites' own install steps). .ci/run calls
# exactly this. Each step runs even if an earlier one failed; the exit status is non-zero if any
# failed, and the last line counts the steps.
#
#   bash scripts/test.sh            # everything
#   QUICK=1 bash scripts/test.sh    # module tests only: no conformance, interop suites or gencheck
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

passed=0
failed=0
failures=()

step() {
	local name="$1"
	shift
	echo
	echo "=== $name"
	local start=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name ($((SECONDS - start))s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAILED: $name ($((SECONDS - start))s)"
	fi
}

# Modules and how their tests run: -race where concurrency lives.
race_modules=(protocol transport-nethttp transport-http3 transport-h2 health reflection interceptors otel interop examples)
plain_modules=(codegen codegen/compiletest)

module_checks() {
	local dir="$1"
	(
		cd "$root/$dir" || exit 1
		unformatted="$(gofmt -l .)"
		if [[ -n "$unformatted" ]]; then
			echo "gofmt needed in $dir:" >&2
			echo "$unformatted" >&2
			exit 1
		fi
		# go mod tidy must have nothing to change; the check leaves the files as they were.
		saved="$(mktemp -d)"
		cp go.mod "$saved/" && { [[ ! -f go.sum ]] || cp go.sum "$saved/"; }
		tidy_ok=1
		if ! GOWORK=off go mod tidy; then
			tidy_ok=0
		elif ! cmp -s go.mod "$saved/go.mod" || { [[ -f go.sum ]] && ! cmp -s go.sum "$saved/go.sum"; }; then
			echo "go mod tidy would change $dir/go.mod or go.sum: run it and commit" >&2
			diff -u "$saved/go.mod" go.mod >&2
			tidy_ok=0
		fi
		cp "$saved/go.mod" go.mod
		if [[ -f "$saved/go.sum" ]]; then cp "$saved/go.sum" go.sum; else rm -f go.sum; fi
		rm -rf "$saved"
		((tidy_ok)) || exit 1
		GOWORK=off go vet ./...
	)
}

module_tests() {
	local dir="$1" race="$2"
	(cd "$root/$dir" && GOWORK=off go test $race -count=1 ./...)
}

# Code generation tools, protoc included, so that codegen's protoc cross-check runs rather than
# skipping on a machine that lacks protoc.
step "tools: buf, protoc-gen-go, protoc-gen-polyconnect-go, protoc" env WITH_PROTOC=1 bash scripts/tools.sh
export PATH="$root/.tools/bin:$PATH"

for m in "${race_modules[@]}" "${plain_modules[@]}" conformance bench; do
	[[ -f "$m/go.mod" ]] || continue
	step "checks: $m (gofmt, go mod tidy, go vet)" module_checks "$m"
done
for m in "${race_modules[@]}"; do
	[[ -f "$m/go.mod" ]] || continue
	step "tests: $m (-race)" module_tests "$m" -race
done
for m in "${plain_modules[@]}"; do
	[[ -f "$m/go.mod" ]] || continue
	step "tests: $m" module_tests "$m" ""
done

if [[ -z "${QUICK:-}" ]]; then
	if [[ -f conformance/run.sh ]]; then
		step "conformance suite (connectrpc.com/conformance)" bash conformance/run.sh
	fi
	for suite in conformance/grpc-interop.sh; do
		[[ -f "$suite" ]] && step "gRPC interop suite ($suite)" bash "$suite"
	done
	if [[ -f scripts/fuzz.sh ]]; then
		step "fuzz targets, a few seconds each (scripts/fuzz.sh)" bash scripts/fuzz.sh
	fi
	if [[ -f bench/run.sh ]]; then
		step "benchmarks compile and run once" bash bench/run.sh -smoke
	fi
	step "generated code is up to date" bash .ci/gencheck.sh
fi

echo
if ((failed > 0)); then
	printf 'failed step: %s\n' "${failures[@]}"
fi
echo "steps: $passed passed, $failed failed"
((failed == 0))
