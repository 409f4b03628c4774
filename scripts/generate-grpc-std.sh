#!/usr/bin/env bash
# generate-grpc-std.sh generates the Go code of a proto root whose files declare one of gRPC's
# standard packages (grpc.health.v1, grpc.reflection.v1, grpc.reflection.v1alpha), without the
# registration conflict that two copies of such a package cause in protobuf's global registry
# (google.golang.org/grpc links its own copies, and a program may link both):
#
#   - protoc-gen-go runs on a private copy of each file, whose package is prefixed with
#     "polyconnect.internal." and whose path with "polyconnect/internal/": the generated message
#     types register under those private names, which conflict with nothing. Field numbers and
#     names are unchanged, so the messages are the same on the wire, in binary and in JSON.
#   - protoc-gen-polyconnect-go runs on the files themselves, so procedure paths are the standard
#     ones ("/grpc.health.v1.Health/Check").
#   - buf build writes each file, with its standard names and comments, as a descriptor set
#     (NAME.binpb) beside the Go code; the module loads it into a private registry at run time
#     and declares the File_… variable that protoc-gen-polyconnect-go's output refers to.
#
# Usage (from a root's generate.sh, with the tools of scripts/tools.sh first on PATH):
#   bash scripts/generate-grpc-std.sh PROTO_ROOT MODULE_PATH
# PROTO_ROOT is a buf module directory (with buf.yaml) inside the Go module MODULE_PATH, one level
# below the module's directory; every file's go_package must be inside MODULE_PATH.
set -euo pipefail

proto_root="$(cd "$1" && pwd)"
module="$2"
module_dir="$(cd "$proto_root/.." && pwd)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf 'version: v2\n' >"$tmp/buf.yaml"

# Stale output of renamed or deleted files must not survive.
find "$module_dir/internal" \( -name '*.pb.go' -o -name '*.rpc.go' -o -name '*.binpb' \) -delete 2>/dev/null || true

mapfile -t files < <(cd "$proto_root" && find . -name '*.proto' | sed 's|^\./||' | sort)
for f in "${files[@]}"; do
	case "$f" in
	polyconnect/*) ;;
	*) echo "generate-grpc-std.sh: $f: files must live under polyconnect/" >&2; exit 1 ;;
	esac
	private="polyconnect/internal/${f#polyconnect/}"
	mkdir -p "$tmp/$(dirname "$private")"
	sed -E 's/^package ([a-z0-9_.]+);$/package polyconnect.internal.\1;/' "$proto_root/$f" >"$tmp/$private"
	if [[ "$(grep -c '^package polyconnect\.internal\.' "$tmp/$private")" != 1 ]]; then
		echo "generate-grpc-std.sh: $f: expected exactly one 'package NAME;' line" >&2
		exit 1
	fi

	go_package="$(sed -nE 's/^option go_package = "([^";]+)(;[a-z0-9_]+)?";$/\1/p' "$proto_root/$f")"
	case "$go_package" in
	"$module"/*) ;;
	*) echo "generate-grpc-std.sh: $f: go_package \"$go_package\" is not inside $module" >&2; exit 1 ;;
	esac
	dir="$module_dir/${go_package#"$module"/}"
	mkdir -p "$dir"
	(cd "$proto_root" && buf build --path "$f" -o "$dir/$(basename "$f" .proto).binpb")
done

(cd "$module_dir" && buf generate "$tmp" --template "{\"version\":\"v2\",\"plugins\":[{\"local\":\"protoc-gen-go\",\"out\":\".\",\"opt\":\"module=$module\"}]}")
(cd "$module_dir" && buf generate "$proto_root" --template "{\"version\":\"v2\",\"plugins\":[{\"local\":\"protoc-gen-polyconnect-go\",\"out\":\".\",\"opt\":\"module=$module\"}]}")
