#!/usr/bin/env bash
# quicfree.sh checks the promise of the module split: a program that imports
# protocol and transport-nethttp, but not transport-http3, has no quic-go in
# its module graph or its build. As a control, the same program with
# transport-http3 must have quic-go, so the check can fail.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export GOWORK=off GOFLAGS=-mod=mod

# program DIR IMPORTS... writes a module in DIR whose main package imports
# the given packages (blank), with replaces to this repository's folders.
program() {
	local dir="$1"
	shift
	mkdir -p "$dir"
	{
		echo "package main"
		echo
		echo "import ("
		for p in "$@"; do echo "	_ \"$p\""; done
		echo ")"
		echo
		echo "func main() {}"
	} >"$dir/main.go"
	(
		cd "$dir"
		go mod init example.com/quicfree >/dev/null 2>&1
		for m in protocol transport-nethttp transport-http3; do
			go mod edit -replace "polyconnect.dev/$m=$root/$m"
		done
		go mod tidy >/dev/null 2>&1
	)
}

program "$tmp/without" polyconnect.dev/protocol/rpc polyconnect.dev/protocol/transport polyconnect.dev/transport-nethttp
program "$tmp/with" polyconnect.dev/protocol/rpc polyconnect.dev/transport-nethttp polyconnect.dev/transport-http3

status=0
if (cd "$tmp/without" && go list -m all | grep -q quic-go); then
	echo "quicfree: a module importing only protocol and transport-nethttp has quic-go in its module graph:" >&2
	(cd "$tmp/without" && go list -m all | grep quic-go) >&2
	status=1
fi
if (cd "$tmp/without" && go list -deps . | grep -q quic-go); then
	echo "quicfree: a program importing only protocol and transport-nethttp builds quic-go" >&2
	status=1
fi
if ! (cd "$tmp/with" && go list -m all | grep -q quic-go); then
	echo "quicfree: control failed: a module importing transport-http3 has no quic-go" >&2
	status=1
fi
if ((status == 0)); then
	echo "quicfree: without transport-http3: $(cd "$tmp/without" && go list -m all | wc -l) modules, none of them quic-go; with it: quic-go $(cd "$tmp/with" && go list -m -f '{{.Version}}' github.com/quic-go/quic-go)"
fi
exit "$status"
