#!/usr/bin/env bash
# release-check.sh checks that each product module installs on its own at the version the
# repository is about to release (rpc.Version in protocol/rpc/version.go): it publishes every
# product module to a file-based module proxy in a temporary folder and, for each one alone, runs
# `go get MODULE@VERSION` in an empty module with GOWORK=off and builds a program importing all of
# its public packages (codegen: `go install` of protoc-gen-polyconnect-go). scripts/test.sh runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/modules.sh

version="v$(sed -nE 's/^const Version = "([^"]+)"/\1/p' protocol/rpc/version.go)"
if [[ "$version" == "v" ]]; then
	echo "release-check.sh: cannot read rpc.Version from protocol/rpc/version.go" >&2
	exit 1
fi
products=()
for m in "${PRODUCT_MODULES[@]}"; do
	[[ -f "$m/go.mod" ]] && products+=("$m")
done
cd scripts/releasecheck
GOWORK=off go run . -root "$root" -version "$version" "$@" "${products[@]}"
