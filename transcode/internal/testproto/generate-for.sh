#!/usr/bin/env bash
# generate-for.sh MODULE_DIR GO_PACKAGE generates the annotated test service of this folder
# (transcodetest/v1/library.proto) into another module, for the tests and benchmarks that run
# the transcoder beside its peers: messages (protoc-gen-go), polyconnect's handlers and clients
# (protoc-gen-polyconnect-go), grpc-go's service (protoc-gen-go-grpc) and grpc-gateway's reverse
# proxy (protoc-gen-grpc-gateway). The last two are `go tool` lines of MODULE_DIR's go.mod, which
# may import peers; transcode's own module may not.
#
# GO_PACKAGE is the Go import path the files get (the proto's go_package is rewritten in a copy),
# such as polyconnect.dev/interop/internal/gen/transcodetest/v1; it must be inside MODULE_DIR's
# module. Run by interop/transcodeproto/generate.sh and bench/restproto/generate.sh, through
# scripts/generate.sh, with the tools of scripts/tools.sh (protoc from Debian) on PATH.
set -euo pipefail

module_dir="$(cd "$1" && pwd)"
go_package="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
if [[ ! -x "$root/.tools/bin/buf" || ! -x "$root/.tools/bin/protoc-gen-polyconnect-go" ]] || ! command -v protoc >/dev/null; then
	WITH_PROTOC=1 bash "$root/scripts/tools.sh"
fi
export PATH="$root/.tools/bin:$PATH"
module_path="$(cd "$module_dir" && GOWORK=off go list -m)"
case "$go_package" in
"$module_path"/*) ;;
*)
	echo "generate-for.sh: $go_package is not inside module $module_path" >&2
	exit 1
	;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
proto=transcodetest/v1/library.proto
mkdir -p "$tmp/src/$(dirname "$proto")"
sed "s#^option go_package = .*#option go_package = \"$go_package;transcodetestv1\";#" "$here/$proto" >"$tmp/src/$proto"
(cd "$root/transcode" && GOWORK=off go run ./internal/testproto/protoset -o "$tmp/deps.binpb")
(cd "$tmp/src" && protoc --descriptor_set_in="$tmp/deps.binpb" -I . --include_imports --include_source_info \
	--descriptor_set_out="$tmp/lib.binpb" "$proto")

cat >"$tmp/buf.gen.yaml" <<YAML
version: v2
plugins:
  - local: protoc-gen-go
    out: .
    opt: module=$module_path
  - local: protoc-gen-polyconnect-go
    out: .
    opt: module=$module_path
  - local: [env, GOWORK=off, go, tool, protoc-gen-go-grpc]
    out: .
    opt: module=$module_path
  - local: [env, GOWORK=off, go, tool, protoc-gen-grpc-gateway]
    out: .
    opt: module=$module_path
YAML
out_dir="$module_dir/${go_package#"$module_path"/}"
rm -rf "$out_dir"
(cd "$module_dir" && buf generate --template "$tmp/buf.gen.yaml" "$tmp/lib.binpb" --path "$proto")
echo "generate-for.sh: wrote $(find "$out_dir" -name '*.go' | wc -l) files under $out_dir" >&2
