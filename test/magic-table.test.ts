import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { MagicTable } from '../src/magic/table.js';
import { CPYTHON_SOURCE } from '../src/magic/cpython-history.js';
import { explainMagic, parseMagicArgument } from '../src/magic/explain.js';
import { ROOT, run } from './helpers.js';

const table = MagicTable.builtIn();

test('3.14 pre-release magics: each names the releases that wrote it', () => {
  assert.equal(table.lookup(3625)!.releases, '3.14b3–3.14rc1');
  assert.equal(table.lookup(3626)!.releases, '3.14rc2');
  assert.equal(table.lookup(3627)!.firstRelease, '3.14rc3');
  assert.equal(table.lookup(3627)!.firstFinal, '3.14.0');
  assert.deepEqual(table.finalMagics('3.14').map((e) => e.magic), [3627]);
  for (const m of [3625, 3626]) assert.equal(table.lookup(m)!.final, false);
});

test('3.5 has two final magics; the release tags correct the comment for 3351 and 3571', () => {
  assert.deepEqual(table.finalMagics('3.5').map((e) => e.magic), [3350, 3351]);
  const m3351 = table.lookup(3351)!;
  assert.equal(m3351.commentTag, '3.5.2');
  assert.equal(m3351.firstFinal, '3.5.3');
  const m3571 = table.lookup(3571)!;
  assert.equal(m3571.commentTag, '3.13b1');
  assert.equal(m3571.firstRelease, '3.13b2');
});

test('numbers listed in the comment but never in a release are kept, marked unreleased', () => {
  const m = table.lookup(3141)!; // 3.1a1, superseded by 3151 before the first 3.1 tag
  assert.equal(m.releases, null);
  assert.equal(m.final, false);
  assert.match(m.source, /pycore_magic_number\.h:\d+/);
});

test('Python 3.0 and 3.1 wrote MAGIC + 1 (import.c), so 3131 and 3151 are their final magics', () => {
  assert.deepEqual(table.finalMagics('3.0').map((e) => e.magic), [3131]);
  assert.deepEqual(table.finalMagics('3.1').map((e) => e.magic), [3151]);
  assert.match(table.lookup(3131)!.source, /Python\/import\.c:\d+ \(\+1\) @ v3\.0b1/);
});

test('every final release from 1.0 to 3.14 has a final magic', () => {
  for (const v of ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7', '3.0', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']) {
    assert.ok(table.finalMagics(v).length > 0, `no final magic for ${v}`);
  }
});

test('3.15 is not final yet: the newest known magic is named instead of a guess', () => {
  assert.deepEqual(table.finalMagics('3.15'), []);
  assert.equal(table.newest('3.15')!.magic, 3666);
  assert.equal(table.lookup(3666)!.releases, '3.15b1–3.15rc1');
  assert.equal(explainMagic(table, 3666), '3666 → CPython 3.15b1–3.15rc1; 3666 is the newest 3.15 magic known; 3.15.0 final is not in this table [Add SEND_VIRTUAL and SEND_ASYNC_GEN specializations]');
  assert.ok(table.lookup(3700), 'main (3.16) numbers are in the table');
});

test('explain: the line users read', () => {
  assert.equal(explainMagic(table, 3626), '3626 → CPython 3.14rc2; 3.14.0 final writes 3627 [Fix missing exception handlers in logical expression]');
  assert.match(explainMagic(table, 3627), /^3627 → CPython 3\.14rc3 onward \(3\.14\.0 final\): final-release bytecode for CPython 3\.14$/);
  assert.match(explainMagic(table, 9999), /^9999 → unknown/);
  assert.match(explainMagic(table, 384), /^384 → PyPy3\.10 7\.3\.12 – 7\.3\.19 \(Python 3\.10\)/);
});

test('magic arguments: decimal, 0x, or the four header bytes', () => {
  assert.equal(parseMagicArgument('3627'), 3627);
  assert.equal(parseMagicArgument('0x0e2b'), 3627);
  assert.equal(parseMagicArgument('2b0e0d0a'), 3627);
  assert.equal(parseMagicArgument('x'), null);
  assert.equal(parseMagicArgument('70000'), null);
});

test('pyc-audit magic --format json prints the table with the documented fields', () => {
  const r = run(['magic', '--format', 'json']);
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.ok(rows.length > 250);
  const row = rows.find((x) => x.magic === 3625)!;
  assert.equal(row.implementation, 'CPython');
  assert.equal(row.version, '3.14');
  assert.equal(row.releases, '3.14b3–3.14rc1');
  assert.equal(row.final, false);
  assert.ok(rows.some((x) => x.implementation === 'PyPy'));
  assert.ok(rows.some((x) => x.implementation === 'GraalPy'));
});

test('pyc-audit magic N: one line each; exit 1 when a number is unknown', () => {
  const ok = run(['magic', '3626']);
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, '3626 → CPython 3.14rc2; 3.14.0 final writes 3627 [Fix missing exception handlers in logical expression]\n');
  const unknown = run(['magic', '3627', '9999']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout.split('\n').length, 3);
  const bad = run(['magic', 'banana']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /banana: not a magic number/);
});

test('--magic-table adds a 3.15 final magic without a new release', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-'));
  const file = join(dir, 'extra.json');
  writeFileSync(file, JSON.stringify([{ magic: 3667, version: '3.15', releases: '3.15.0', final: true, note: 'hypothetical' }]));
  const r = run(['magic', '--magic-table', file, '3666', '3667']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^3666 → CPython 3\.15b1–3\.15rc1; 3\.15\.0 final writes 3667/m);
  assert.match(r.stdout, /^3667 → CPython 3\.15\.0 .*final-release bytecode/m);
  writeFileSync(file, '[{"magic": "x"}]');
  const bad = run(['magic', '--magic-table', file, '3666']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /row 1: "magic" must be an integer/);
});

// The table's final magic for each minor is what that interpreter actually writes.
const pyenvRoot = join(homedir(), '.pyenv', 'versions');
for (const minor of ['2.7', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) {
  const exe = (() => {
    if (!existsSync(pyenvRoot)) return null;
    const r = spawnSync('bash', ['-c', `ls -d ${pyenvRoot}/${minor}.*/bin/python${minor} 2>/dev/null | tail -1`], { encoding: 'utf8' });
    return r.stdout.trim() || null;
  })();
  test(`python${minor} on this machine writes a final magic of ${minor}`, { skip: exe ? false : `no pyenv python${minor}` }, () => {
    const code = minor === '2.7'
      ? 'import imp,struct;print(struct.unpack("<H",imp.get_magic()[:2])[0])'
      : 'import importlib.util as u;print(int.from_bytes(u.MAGIC_NUMBER[:2],"little"))';
    const magic = Number(spawnSync(exe!, ['-c', code], { encoding: 'utf8' }).stdout.trim());
    assert.ok(table.finalMagics(minor).some((e) => e.magic === magic), `${minor} writes ${magic}`);
  });
}

test("docs/magic-table.md states the table's newest tag, as the generated file records it", () => {
  const readme = readFileSync(join(ROOT, 'docs', 'magic-table.md'), 'utf8');
  const said = /newest\s+release tag is \*\*([^*]+)\*\*/.exec(readme);
  assert.ok(said, 'docs/magic-table.md says how new the table is');
  assert.equal(said[1], CPYTHON_SOURCE.newestTag);
  assert.doesNotMatch(readFileSync(join(ROOT, 'src', 'magic', 'cpython-history.ts'), 'utf8'), /src\/magic\/README\.md/);
});
