#!/usr/bin/env bash
# generate.sh regenerates conformance/internal/grpctesting from the gRPC interop
# protos (package grpc.testing) of the grpc-go version in conformance/go.mod.
#
# grpc-go ships those protos only compiled into google.golang.org/grpc/interop/
# grpc_testing, so protoset/ writes them back out as a descriptor set and buf
# generates from that with buf.gen.yaml. scripts/generate.sh runs this with the
# tools of scripts/tools.sh first on PATH (buf, protoc-gen-go at codegen's
# protobuf version, protoc-gen-polyconnect-go from the work tree); run on its
# own, it installs them the same way.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ ! -x "$root/.tools/bin/buf" || ! -x "$root/.tools/bin/protoc-gen-polyconnect-go" ]]; then
	bash "$root/scripts/tools.sh"
fi
export PATH="$root/.tools/bin:$PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here/.." && GOWORK=off go run ./grpcproto/protoset -o "$tmp/grpctesting.binpb")

rm -rf "$here/../internal/grpctesting"
(cd "$here" && buf generate --template buf.gen.yaml "$tmp/grpctesting.binpb")
echo "generate.sh: wrote $(find "$here/../internal/grpctesting" -name '*.go' | wc -l) files under conformance/internal/grpctesting" >&2
