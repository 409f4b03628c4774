#!/usr/bin/env bash
# generate.sh regenerates transcode/internal/gen: the annotated test service of this folder
# (transcodetest/v1/library.proto), messages and polyconnect handlers, through
# scripts/generate-annotated.sh (the proto imports google/api, which buf cannot fetch here).
# interop/transcodeproto and bench/restproto generate the same proto with grpc-go's and
# grpc-gateway's plugins too, into their own modules.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/../../../scripts/generate-annotated.sh" "$here" transcodetest/v1/library.proto "$here/../.." \
	polyconnect.dev/transcode/internal/gen/transcodetest/v1 go polyconnect
