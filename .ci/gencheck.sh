#!/usr/bin/env bash
# gencheck.sh fails if any generated file is out of date: it runs scripts/generate.sh and then
# looks for changed, deleted or new files. Run it on a clean work tree (CI does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/generate.sh

status=0
if ! git diff --exit-code --stat; then
	echo "gencheck: generated files differ from the committed ones (above); run scripts/generate.sh and commit" >&2
	status=1
fi
untracked="$(git ls-files --others --exclude-standard)"
if [[ -n "$untracked" ]]; then
	echo "gencheck: files not committed:" >&2
	echo "$untracked" >&2
	echo "gencheck: run scripts/generate.sh and commit them, or ignore them" >&2
	status=1
fi
if [[ $status == 0 ]]; then
	echo "gencheck: generated files are up to date"
fi
exit $status
