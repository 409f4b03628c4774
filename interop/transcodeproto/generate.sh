#!/usr/bin/env bash
# generate.sh regenerates interop/internal/gen/transcodetest: transcode's annotated test service
# (transcode/internal/testproto/transcodetest/v1/library.proto) with grpc-go's and grpc-gateway's
# plugins beside polyconnect's, for the side-by-side test of the transcoder and grpc-gateway
# (transcode_gateway_test.go). The peer plugins are tool lines of interop/go.mod.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/../../transcode/internal/testproto/generate-for.sh" "$here/.." polyconnect.dev/interop/internal/gen/transcodetest/v1
