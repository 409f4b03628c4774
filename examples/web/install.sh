#!/usr/bin/env bash
# install.sh installs what the web tests need, idempotently:
#   npm       node_modules from package-lock.json (npm ci), skipped when the lock file is unchanged
#   chromium  Debian's chromium, when /usr/bin/chromium is missing
#
#   bash install.sh npm chromium
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

for what in "$@"; do
	case "$what" in
	npm)
		stamp=node_modules/.package-lock.sha256
		want="$(sha256sum package-lock.json | cut -d' ' -f1)"
		if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
			echo "install.sh: npm ci in examples/web" >&2
			npm ci --silent --no-audit --no-fund >&2
			echo "$want" >"$stamp"
		fi
		;;
	chromium)
		if [[ ! -x /usr/bin/chromium ]]; then
			echo "install.sh: installing chromium from Debian" >&2
			if [[ "$(id -u)" == 0 ]]; then sudo=""; else sudo="sudo"; fi
			$sudo apt-get update -qq >&2
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
		fi
		;;
	*)
		echo "install.sh: unknown item $what (want npm or chromium)" >&2
		exit 2
		;;
	esac
done
