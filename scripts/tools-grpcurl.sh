#!/usr/bin/env bash
# tools-grpcurl.sh installs grpcurl into .tools/bin at the repository root (gitignored), from the Go
# module proxy at a pinned version. It is idempotent: a grpcurl already at that version is left
# alone. scripts/test.sh runs it; the interop tests in interop/tools_test.go drive grpcurl (and
# buf, from scripts/tools.sh) against polyconnect's health and reflection services.
#
# Put it on PATH with: export PATH="$PWD/.tools/bin:$PATH" (the tests also look in .tools/bin).
set -euo pipefail

GRPCURL_VERSION=v1.9.4

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

# go install leaves grpcurl's own -version unset; the build information records the module version.
installed="$(go version -m "$bin/grpcurl" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/fullstorydev/grpcurl" { print $3 }' || true)"
if [[ "$installed" != "$GRPCURL_VERSION" ]]; then
	echo "tools-grpcurl.sh: installing grpcurl $GRPCURL_VERSION" >&2
	GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
fi
