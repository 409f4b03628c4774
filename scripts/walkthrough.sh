#!/usr/bin/env bash
# walkthrough.sh runs the root README's "Your first service" as a reader would: every command
# as written, from a temporary folder outside the clone, with a GOPATH and module cache of its
# own (examples/internal/walkthrough reads the commands from the README and runs them; step 0,
# scripts/goproxy.sh, is what makes the repository's modules reachable). It needs buf and
# grpcurl, which the README asks the reader to install first: scripts/tools.sh and
# scripts/tools-grpcurl.sh put them in .tools/bin.
#
#   bash scripts/walkthrough.sh [-keep] [-print]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/examples"
GOWORK=off exec go run ./internal/walkthrough -root "$root" "$@"
