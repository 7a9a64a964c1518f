// Configuration files (found upward from the working directory, --config, --isolated) and the
// baseline ratchet, through the CLI on the fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fixture, ROOT, type RunResult } from './helpers.js';

function runIn(cwd: string, args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project folder with the given files and a sub/ folder to run from. */
function project(files: Record<string, string>): { root: string; sub: string } {
  const root = mkdtempSync(join(tmpdir(), 'pyc-audit-config-'));
  const sub = join(root, 'sub', 'deeper');
  mkdirSync(sub, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return { root, sub };
}

const stale = fixture('example-1.0-py314rc2_0.conda'); // PYC001 (error)
const mixed = fixture('mixed-1.0-py314_0.conda'); // PYC003 (error), PYC203 (warning)
const checks = fixture('checks-1.0-py310_0.conda'); // several codes, warnings among them

const codesOf = (r: RunResult) => (JSON.parse(r.stdout).artifacts as { findings: { code: string; severity: string }[] }[]).map((a) => a.findings.map((f) => `${f.code}:${f.severity}`));

test('[tool.pyc-audit] in a pyproject.toml two folders up is applied; the command line wins over it', () => {
  const { sub } = project({ 'pyproject.toml': '[project]\nname = "x"\n\n[tool.pyc-audit]\nformat = "json"\nignore = ["PYC0"]\nfail-on = "never"\n' });
  const r = runIn(sub, [stale, mixed]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(codesOf(r), [[], ['PYC203:warning']]);
  const cli = runIn(sub, ['--fail-on', 'error', '--ignore', 'PYC2', stale, mixed]);
  assert.equal(cli.code, 1);
  assert.deepEqual(codesOf(cli), [['PYC001:error'], ['PYC003:error']]);
});

test('a pyproject.toml without the table is passed over for one further up; pyc-audit.toml beats pyproject.toml in the same folder', () => {
  const { root } = project({ 'pyc-audit.toml': 'format = "json"\nselect = ["PYC203"]\n' });
  const inner = join(root, 'sub');
  writeFileSync(join(inner, 'pyproject.toml'), '[project]\nname = "inner"\n');
  assert.deepEqual(codesOf(runIn(inner, [stale, mixed])), [[], ['PYC203:warning']]);
  writeFileSync(join(root, 'pyproject.toml'), '[tool.pyc-audit]\nformat = "json"\nselect = ["PYC001"]\n');
  assert.deepEqual(codesOf(runIn(inner, [stale, mixed])), [[], ['PYC203:warning']]);
  writeFileSync(join(root, '.pyc-audit.toml'), 'format = "json"\nselect = ["PYC001"]\n');
  assert.deepEqual(codesOf(runIn(inner, [stale, mixed])), [['PYC001:error'], []]);
});

test('--isolated reads no file; --config names one (paths in it relative to it)', () => {
  const { root, sub } = project({ 'pyc-audit.toml': 'format = "json"\nselect = ["PYC203"]\n' });
  const isolated = runIn(sub, ['--isolated', stale]);
  assert.match(isolated.stdout, /STALE/);
  writeFileSync(join(root, 'other.toml'), 'format = "json"\nbaseline = "recorded.json"\n');
  const r = runIn(tmpdir(), ['--config', join(root, 'other.toml'), '--update-baseline', stale]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /recorded 1 finding/);
  assert.ok(readFileSync(join(root, 'recorded.json'), 'utf8').includes('PYC001'));
  const both = runIn(sub, ['--isolated', '--config', join(root, 'other.toml'), stale]);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'pyc-audit: error: --config and --isolated: give one of them\n');
});

test('per-package ignores (name globs) and severity overrides, which --fail-on then uses', () => {
  const { sub } = project({
    'pyc-audit.toml': 'format = "json"\n[per-package-ignores]\n"exam*" = ["PYC001"]\n"check?" = "PYC2"\n[severity]\nPYC003 = "warning"\n',
  });
  const r = runIn(sub, [stale, mixed, checks]);
  assert.equal(r.code, 1, r.stderr); // checks still has PYC1xx errors
  const [s, m, c] = codesOf(r);
  assert.deepEqual(s, []);
  assert.deepEqual([...m!].sort(), ['PYC003:warning', 'PYC203:warning']); // PYC003 lowered by the file
  assert.ok(c!.length > 0 && c!.every((x) => !x.startsWith('PYC2')), c!.join());
  const warnOnly = runIn(sub, [stale, mixed]);
  assert.equal(warnOnly.code, 0, 'PYC003 is a warning now, below --fail-on error');
  assert.equal(runIn(sub, ['--fail-on', 'warning', stale, mixed]).code, 1);
});

test('configuration errors: one line naming the file and the key, exit 2', () => {
  const cases: [string, RegExp][] = [
    ['selct = ["PYC0"]\n', /pyc-audit\.toml: unknown key "selct" \(did you mean "select"\?\)$/],
    ['select = ["PYC9"]\n', /pyc-audit\.toml: select: PYC9 is not a code or the start of one/],
    ['fail-on = "fatal"\n', /pyc-audit\.toml: fail-on: "fatal" is not one of error, warning, info, never$/],
    ['jobs = 0\n', /pyc-audit\.toml: jobs: expected a whole number of at least 1$/],
    ['quiet = "yes"\n', /pyc-audit\.toml: quiet: expected true or false$/],
    ['[severity]\nPYC001 = "fatal"\n', /pyc-audit\.toml: severity\.PYC001: expected "error", "warning" or "info"$/],
    ['select = [\n', /pyc-audit\.toml: not valid TOML: line \d+, column \d+/],
  ];
  for (const [text, expected] of cases) {
    const { sub } = project({ 'pyc-audit.toml': text });
    const r = runIn(sub, [stale]);
    assert.equal(r.code, 2, text);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr.trim(), /^pyc-audit: error: \//);
    assert.match(r.stderr.trim(), expected);
  }
  const missing = runIn(tmpdir(), ['--config', '/nonexistent/pyc-audit.toml', stale]);
  assert.equal(missing.stderr, 'pyc-audit: error: /nonexistent/pyc-audit.toml: no such file\n');
});

test('extend-select adds to select (from the file or the command line)', () => {
  const { sub } = project({ 'pyc-audit.toml': 'format = "json"\nselect = ["PYC001"]\nextend-select = ["PYC203"]\n' });
  assert.deepEqual(codesOf(runIn(sub, [stale, mixed])), [['PYC001:error'], ['PYC203:warning']]);
  assert.deepEqual(codesOf(runIn(sub, ['--select', 'PYC003', stale, mixed])), [[], ['PYC003:error', 'PYC203:warning']]);
});

test('baseline: a missing file is an error; --update-baseline records it; later runs report only new findings', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-baseline-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'baseline.json');
  // A mistyped or uncommitted baseline must not turn the run green.
  const missing = runIn(dir, ['--isolated', '--baseline', file, checks, mixed]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `pyc-audit: error: --baseline ${file}: no such file (--update-baseline records one)\n`);
  assert.equal(existsSync(file), false);
  const first = runIn(dir, ['--isolated', '--baseline', file, '--update-baseline', checks, mixed]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /recorded \d+ findings; later runs report only new ones\n$/);
  const recorded = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(recorded.tool, 'pyc-audit');
  assert.ok(recorded.findings.some((f: { artifact: string; code: string }) => f.artifact === 'mixed-1.0-py314_0' && f.code === 'PYC203'));
  // The same findings from the .tar.bz2 of the same builds are known too (fingerprint: name-version-build, member, code).
  const again = runIn(dir, ['--isolated', '--format', 'json', '--baseline', file, checks.replace('.conda', '.tar.bz2'), mixed, stale]);
  assert.equal(again.code, 1, again.stderr);
  assert.deepEqual(codesOf(again), [[], [], ['PYC001:error']]);
  assert.match(again.stderr, /--baseline .*: \d+ known findings not reported\n$/);
  // A fixed artifact no longer audited: its recorded findings are gone, and said so.
  const fewer = runIn(dir, ['--isolated', '--baseline', file, mixed]);
  assert.equal(fewer.code, 0);
  assert.match(fewer.stderr, /2 known findings not reported; \d+ recorded findings are gone \(--update-baseline drops them\)\n$/);
  const update = runIn(dir, ['--isolated', '--baseline', file, '--update-baseline', stale]);
  assert.equal(update.code, 0);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).findings, [{ artifact: 'example-1.0-py314rc2_0', member: 'lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc', code: 'PYC001' }]);
  assert.equal(runIn(dir, ['--isolated', '--baseline', file, mixed]).code, 1);
  writeFileSync(file, '{"not": "a baseline"}');
  const bad = runIn(dir, ['--isolated', '--baseline', file, stale]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, `pyc-audit: error: --baseline ${file}: not a pyc-audit baseline (version 1)\n`);
  assert.equal(runIn(dir, ['--isolated', '--update-baseline', stale]).stderr, 'pyc-audit: error: --update-baseline needs --baseline FILE\n');
  // Malformed entries: one error line naming the file, not an internal error.
  writeFileSync(file, '{"tool": "pyc-audit", "version": 1, "findings": [{"artifact": "a", "member": "m", "code": "PYC001"}, {"artifact": 1}]}');
  const malformed = runIn(dir, ['--isolated', '--baseline', file, stale]);
  assert.equal(malformed.code, 2);
  assert.equal(malformed.stderr, `pyc-audit: error: --baseline ${file}: finding 2 is not {artifact, member, code} strings (a baseline is written by pyc-audit --baseline)\n`);
  writeFileSync(file, '{"tool": "pyc-audit", "version": 1, "findings": [null]}');
  assert.match(runIn(dir, ['--isolated', '--baseline', file, stale]).stderr, /^pyc-audit: error: --baseline .*: finding 1 is not/);
  // Not a regular file (a FIFO would block a read forever; /dev/zero never ends): one error line, at once.
  for (const [path, why] of [['/dev/zero', 'not a regular file (a character device)'], [dir, 'not a regular file (a directory)']] as const) {
    const r = runIn(dir, ['--isolated', '--baseline', path, stale]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `pyc-audit: error: --baseline ${path}: ${why}\n`);
  }
  const fifo = join(dir, 'fifo.json');
  if (spawnSync('mkfifo', [fifo]).status === 0) assert.equal(runIn(dir, ['--isolated', '--baseline', fifo, stale]).stderr, `pyc-audit: error: --baseline ${fifo}: not a regular file (a FIFO)\n`);
  // Too large: refused before it is read (a sparse file: no disk used).
  const huge = join(dir, 'huge.json');
  writeFileSync(huge, '');
  truncateSync(huge, 65 << 20);
  assert.equal(runIn(dir, ['--isolated', '--baseline', huge, stale]).stderr, `pyc-audit: error: --baseline ${huge}: larger than the 64 MiB this file may have\n`);
  // Recording writes its own new temporary file (created exclusively, never through a link), renamed over FILE.
  const linked = join(dir, 'linked.json');
  const recorded2 = runIn(dir, ['--isolated', '--baseline', linked, '--update-baseline', stale]);
  assert.equal(recorded2.code, 0, recorded2.stderr);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
});

test("docs/configuration.md's example is valid and does what its comments say", () => {
  const readme = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const toml = /# Configuration[\s\S]*?```toml\n([\s\S]*?)```/.exec(readme)![1]!;
  const { root, sub } = project({ 'pyproject.toml': toml });
  // A baseline named in the configuration that does not exist yet is recorded by --update-baseline.
  const r = runIn(sub, ['--format', 'json', '--update-baseline', checks]);
  assert.equal(r.code, 0, 'the first run with --update-baseline records its findings and passes');
  assert.match(r.stderr, /recorded \d+ findings/);
  assert.equal(JSON.parse(r.stdout).artifacts[0].expected.version, '3.14'); // python = "3.14"
  const recorded = JSON.parse(readFileSync(join(root, 'pyc-audit-baseline.json'), 'utf8')).findings.map((f: { code: string }) => f.code);
  assert.ok(recorded.includes('PYC202') && recorded.includes('PYC205'), recorded.join()); // "python-*" does not match checks
  // The severity table: PYC202 is info now, so --fail-on warning (from the file) does not fail on it alone.
  const warned = runIn(sub, ['--format', 'json', '--select', 'PYC202', '--update-baseline', checks]);
  assert.equal(warned.code, 0);
  assert.equal(runIn(root, ['--isolated', '--select', 'PYC202', '--fail-on', 'warning', checks]).code, 1);
});

test('the configuration applied is named on stderr; the search stops at the repository root and never reads a FIFO, a folder or /dev/zero', () => {
  const { root, sub } = project({ 'pyc-audit.toml': 'format = "json"\nfail-on = "never"\n' });
  try {
    const found = runIn(sub, [stale]);
    assert.equal(found.code, 0);
    assert.equal(found.stderr, `pyc-audit: config: ${join(root, 'pyc-audit.toml')}\n`);
    // A repository between: the file above its root is not the project's.
    mkdirSync(join(root, 'sub', '.git'));
    const repo = runIn(sub, [stale]);
    assert.equal(repo.code, 1, repo.stderr);
    assert.equal(repo.stderr, '');
    rmSync(join(root, 'sub', '.git'), { recursive: true });
    // Not a regular file where a configuration file is: one line naming it, exit 2, within the bound.
    rmSync(join(root, 'pyc-audit.toml'));
    const fifo = join(root, 'pyc-audit.toml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = runIn(sub, [stale]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `pyc-audit: error: ${fifo}: not a regular file (a FIFO)\n`);
    rmSync(fifo);
    symlinkSync('/dev/zero', join(root, 'pyproject.toml'));
    const zero = runIn(sub, [stale]);
    assert.equal(zero.code, 2);
    assert.equal(zero.stderr, `pyc-audit: error: ${join(root, 'pyproject.toml')}: not a regular file (a character device)\n`);
    rmSync(join(root, 'pyproject.toml'));
    mkdirSync(join(root, 'pyproject.toml'));
    const dir = runIn(sub, [stale]);
    assert.equal(dir.code, 2);
    assert.equal(dir.stderr, `pyc-audit: error: ${join(root, 'pyproject.toml')}: not a regular file (a directory)\n`);
    rmSync(join(root, 'pyproject.toml'), { recursive: true });
    writeFileSync(join(root, 'pyc-audit.toml'), `# ${'x'.repeat(2 << 20)}\n`);
    const big = runIn(sub, [stale]);
    assert.equal(big.code, 2);
    assert.equal(big.stderr, `pyc-audit: error: ${join(root, 'pyc-audit.toml')}: larger than the 1 MiB a configuration file may have\n`);
    // An escape sequence in a file's text is shown, not played.
    writeFileSync(join(root, 'pyc-audit.toml'), 'fail-on = "\\u001b[2Jnever"\n');
    const esc = runIn(sub, [stale]);
    assert.equal(esc.code, 2);
    assert.doesNotMatch(esc.stderr, /\x1b/);
    assert.match(esc.stderr, /\\x1b\[2Jnever/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a configuration file in a folder owned by another user is not read, and the run says so', { skip: process.getuid?.() === 0 ? false : 'needs root to give a folder to another user' }, () => {
  const { root, sub } = project({ 'pyc-audit.toml': 'fail-on = "never"\nignore = ["PYC"]\n' });
  try {
    chownSync(root, 65534, 65534);
    const r = runIn(sub, [stale]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `pyc-audit: config: not reading ${join(root, 'pyc-audit.toml')} (in a folder owned by another user; --config names it)\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
