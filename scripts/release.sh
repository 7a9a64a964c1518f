#!/usr/bin/env bash
# The release, as .github/workflows/release.yml runs it on a pushed tag vX.Y.Z, after `npm ci` and
# `npm test`: checks that the tag is package.json's version and that the action's committed
# bundle is current, packs the tarball, publishes it to npm with provenance, makes a GitHub
# release holding the tarball, and moves the action's major tag (v1) to this release.
#
#   scripts/release.sh --dry-run   every check, the tarball and `npm publish --dry-run`; what it
#                                  would do on GitHub is printed, not done (scripts/install-check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dry=false
[[ "${1:-}" == "--dry-run" ]] && dry=true
version="$(node -p "require('./package.json').version")"
tag="${GITHUB_REF_NAME:-v$version}"
[[ "$tag" == "v$version" ]] || { echo "release: tag $tag is not package.json's version v$version" >&2; exit 1; }
major="v${version%%.*}"

# The action runs dist/action/ from its checkout: it must be what these sources build.
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
node scripts/bundle.mjs --action "$fresh" >/dev/null
for f in "$fresh"/*; do
  cmp -s "$f" "dist/action/$(basename "$f")" || { echo "release: dist/action/$(basename "$f") is stale: npm run build:action, commit, tag again" >&2; exit 1; }
done

tarball="$(npm pack --silent | tail -n 1)"
echo "release: packed $tarball"
if $dry; then
  npm publish --dry-run "$tarball"
  echo "release: would create the GitHub release $tag with $tarball, and move $major to $tag"
else
  npm publish --provenance --access public "$tarball"
  gh release create "$tag" "$tarball" --title "pyc-audit $version" --generate-notes
  git tag --force "$major" "$tag"
  git push --force origin "refs/tags/$major"
fi
rm -f "$tarball"
