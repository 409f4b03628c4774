#!/usr/bin/env bash
# generate.sh regenerates reflection/internal/reflectionv1 and reflectionv1alpha from the protos under polyconnect/grpc/reflection;
# scripts/generate.sh runs it. See scripts/generate-grpc-std.sh for how and why.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../scripts/generate-grpc-std.sh" "$here" polyconnect.dev/reflection
