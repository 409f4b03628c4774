#!/usr/bin/env bash
# generate-annotated.sh PROTO_ROOT PROTO_FILE MODULE_DIR GO_PACKAGE PLUGIN... generates Go code
# for a proto that imports google/api/annotations.proto or google/api/httpbody.proto, which buf
# cannot fetch here (no module registry) and genproto ships only compiled into its Go packages:
#
#   1. transcode/internal/testproto/protoset writes those files (and the well-known types) back
#      out as a descriptor set, from genproto's Go packages;
#   2. protoc (Debian's, installed by scripts/tools.sh with WITH_PROTOC=1) compiles PROTO_FILE
#      (relative to PROTO_ROOT) against it, the import path of its go_package ("path;name")
#      rewritten to GO_PACKAGE in a copy, so one proto can be generated into several modules;
#   3. buf generates the Go files into MODULE_DIR (GO_PACKAGE must be inside its module) with the
#      PLUGINs named: go (protoc-gen-go), polyconnect (protoc-gen-polyconnect-go), both from
#      .tools/bin, and go-grpc (protoc-gen-go-grpc), grpc-gateway (protoc-gen-grpc-gateway), run
#      as `go tool` lines of MODULE_DIR's go.mod, which may import peers.
#
# The generate.sh of transcode/internal/testproto, interop/transcodeproto, bench/restproto and
# examples/restproto call it; scripts/generate.sh runs those.
set -euo pipefail

if (($# < 5)); then
	echo "usage: generate-annotated.sh PROTO_ROOT PROTO_FILE MODULE_DIR GO_PACKAGE PLUGIN..." >&2
	exit 2
fi
proto_root="$(cd "$1" && pwd)"
proto="$2"
module_dir="$(cd "$3" && pwd)"
go_package="$4"
shift 4
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -x "$root/.tools/bin/buf" || ! -x "$root/.tools/bin/protoc-gen-polyconnect-go" ]] || ! command -v protoc >/dev/null; then
	WITH_PROTOC=1 bash "$root/scripts/tools.sh"
fi
export PATH="$root/.tools/bin:$PATH"
module_path="$(cd "$module_dir" && GOWORK=off go list -m)"
case "$go_package" in
"$module_path"/*) ;;
*)
	echo "generate-annotated.sh: $go_package is not inside module $module_path" >&2
	exit 1
	;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/$(dirname "$proto")"
# Keep the package name after the ";" and replace the import path before it.
sed -E "s#^option go_package = \"[^;\"]*;#option go_package = \"$go_package;#" "$proto_root/$proto" >"$tmp/src/$proto"
if ! grep -q "^option go_package = \"$go_package;" "$tmp/src/$proto"; then
	echo "generate-annotated.sh: $proto has no go_package option \"path;name\" on a line of its own" >&2
	exit 1
fi
(cd "$root/transcode" && GOWORK=off go run ./internal/testproto/protoset -o "$tmp/deps.binpb")
(cd "$tmp/src" && protoc --descriptor_set_in="$tmp/deps.binpb" -I . --include_imports --include_source_info \
	--descriptor_set_out="$tmp/image.binpb" "$proto")

{
	echo "version: v2"
	echo "plugins:"
	for plugin in "$@"; do
		case "$plugin" in
		go) echo "  - local: protoc-gen-go" ;;
		polyconnect) echo "  - local: protoc-gen-polyconnect-go" ;;
		go-grpc) echo "  - local: [env, GOWORK=off, go, tool, protoc-gen-go-grpc]" ;;
		grpc-gateway) echo "  - local: [env, GOWORK=off, go, tool, protoc-gen-grpc-gateway]" ;;
		*)
			echo "generate-annotated.sh: unknown plugin $plugin" >&2
			exit 2
			;;
		esac
		echo "    out: ."
		echo "    opt: module=$module_path"
	done
} >"$tmp/buf.gen.yaml"
out_dir="$module_dir/${go_package#"$module_path"/}"
rm -rf "$out_dir"
(cd "$module_dir" && buf generate --template "$tmp/buf.gen.yaml" "$tmp/image.binpb" --path "$proto")
echo "generate-annotated.sh: wrote $(find "$out_dir" -name '*.go' | wc -l) files under ${out_dir#"$root"/}" >&2
