#!/usr/bin/env bash
# tools.sh installs the code generation tools into .tools/ at the repository root (gitignored).
# It is idempotent: a tool already at the pinned version is left alone.
#
#   .tools/bin/buf                          from the npm registry (@bufbuild/buf)
#   .tools/bin/protoc-gen-go                from the Go module proxy, at the version in codegen/go.mod
#   .tools/bin/protoc-gen-polyconnect-go    built from ./codegen
#
# Set WITH_PROTOC=1 to also install protoc from Debian (package protobuf-compiler); buf is the
# primary compiler, and protoc compiles the protos that import google/api
# (scripts/generate-annotated.sh) and checks that the plugin works with it. curl, which
# examples/cmd/rest's test runs, is installed from Debian too when it is missing.
#
# Put the tools on PATH with: export PATH="$PWD/.tools/bin:$PATH"
set -euo pipefail

BUF_VERSION=1.75.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

# buf: the npm package ships prebuilt binaries as optional per-platform dependencies.
if [[ "$("$bin/buf" --version 2>/dev/null || true)" != "$BUF_VERSION" ]]; then
	echo "tools.sh: installing buf $BUF_VERSION" >&2
	npm install --silent --no-audit --no-fund --prefix "$tools" "@bufbuild/buf@$BUF_VERSION" >&2
	ln -sf ../node_modules/.bin/buf "$bin/buf"
fi

# protoc-gen-go: the same version of google.golang.org/protobuf that codegen builds against, so
# the generated .pb.go files and our plugin agree.
pgg_version="$(cd "$root/codegen" && GOWORK=off go list -m -f '{{.Version}}' google.golang.org/protobuf)"
if [[ "$("$bin/protoc-gen-go" --version 2>/dev/null || true)" != "protoc-gen-go $pgg_version" ]]; then
	echo "tools.sh: installing protoc-gen-go $pgg_version" >&2
	GOWORK=off GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$pgg_version"
fi

# protoc-gen-polyconnect-go: always rebuilt from the working tree (go build caches, so this is cheap).
(cd "$root/codegen" && GOWORK=off go build -o "$bin/protoc-gen-polyconnect-go" ./cmd/protoc-gen-polyconnect-go)

if [[ "${WITH_PROTOC:-0}" == 1 ]] && ! command -v protoc >/dev/null; then
	# Installing a system package needs root; the script never asks for sudo. Without root, the
	# protoc cross-check in codegen's tests skips and says why.
	if [[ "$(id -u)" == 0 ]]; then
		echo "tools.sh: installing protoc from Debian" >&2
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
	else
		echo "tools.sh: protoc is missing and installing it needs root: apt-get install protobuf-compiler (codegen's protoc cross-check will skip)" >&2
	fi
fi

# curl: examples/cmd/rest runs the curl commands of its README. Most machines have it.
if ! command -v curl >/dev/null; then
	if [[ "$(id -u)" == 0 ]]; then
		echo "tools.sh: installing curl from Debian" >&2
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >&2
	else
		echo "tools.sh: curl is missing and installing it needs root: apt-get install curl (examples/cmd/rest's test will skip)" >&2
	fi
fi
