#!/usr/bin/env bash
# The install commands the README gives, run as written, each into a temporary prefix, then the
# installed tool run on the bundled example (exit 1, the STALE line):
#   1. npm pack → npm install --global ./pyc-audit-X.Y.Z.tgz
#   2. from git: npm pack git+file://CLONE → the same; and `npm install --global git+…`, which
#      npm cannot build (npm/cli#8440), fails with the message that names route 2
#   3. the GitHub Action's install and audit steps, run in a clean clone as the runner runs them
#      (nothing installed or built there: it runs the committed dist/action/)
#   4. the release's steps (scripts/release.sh --dry-run): checks, tarball, npm publish --dry-run
# Needs: a checkout with `npm ci` done (dist/ built), git, and the npm registry (nothing else).
# Usage: scripts/install-check.sh            (from anywhere; uses the checkout it is in)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXAMPLE="$ROOT/fixtures/example-1.0-py314rc2_0.conda"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/pyc-audit-install-check.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

fail() { echo "install-check: FAILED: $*" >&2; exit 1; }

# The installed command on the example: exit 1 and the STALE line, nothing on stderr; run from
# the bundle (dist/bundle/cli.cjs), which leaves a code cache in the user's cache folder. The code
# cache is asked for (PYC_AUDIT_CODE_CACHE=1): with CI=true, as CI services set it, none is kept.
check_run() {
  local bin="$1" label="$2" out code=0 cache
  cache="$(mktemp -d "$TMP/cache.XXXXXX")"
  out="$(XDG_CACHE_HOME="$cache" PYC_AUDIT_CODE_CACHE=1 "$bin" "$EXAMPLE" 2>"$TMP/stderr")" || code=$?
  [[ $code == 1 ]] || fail "$label: exit $code, expected 1: $(cat "$TMP/stderr")"
  [[ "$out" == "STALE "*"example-1.0-py314rc2_0.conda"* ]] || fail "$label: no STALE line in: $out"
  [[ ! -s "$TMP/stderr" ]] || fail "$label: stderr: $(cat "$TMP/stderr")"
  # A small audit (this example) keeps its code cache as small-*.v8, a larger one as audit-*.v8.
  compgen -G "$cache/pyc-audit/code-cache/*.v8" >/dev/null || fail "$label: not run from the bundle (no code cache in $cache)"
  "$bin" --version >/dev/null || fail "$label: --version"
  echo "install-check: $label: ok (exit 1, STALE, bundled)"
}

# What a tarball must hold: the compiled code, the licence, no sources, tests or dev tools.
check_tarball() {
  local tgz="$1" list
  list="$(tar tzf "$tgz")"
  for f in package/LICENSE package/README.md package/package.json package/bin/pyc-audit.js package/bin/load-cli.cjs package/dist/src/cli.js package/dist/bundle/cli.cjs package/dist/bundle/worker.js; do
    grep -qx "$f" <<<"$list" || fail "$tgz lacks $f"
  done
  if grep -E '^package/(src|test|fixtures|node_modules|dist/test)/' <<<"$list"; then fail "$tgz holds files it should not (above)"; fi
}

echo "install-check: 1. npm pack, then npm install --global ./pyc-audit-X.Y.Z.tgz"
(cd "$ROOT" && npm pack --silent --pack-destination "$TMP" >/dev/null)
TGZ="$(ls "$TMP"/pyc-audit-*.tgz)"
check_tarball "$TGZ"
(cd "$TMP" && npm install --global --prefix "$TMP/prefix1" "./$(basename "$TGZ")" --loglevel=error)
[[ ! -e "$TMP/prefix1/lib/node_modules/pyc-audit/node_modules/typescript" ]] || fail "a dev dependency was installed"
check_run "$TMP/prefix1/bin/pyc-audit" "tarball"

echo "install-check: 2. from git (a clone of HEAD)"
git clone --quiet "$ROOT" "$TMP/clone"
mkdir "$TMP/from-git"
(cd "$TMP/from-git" && npm pack --silent "git+file://$TMP/clone" >/dev/null)
GTGZ="$(ls "$TMP"/from-git/pyc-audit-*.tgz)"
check_tarball "$GTGZ"
(cd "$TMP/from-git" && npm install --global --prefix "$TMP/prefix2" "./$(basename "$GTGZ")" --loglevel=error)
check_run "$TMP/prefix2/bin/pyc-audit" "git (npm pack git+file://…)"
code=0
npm install --global --prefix "$TMP/prefix3" "git+file://$TMP/clone" >"$TMP/global-git.log" 2>&1 || code=$?
[[ $code != 0 ]] || fail "npm install --global git+… succeeded: test it and update the README"
grep -q 'npm pack git+' "$TMP/global-git.log" || fail "npm install --global git+… failed without naming the route that works: $(tail -5 "$TMP/global-git.log")"
echo "install-check: git (npm install --global git+…): fails as documented, naming npm pack"

echo "install-check: 3. the GitHub Action's steps, from a clean clone with nothing installed or built"
git clone --quiet "$ROOT" "$TMP/action"
node --input-type=module - "$ROOT" "$TMP/action" "$ROOT/fixtures" <<'EOF'
const [root, clone, fixtures] = process.argv.slice(2);
const { runStep } = await import(`${root}/dist/test/action-steps.js`);
const install = runStep(clone, 'install', {}, clone);
if (install.code !== 0) throw new Error(`install step: exit ${install.code}\n${install.stderr}`);
const audit = runStep(clone, 'audit', { paths: 'example-1.0-py314rc2_0.conda' }, fixtures);
if (audit.code !== 1 || !audit.stdout.startsWith('::error file=example-1.0-py314rc2_0.conda,')) throw new Error(`audit step: exit ${audit.code}\n${audit.stdout}${audit.stderr}`);
console.log('install-check: action (install, audit): ok (exit 1, an ::error annotation)');
EOF
echo "install-check: 4. the release's steps, dry (scripts/release.sh --dry-run, in the clone)"
(cd "$TMP/clone" && npm ci --silent && GITHUB_REF_NAME="v$(node -p "require('./package.json').version")" bash scripts/release.sh --dry-run >"$TMP/release.log" 2>&1) || fail "release --dry-run: $(tail -5 "$TMP/release.log")"
grep -q 'would create the GitHub release' "$TMP/release.log" || fail "release --dry-run did not reach its end: $(tail -5 "$TMP/release.log")"
echo "install-check: release (dry): ok"

echo "install-check: all ok"
