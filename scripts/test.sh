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

. scripts/modules.sh

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
		# go mod tidy must have nothing to change; -diff prints what it would change and leaves
		# the files alone.
		if ! GOWORK=off go mod tidy -diff >&2; then
			echo "go mod tidy would change $dir/go.mod or go.sum (diff above): run it and commit" >&2
			exit 1
		fi
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
step "tools: grpcurl" bash scripts/tools-grpcurl.sh
export PATH="$root/.tools/bin:$PATH"
# Tests that drive installed tools (interop's grpcurl and buf curl tests) fail, rather than skip,
# when a tool is missing.
export POLYCONNECT_REQUIRE_TOOLS=1

modules=($(all_modules))
for m in "${modules[@]}"; do
	step "checks: $m (gofmt, go mod tidy -diff, go vet)" module_checks "$m"
done
for m in "${modules[@]}"; do
	if is_plain_module "$m"; then
		step "tests: $m" module_tests "$m" ""
	else
		step "tests: $m (-race)" module_tests "$m" -race
	fi
done
step "docs/api.md names every exported identifier, and only those (scripts/apicheck)" \
	bash -c 'cd scripts/apicheck && GOWORK=off go run . -root ../..'

if [[ -z "${QUICK:-}" ]]; then
	if [[ -f conformance/run.sh ]]; then
		step "conformance suite (connectrpc.com/conformance)" bash conformance/run.sh
	fi
	if [[ -f transport-h2/h2spec.sh ]]; then
		step "h2spec against transport-h2 (h2c-rpc and h2-rpc)" bash transport-h2/h2spec.sh
		step "transport-h2 fuzz targets, briefly" bash transport-h2/fuzz.sh
	fi
	for suite in conformance/grpc-interop.sh grpccompat/interop.sh; do
		[[ -f "$suite" ]] && step "gRPC interop suite ($suite)" bash "$suite"
	done
	if [[ -f scripts/fuzz.sh ]]; then
		step "fuzz targets, a few seconds each (scripts/fuzz.sh)" bash scripts/fuzz.sh
	fi
	if [[ -f bench/run.sh ]]; then
		step "benchmarks compile and run once" bash bench/run.sh -smoke
	fi
	step "each product module installs alone at the release version" bash scripts/release-check.sh
	step "load-and-fault smoke (bench/cmd/faultload -smoke)" bash -c 'cd bench && GOWORK=off go run ./cmd/faultload -smoke'
	step "nginx in front of three replicas (scripts/nginx-test.sh)" bash scripts/nginx-test.sh
	if [[ -f examples/web/run.sh ]]; then
		step "web: connect-web in headless Chromium (CORS) and connect-node against Eliza" bash examples/web/run.sh
	fi
	if [[ -d examples/internal/walkthrough ]]; then
		step "README walkthrough (Your first service), run as written from a folder outside the clone" \
			bash scripts/walkthrough.sh
	fi
	step "generated code is up to date" bash .ci/gencheck.sh
	step "no quic-go without transport-http3" bash scripts/quicfree.sh
fi

echo
if ((failed > 0)); then
	printf 'failed step: %s\n' "${failures[@]}"
fi
echo "steps: $passed passed, $failed failed"
((failed == 0))
