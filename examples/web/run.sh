#!/usr/bin/env bash
# run.sh runs the web tests of the Eliza example: connect-web in headless Chromium, calling Eliza
# across origins through the CORS helper, and connect-node over HTTP/1.1 and HTTP/2. It installs
# what they need first (npm ci, Debian's chromium; see install.sh) and builds cmd/eliza.
# scripts/test.sh runs it (not under QUICK=1).
#
#   bash examples/web/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
bash ./install.sh npm chromium

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd ../.. && go build -o "$bin/eliza" ./examples/cmd/eliza)

ELIZA_BIN="$bin/eliza" node --test --test-concurrency=1 --test-reporter=spec test/*.test.js
