#!/usr/bin/env bash
# generate.sh regenerates health/internal/healthv1 from polyconnect/grpc/health/v1/health.proto;
# scripts/generate.sh runs it. See scripts/generate-grpc-std.sh for how and why.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../scripts/generate-grpc-std.sh" "$here" polyconnect.dev/health
