#!/usr/bin/env bash
# goproxy.sh serves this clone's Go modules as a local module proxy, until they are on a public
# one: it writes every product module (scripts/modules.sh) at the release version (rpc.Version,
# v0.1.0) in GOPROXY's file layout, and prints the environment that puts the proxy in front of
# your usual one. Evaluate it in the shell you work in, from any folder:
#
#   eval "$(bash /path/to/polyconnect/scripts/goproxy.sh)"
#
# Then `go install polyconnect.dev/codegen/cmd/protoc-gen-polyconnect-go@v0.1.0`, `go get` and
# `go mod tidy` find polyconnect.dev/... as if it were published. Modules from elsewhere still
# come from your GOPROXY (proxy.golang.org by default) and are checked against the checksum
# database as usual; polyconnect.dev is left out of it (GONOSUMDB), which does not know it.
#
#   bash scripts/goproxy.sh [DIR]     # DIR: where to write the proxy (default: .goproxy in the clone)
#
# The go command keeps what it downloaded in its module cache, by version: after pulling new
# commits into the clone, run this again and `go clean -modcache` (or remove
# $(go env GOMODCACHE)/polyconnect.dev and $(go env GOMODCACHE)/cache/download/polyconnect.dev)
# so that v0.1.0 is fetched again, and delete go.sum lines for polyconnect.dev in your module.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/.goproxy}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

. "$root/scripts/modules.sh"
version="v$(sed -n 's/^const Version = "\(.*\)"$/\1/p' "$root/protocol/rpc/version.go")"
if [[ "$version" == v ]]; then
	echo "goproxy.sh: no Version constant in protocol/rpc/version.go" >&2
	exit 1
fi

# The proxy writer is a small Go program of the examples module (standard library only), built
# from the clone: no workspace, no download.
(cd "$root/examples" && GOWORK=off go run ./internal/goproxy -root "$root" -out "$out" -version "$version" "${PRODUCT_MODULES[@]}") >&2
echo "goproxy.sh: serving ${#PRODUCT_MODULES[@]} modules of $root at $version from $out" >&2

# What the user's shell should export: the local proxy first, then whatever GOPROXY was (the
# go command's default if unset), and polyconnect.dev out of the checksum database.
current="$(go env GOPROXY)"
case ",$current," in
*",file://$out,"*) proxy="$current" ;; # already there: evaluating twice changes nothing
*) proxy="file://$out${current:+,$current}" ;;
esac
nosumdb="$(go env GONOSUMDB)"
case ",$nosumdb," in
*,polyconnect.dev,*) ;;
*) nosumdb="polyconnect.dev${nosumdb:+,$nosumdb}" ;;
esac
printf "export GOPROXY='%s'\n" "$proxy"
printf "export GONOSUMDB='%s'\n" "$nosumdb"
