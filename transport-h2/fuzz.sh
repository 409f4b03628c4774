#!/usr/bin/env bash
# fuzz.sh runs transport-h2's fuzz targets, each for FUZZTIME (default 10s): frames sent to the
# server, request header blocks, and frames sent to the client. Their seed corpora (code and
# testdata/fuzz) also run as plain tests with `go test`. scripts/test.sh runs this.
#
#   bash transport-h2/fuzz.sh
#   FUZZTIME=5m bash transport-h2/fuzz.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOWORK=off
for target in FuzzServerFrames FuzzRequestHeaders FuzzClientFrames; do
	echo "fuzz.sh: $target for ${FUZZTIME:-10s}" >&2
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-10s}" .
done
