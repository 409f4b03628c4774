#!/usr/bin/env bash
# generate.sh regenerates examples/web/gen from examples/proto with protoc-gen-es, installed by
# npm from package-lock.json. scripts/generate.sh runs it with .tools/bin (buf) first on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash ./install.sh npm
buf generate --template buf.gen.yaml
