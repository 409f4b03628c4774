#!/usr/bin/env bash
# h2spec.sh checks the server against h2spec (github.com/summerwind/h2spec), cleartext (h2c-rpc)
# and over TLS (h2-rpc): every one of its test cases must pass.
#
# It installs h2spec at the pinned version into .tools/bin at the repository root (idempotent:
# a binary already built from that version is kept), then runs TestH2Spec (h2spec_test.go, behind
# the h2spec build tag) under the race detector. scripts/test.sh runs it.
#
#   bash transport-h2/h2spec.sh
set -euo pipefail

H2SPEC_VERSION="v2.2.1+incompatible" # the newest version on the Go module proxy

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$root/.tools/bin"
stamp="$root/.tools/h2spec.version"
mkdir -p "$bin"

if [[ ! -x "$bin/h2spec" || "$(cat "$stamp" 2>/dev/null || true)" != "$H2SPEC_VERSION" ]]; then
	echo "h2spec.sh: installing h2spec $H2SPEC_VERSION" >&2
	GOWORK=off GOBIN="$bin" go install "github.com/summerwind/h2spec/cmd/h2spec@$H2SPEC_VERSION"
	echo "$H2SPEC_VERSION" >"$stamp"
fi

cd "$here"
GOWORK=off H2SPEC="$bin/h2spec" go test -race -tags h2spec -run '^TestH2Spec$' -count=1 -v . |
	grep -E '^(=== RUN|--- |PASS|FAIL|ok)|h2spec_test.go|×|->|Expected|Actual'
