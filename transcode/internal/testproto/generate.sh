#!/usr/bin/env bash
# generate.sh regenerates transcode/internal/gen from the annotated test protos in this folder,
# which import google/api/annotations.proto and google/api/httpbody.proto.
#
# buf cannot fetch those imports here (no module registry), and genproto ships them only
# compiled into its Go packages. So protoset/ writes them back out as a descriptor set, protoc
# (from Debian, through scripts/tools.sh with WITH_PROTOC=1) compiles the test protos against it
# into a complete descriptor set, and buf generates the Go files from that with buf.gen.yaml.
# scripts/generate.sh runs this with the tools of scripts/tools.sh first on PATH; run on its own,
# it installs them the same way. interop/transcodeproto and bench/restproto compile the same
# proto this way for their own plugins (see their generate.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
if [[ ! -x "$root/.tools/bin/buf" || ! -x "$root/.tools/bin/protoc-gen-polyconnect-go" ]] || ! command -v protoc >/dev/null; then
	WITH_PROTOC=1 bash "$root/scripts/tools.sh"
fi
export PATH="$root/.tools/bin:$PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here/../.." && GOWORK=off go run ./internal/testproto/protoset -o "$tmp/deps.binpb")
protos=(transcodetest/v1/library.proto)
(cd "$here" && protoc --descriptor_set_in="$tmp/deps.binpb" -I . --include_imports --include_source_info \
	--descriptor_set_out="$tmp/test.binpb" "${protos[@]}")

rm -rf "$here/../gen"
paths=()
for p in "${protos[@]}"; do paths+=(--path "$p"); done
(cd "$here" && buf generate --template buf.gen.yaml "$tmp/test.binpb" "${paths[@]}")
echo "generate.sh: wrote $(find "$here/../gen" -name '*.go' | wc -l) files under transcode/internal/gen" >&2
