#!/usr/bin/env bash
# generate.sh regenerates bench/gen/transcodetest: transcode's
# annotated test service (transcode/internal/testproto/transcodetest/v1/library.proto) with
# grpc-go's and grpc-gateway's plugins beside polyconnect's, through
# scripts/generate-annotated.sh. The peer plugins are tool lines of bench/go.mod.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/../../scripts/generate-annotated.sh" "$here/../../transcode/internal/testproto" transcodetest/v1/library.proto \
	"$here/.." polyconnect.dev/bench/gen/transcodetest/v1 go polyconnect go-grpc grpc-gateway
