#!/usr/bin/env bash
# release.sh VERSION prepares a release of every product module at one version:
#   - every go.mod in the repository that requires a product module requires it at VERSION;
#   - rpc.Version (protocol/rpc/version.go) becomes VERSION;
#   - it refuses a product list (scripts/modules.sh) out of dependency order;
#   - it prints, and does not run, the check, the commit and the tags FOLDER/VERSION in dependency
#     order.
# Nothing is committed, tagged or pushed.
#
#   bash scripts/release.sh v0.2.0
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/modules.sh

version="${1:-}"
if [[ -z "$version" || "$version" == -* ]]; then
	echo "usage: release.sh VERSION   (a semantic version such as v0.2.0)" >&2
	exit 2
fi
products=()
for m in "${PRODUCT_MODULES[@]}"; do
	[[ -f "$m/go.mod" ]] && products+=("$m")
done
everything="$(all_modules | tr '\n' ' ')"
(cd scripts/releasecheck && GOWORK=off go run . -root "$root" -version "$version" -bump "$everything" "${products[@]}")

echo
echo "release.sh: product modules required at $version everywhere; rpc.Version is ${version#v}."
echo "Next (release.sh runs none of these):"
echo "  bash scripts/release-check.sh && bash scripts/test.sh"
echo "  git commit -am 'release $version'"
for m in "${products[@]}"; do
	echo "  git tag $m/$version"
done
echo "  git push origin main$(printf ' %s' "${products[@]/%//$version}")"
