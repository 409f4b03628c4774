#!/usr/bin/env bash
# generate.sh regenerates internal/gen from the conformance suite's protos, taken
# from the module cache at the version of connectrpc.com/conformance in go.mod.
#
# Tools: buf from the npm registry into the repository's .tools/ (gitignored),
# protoc-gen-go built from the version of google.golang.org/protobuf in go.mod
# (a tool line there), protoc-gen-polyconnect-go built from ../codegen. The
# generated code is committed, so running the suite needs only Go.
# scripts/generate.sh runs this script for the conformance root.
set -euo pipefail

BUF_VERSION=1.75.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tools="$root/.tools"
export GOWORK=off
cd "$here"

if [[ "$("$tools/bin/buf" --version 2>/dev/null || true)" != "$BUF_VERSION" ]]; then
	echo "generate.sh: installing buf $BUF_VERSION" >&2
	mkdir -p "$tools/bin"
	npm install --silent --no-audit --no-fund --prefix "$tools" "@bufbuild/buf@$BUF_VERSION" >&2
	ln -sf ../node_modules/.bin/buf "$tools/bin/buf"
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
(cd "$root/codegen" && go build -o "$bin/protoc-gen-polyconnect-go" ./cmd/protoc-gen-polyconnect-go)

go mod download connectrpc.com/conformance
suite="$(go list -m -f '{{.Dir}}' connectrpc.com/conformance)"

rm -rf internal/gen
PATH="$bin:$PATH" "$tools/bin/buf" generate --template buf.gen.yaml "$suite/proto"
echo "generate.sh: wrote $(find internal/gen -name '*.go' | wc -l) files under internal/gen" >&2
