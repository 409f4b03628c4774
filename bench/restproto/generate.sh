#!/usr/bin/env bash
# generate.sh regenerates bench/gen/transcodetest: transcode's annotated test service
# (transcode/internal/testproto/transcodetest/v1/library.proto) with grpc-go's and grpc-gateway's
# plugins beside polyconnect's, for the REST rows (rest_test.go: the transcoder against
# grpc-gateway in front of grpc-go). The peer plugins are tool lines of bench/go.mod.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/../../transcode/internal/testproto/generate-for.sh" "$here/.." polyconnect.dev/bench/gen/transcodetest/v1
