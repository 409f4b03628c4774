#!/usr/bin/env bash
# generate.sh regenerates examples/gen/bookstore: the bookstore service of examples/cmd/rest,
# whose google.api.http annotations import google/api, which buf cannot fetch here: it goes
# through scripts/generate-annotated.sh (messages and polyconnect handlers only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/../../scripts/generate-annotated.sh" "$here" bookstore/v1/bookstore.proto "$here/.." \
	polyconnect.dev/examples/gen/bookstore/v1 go polyconnect
