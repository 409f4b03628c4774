# modules.sh lists the repository's Go modules, in one place, for test.sh, release.sh and
# release-check.sh (source it: `. scripts/modules.sh`). Folders are relative to the repository root.

# Product modules: published, tagged FOLDER/VERSION, in dependency order (a module comes after every
# sibling it requires; release.sh checks this). Each requires its siblings at the release version
# and carries a replace to their folders for work inside the repository.
PRODUCT_MODULES=(
	protocol
	codegen
	transport-nethttp
	transport-h2
	transport-http3
	health
	reflection
	interceptors
	interceptors/validate
	otel
	transcode
	grpccompat
)

# Unpublished modules: examples, tests against peers, the conformance programs and benchmarks.
UNPUBLISHED_MODULES=(
	codegen/compiletest
	conformance
	interop
	grpccompat/interoptest
	examples
	bench
	scripts/releasecheck
	scripts/apicheck
)

# Modules whose tests run without -race: generated-code compile checks, and the conformance and
# bench programs, whose concurrency is exercised by the suites they drive.
PLAIN_TEST_MODULES=(
	codegen
	codegen/compiletest
	conformance
	bench
	scripts/releasecheck
	scripts/apicheck
)

# all_modules prints every module folder that exists, products first.
all_modules() {
	local m
	for m in "${PRODUCT_MODULES[@]}" "${UNPUBLISHED_MODULES[@]}"; do
		[[ -f "$m/go.mod" ]] && echo "$m"
	done
}

# is_plain_module FOLDER succeeds if FOLDER is in PLAIN_TEST_MODULES (its tests run without -race).
is_plain_module() {
	local m
	for m in "${PLAIN_TEST_MODULES[@]}"; do
		[[ "$m" == "$1" ]] && return 0
	done
	return 1
}
