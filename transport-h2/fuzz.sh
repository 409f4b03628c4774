#!/usr/bin/env bash
# fuzz.sh runs transport-h2's fuzz targets, each for FUZZTIME (default 10000x, a count of inputs,
# a few seconds each here): frames sent to the server, request header blocks, and frames sent to
# the client. The default is a count because Go 1.26's fuzz coordinator can fail a target with a
# bare "context deadline exceeded" when a duration runs out while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27); CI hit it on FuzzRequestHeaders. Their seed corpora (code and
# testdata/fuzz) also run as plain tests with `go test`. scripts/test.sh runs this.
#
#   bash transport-h2/fuzz.sh
#   FUZZTIME=5m bash transport-h2/fuzz.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOWORK=off
for target in FuzzServerFrames FuzzRequestHeaders FuzzClientFrames; do
	echo "fuzz.sh: $target for ${FUZZTIME:-10000x}" >&2
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-10000x}" .
done
