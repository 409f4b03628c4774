#!/usr/bin/env bash
# generate.sh regenerates interceptors/validate/internal/gen from the test
# protos in this folder, which import buf/validate/validate.proto.
#
# buf cannot fetch that import here (no module registry), and protovalidate
# ships it only compiled into its Go package. So protoset/ writes it back out
# as a descriptor set, protoc (from Debian, through scripts/tools.sh with
# WITH_PROTOC=1) compiles the test protos against it into a complete
# descriptor set, and buf generates the test files from that with
# buf.gen.yaml. scripts/generate.sh runs this with the tools of
# scripts/tools.sh first on PATH; run on its own, it installs them the same way.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
if [[ ! -x "$root/.tools/bin/buf" || ! -x "$root/.tools/bin/protoc-gen-polyconnect-go" ]] || ! command -v protoc >/dev/null; then
	WITH_PROTOC=1 bash "$root/scripts/tools.sh"
fi
export PATH="$root/.tools/bin:$PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here/../.." && GOWORK=off go run ./internal/testproto/protoset -o "$tmp/validate.binpb")
protos=(validatetest/v1/test.proto)
(cd "$here" && protoc --descriptor_set_in="$tmp/validate.binpb" -I . --include_imports --include_source_info \
	--descriptor_set_out="$tmp/test.binpb" "${protos[@]}")

rm -rf "$here/../gen"
paths=()
for p in "${protos[@]}"; do paths+=(--path "$p"); done
(cd "$here" && buf generate --template buf.gen.yaml "$tmp/test.binpb" "${paths[@]}")
echo "generate.sh: wrote $(find "$here/../gen" -name '*.go' | wc -l) files under interceptors/validate/internal/gen" >&2
