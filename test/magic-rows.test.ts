// The magic table in process: rows of the built-in table, user rows read from files written here,
// what a target interpreter or a python package's standard library says, and the words for each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalExpectation, magicLabel, supersededBy, unconfirmedFinal, writtenBy } from '../src/magic/describe.js';
import { explainMagic, parseMagicArgument } from '../src/magic/explain.js';
import { InterpreterError, interpreterTarget, parseInterpreterReport, probeInterpreter } from '../src/magic/interpreter.js';
import { isPythonPackageName, stdlibMagic, stdlibTarget } from '../src/magic/stdlib.js';
import { fromCPython, MagicTable } from '../src/magic/table.js';
import { loadUserTable, MagicTableError, MAGIC_TABLE_MAX_BYTES } from '../src/magic/user-table.js';
import type { MagicEntry } from '../src/magic/types.js';

const table = MagicTable.builtIn();
const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-magic-rows-'));
const row = (magic: number, implementation?: string) => table.lookup(magic, implementation)!;
const pycHead = (magic: number) => {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(magic, 0);
  b.write('\r\n', 2, 'latin1');
  return b;
};
let files = 0;
const tableFile = (content: string | unknown) => {
  const path = join(dir, `table-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

// ---- the built-in table ------------------------------------------------------------------------

test('a CPython row as the program sees it: versions, finals and where it comes from', () => {
  const r3627 = row(3627);
  assert.deepEqual(
    { ...r3627, source: undefined },
    { magic: 3627, implementation: 'CPython', version: '3.14', alsoVersions: [], releases: r3627.releases, firstRelease: '3.14rc3', final: true, finalFor: ['3.14'], firstFinal: '3.14.0', current: true, commentTag: r3627.commentTag, note: r3627.note, source: undefined },
  );
  assert.match(r3627.source, /^Include\/internal\/pycore_magic_number\.h:\d+; Include\/internal\/pycore_magic_number\.h:\d+ @ v3\.14\.0rc3$/);
  // 39171: final for 1.1 and 1.2
  assert.deepEqual([row(39171).finalFor, row(39171).alsoVersions], [['1.1', '1.2'], ['1.2']]);
  // a number never released: not final, final for none
  const trunk = row(62001);
  assert.deepEqual([trunk.final, trunk.finalFor, trunk.releases, trunk.current], [false, [], null, false]);
  assert.equal(trunk.source, 'Python/import.c @ bd3be8f0ca4');
  // a row with neither a comment nor a definition falls back to the comment's source
  const bare = fromCPython({ magic: 1, version: '3.0', commentTag: null, note: null, comment: null, releases: null, firstRelease: null, current: false, final: false, firstFinal: null, definedAt: null });
  assert.match(bare.source, /^Include\/internal\/pycore_magic_number\.h @ [0-9a-f]{40}$/);
  const finalNoList = fromCPython({ magic: 1, version: '3.0', commentTag: null, note: null, comment: 'c.h:1', releases: '3.0', firstRelease: '3.0', current: true, final: true, firstFinal: '3.0', definedAt: 'd.c:2' });
  assert.deepEqual([finalNoList.finalFor, finalNoList.alsoVersions, finalNoList.source], [['3.0'], [], 'c.h:1; d.c:2']);
});

test('rows of other implementations: a final release is final for its minor and the minors it also wrote; a development number for none', () => {
  const pypy = row(336, 'PyPy');
  assert.deepEqual([pypy.final, pypy.finalFor, pypy.alsoVersions, pypy.firstFinal, pypy.firstRelease, pypy.current], [true, ['3.9'], [], 'PyPy3.9 7.3.10', pypy.releases, true]);
  // PyPy3.9 7.3.8–7.3.9 wrote CPython's 3425 (lib-python's MAGIC_NUMBER), final for them, no longer current
  const cpythonMagic = row(3425, 'PyPy');
  assert.deepEqual([cpythonMagic.final, cpythonMagic.finalFor, cpythonMagic.firstFinal, cpythonMagic.current], [true, ['3.9'], 'PyPy3.9 7.3.8', false]);
  const graal = row(21290, 'GraalPy');
  assert.deepEqual([graal.finalFor, graal.alsoVersions], [['3.11', '3.12'], ['3.12']]);
  const dev = row(304, 'PyPy');
  assert.deepEqual([dev.final, dev.finalFor, dev.alsoVersions, dev.firstFinal, dev.current], [false, [], [], null, false]);
});

test('lookup prefers the implementation asked for, else the first row of the number', () => {
  // 3413 is CPython 3.8's and GraalPython 20.3's
  const graal = table.entries.find((e) => e.magic === 3413 && e.implementation === 'GraalPy');
  assert.equal(row(3413).implementation, 'CPython');
  if (graal) assert.equal(table.lookup(3413, 'GraalPy'), graal);
  assert.equal(table.lookup(336, 'CPython')!.implementation, 'PyPy', 'no CPython row: the only one');
  assert.equal(table.lookup(4999), undefined);
});

test('finals and the newest magic of a minor, per implementation', () => {
  assert.deepEqual(table.finalMagics('3.5').map((e) => e.magic), [3350, 3351]);
  assert.deepEqual(table.finalMagics('1.2').map((e) => e.magic), [39171]);
  assert.deepEqual(table.finalMagics('3.9', 'PyPy').map((e) => e.magic), [3425, 336]);
  assert.deepEqual(table.finalMagics('3.8', 'PyPy').map((e) => e.magic), [3413, 256]);
  assert.deepEqual(table.finalMagics('3.9', 'GraalPy'), []);
  assert.equal(table.finalMagics('3.5'), table.finalMagics('3.5'), 'asked twice, computed once');
  assert.equal(table.newest('3.15')!.magic, 3666);
  assert.equal(table.newest('3.14')!.magic, 3627);
  assert.equal(table.newest('3.9', 'PyPy')!.magic, 336);
  assert.equal(table.newest('9.9'), undefined);
  assert.equal(table.newest('9.9'), undefined, 'a remembered miss');
  // a minor whose only rows were never released: the newest of those
  const devOnly = new MagicTable([{ ...row(3627), magic: 1, version: '9.1', releases: null, final: false, finalFor: [] }, { ...row(3627), magic: 2, version: '9.1', releases: null, final: false, finalFor: [] }]);
  assert.equal(devOnly.newest('9.1')!.magic, 2);
  // released rows win over later unreleased ones
  const mixed = new MagicTable([{ ...row(3627), magic: 1, version: '9.1' }, { ...row(3627), magic: 2, version: '9.1', releases: null }]);
  assert.equal(mixed.newest('9.1')!.magic, 1);
});

test('user rows override built-in rows of the same implementation and number only', () => {
  const mine: MagicEntry = { ...row(3627), releases: 'mine', source: 'mine.json' };
  const pypyRow: MagicEntry = { ...row(3627), implementation: 'PyPy', releases: 'pypy-mine' };
  const t = MagicTable.builtIn([mine, pypyRow]);
  assert.equal(t.lookup(3627)!.releases, 'mine');
  assert.equal(t.entries.filter((e) => e.magic === 3627).length, 2);
  assert.equal(t.lookup(3627, 'PyPy')!.releases, 'pypy-mine');
  assert.equal(t.entries.length, table.entries.length + 1);
});

test('withTarget: the known target magic is the only final of its minor, the rest unchanged', () => {
  const t = table.withTarget({ magic: 3350, implementation: 'CPython', version: '3.5', releases: '3.5.2 (--interpreter)', source: 'probe' });
  assert.deepEqual(t.finalMagics('3.5').map((e) => e.magic), [3350]);
  const r = t.lookup(3350)!;
  assert.deepEqual([r.final, r.current, r.finalFor], [true, true, ['3.5']]);
  assert.match(r.releases!, /; 3\.5\.2 \(--interpreter\)$/);
  assert.match(r.source, /; probe$/);
  assert.equal(r.firstFinal, row(3350).firstFinal);
  assert.deepEqual(table.finalMagics('3.5').map((e) => e.magic), [3350, 3351], 'the table it came from is unchanged');
  assert.equal(t.lookup(3627), row(3627), 'rows of other minors are the same rows');
  // a PyPy target leaves CPython rows alone
  const p = table.withTarget({ magic: 320, implementation: 'PyPy', version: '3.9', releases: 'PyPy 7.3.8', source: 'probe' });
  assert.deepEqual(p.finalMagics('3.9', 'PyPy').map((e) => e.magic), [320]);
  assert.deepEqual(p.finalMagics('3.9').map((e) => e.magic), [3425]);
  // a pre-release magic made final: firstFinal and firstRelease come from the target when the row has none
  const dev = table.withTarget({ magic: 3665, implementation: 'CPython', version: '3.15', releases: '3.15.0 (x)', source: 'probe' });
  const d = dev.lookup(3665)!;
  assert.deepEqual([d.firstFinal, d.firstRelease, d.releases], ['3.15.0 (x)', '3.15.0 (x)', '3.15.0 (x)']);
  assert.deepEqual(dev.finalMagics('3.15').map((e) => e.magic), [3665]);
  // a magic another minor wrote becomes one of the target's too
  const other = table.withTarget({ magic: 3425, implementation: 'CPython', version: '3.10', releases: '3.10.0a1 (x)', source: 'probe' });
  assert.deepEqual(other.lookup(3425)!.alsoVersions, ['3.10']);
  assert.deepEqual(other.lookup(3425)!.finalFor, ['3.9', '3.10']);
  const own = table.withTarget({ magic: 3571, implementation: 'CPython', version: '3.13', releases: '3.13.1 (x)', source: 'probe' });
  assert.deepEqual([own.lookup(3571)!.alsoVersions, own.lookup(3571)!.finalFor], [[], ['3.13']]);
  // a number the table lacks: a new row
  const n = table.withTarget({ magic: 3700, implementation: 'CPython', version: '3.16', releases: '3.16.0 (x)', source: 'probe' });
  assert.deepEqual(n.finalMagics('3.16').map((e) => e.magic), [3700]);
  const fresh = table.withTarget({ magic: 4999, implementation: 'CPython', version: '3.17', releases: '3.17.0 (x)', source: 'probe' });
  assert.deepEqual({ ...fresh.lookup(4999)! }, { magic: 4999, implementation: 'CPython', version: '3.17', alsoVersions: [], releases: '3.17.0 (x)', firstRelease: '3.17.0 (x)', final: true, finalFor: ['3.17'], firstFinal: '3.17.0 (x)', current: true, commentTag: null, note: null, source: 'probe' });
  assert.equal(fresh.entries.length, table.entries.length + 1);
});

// ---- words ---------------------------------------------------------------------------------

test('who writes a magic, in words', () => {
  assert.equal(writtenBy(row(3627)), '3.14rc3 onward');
  assert.equal(writtenBy(row(3626)), '3.14rc2');
  assert.equal(writtenBy(row(3350)), '3.5b3–3.5.2', 'final, but no longer current');
  assert.equal(writtenBy(row(3666)), '3.15b1–3.15rc1', 'current, not final');
  assert.equal(writtenBy(row(3665)), '3.15 development builds (3.15a8, never in a release)');
  assert.equal(writtenBy(row(62001)), '2.3 development builds (never in a release)');
  assert.equal(writtenBy(row(336, 'PyPy')), 'PyPy3.9 7.3.10 – 7.3.16 (Python 3.9)');
  assert.equal(writtenBy({ ...row(336, 'PyPy'), releases: null }), 'PyPy 3.9');
  assert.equal(magicLabel(row(3626), 3626), '3626 (3.14rc2)');
  assert.equal(magicLabel(undefined, 4999), '4999 (unknown)');
});

test('what final releases of a minor write, in words', () => {
  assert.deepEqual(finalExpectation(table, '3.14', 'CPython'), { magics: [3627], text: '3.14.0 expects 3627' });
  assert.deepEqual(finalExpectation(table, '3.5', 'CPython'), { magics: [3350, 3351], text: `3.5 final releases write 3350 (${row(3350).releases}) or 3351 (${row(3351).releases})` });
  assert.deepEqual(finalExpectation(table, '3.10', 'PyPy'), { magics: [row(384, 'PyPy').magic], text: 'PyPy 3.10 expects 384' });
  assert.deepEqual(finalExpectation(table, '3.15', 'CPython'), { magics: [], text: '3666 is the newest 3.15 magic known; 3.15.0 final is not in this table' });
  const pypyDev = new MagicTable([{ ...row(336, 'PyPy'), version: '3.99', final: false, finalFor: [] }]);
  assert.deepEqual(finalExpectation(pypyDev, '3.99', 'PyPy'), { magics: [], text: '336 is the newest PyPy 3.99 magic known; 3.99.0 final is not in this table' });
  assert.deepEqual(finalExpectation(table, '9.9', 'CPython'), { magics: [], text: 'no 9.9 magic is known to this table' });
  assert.deepEqual(finalExpectation(table, '9.9', 'PyPy'), { magics: [], text: 'no PyPy 9.9 magic is known to this table' });
  // a final row without firstFinal says the minor
  const noFirst = new MagicTable([{ ...row(3627), firstFinal: null }]);
  assert.equal(finalExpectation(noFirst, '3.14', 'CPython').text, '3.14 expects 3627');
});

test('superseded and unconfirmed magics', () => {
  assert.equal(supersededBy(table, row(3350))?.magic, 3351);
  assert.equal(supersededBy(table, row(3351)), null, 'current');
  assert.equal(supersededBy(table, row(3626)), null, 'not final');
  assert.equal(supersededBy(table, row(3425, 'PyPy'))?.magic, 336);
  assert.equal(supersededBy(table, row(320, 'PyPy')), null, 'never written by a release');
  // a final, no longer current magic with no current one beside it
  assert.equal(supersededBy(new MagicTable([{ ...row(3350) }]), row(3350)), null);
  assert.equal(unconfirmedFinal(table, row(3666)), true);
  assert.equal(unconfirmedFinal(table, row(3665)), false, 'not the newest');
  assert.equal(unconfirmedFinal(table, row(3626)), false, '3.14 has a final');
});

test('explain: one line per number', () => {
  assert.equal(explainMagic(table, 3626), '3626 → CPython 3.14rc2; 3.14.0 final writes 3627 [Fix missing exception handlers in logical expression]');
  assert.equal(explainMagic(table, 3627), '3627 → CPython 3.14rc3 onward (3.14.0 final): final-release bytecode for CPython 3.14');
  assert.equal(explainMagic(table, 3571), '3571 → CPython 3.13b2 onward (3.13.0 final): final-release bytecode for CPython 3.13');
  assert.equal(explainMagic(table, 3350), `3350 → CPython 3.5b3–3.5.2 (3.5.0 final): final-release bytecode for CPython 3.5; 3.5.3 and later load only 3351`);
  assert.equal(explainMagic(table, 2999), '2999 → unknown: not a magic number in this table (see --magic-table to add one)');
  assert.match(explainMagic(table, 4999), /^4999 → unknown to this table: after 3\.16's newest known 3705 \(a development number\): probably a later 3\.16 pre-release, or a newer Python; settle it with --interpreter PATH/);
  assert.equal(explainMagic(table, 336), '336 → PyPy3.9 7.3.10 – 7.3.16 (Python 3.9): final-release bytecode for PyPy 3.9');
  assert.equal(explainMagic(table, 62211), '62211 → CPython 2.7a3 onward: final-release bytecode for CPython 2.7');
  // a final magic whose words already name its first final release adds nothing
  const named = new MagicTable([{ ...row(3627), firstRelease: '3.14.0', releases: '3.14.0' }]);
  assert.equal(explainMagic(named, 3627), '3627 → CPython 3.14.0 onward: final-release bytecode for CPython 3.14');
  const noNote = new MagicTable([...table.entries.filter((e) => e.magic !== 3626), { ...row(3626), note: null }]);
  assert.equal(explainMagic(noNote, 3626), '3626 → CPython 3.14rc2; 3.14.0 final writes 3627');
});

test('magic arguments: decimal, 0x, or the four header bytes', () => {
  assert.equal(parseMagicArgument('3627'), 3627);
  assert.equal(parseMagicArgument('65535'), 65535);
  assert.equal(parseMagicArgument('65536'), null);
  assert.equal(parseMagicArgument('0x0e2b'), 3627);
  assert.equal(parseMagicArgument('0XE2B'), 3627);
  assert.equal(parseMagicArgument('0x12345'), null);
  assert.equal(parseMagicArgument('2b0e0d0a'), 3627);
  assert.equal(parseMagicArgument('2B0E0D0A'), 3627);
  for (const bad of ['', 'x', '36 27', '3627a', 'a3627', '0x', '2b0e0d0a0', '2b0e0d0', ' 3627']) assert.equal(parseMagicArgument(bad), null, JSON.stringify(bad));
});

// ---- a python package's standard library ---------------------------------------------------

test("the standard library's bytecode names the magic; other .pyc and other minors do not count", () => {
  const heads = (paths: [string, number][]) => paths.map(([path, magic]) => ({ path, head: pycHead(magic) }));
  assert.deepEqual(
    stdlibMagic(heads([
      ['lib/python3.15/__pycache__/os.cpython-315.pyc', 3667],
      ['lib/python3.15/__pycache__/re.cpython-315.opt-1.pyc', 3667],
      ['lib/python3.15/__pycache__/io.cpython-315.pyc', 3666],
      ['lib/python3.15/site-packages/x/__pycache__/y.cpython-315.pyc', 3600],
      ['lib/python3.15/__pycache__/stray.cpython-314.pyc', 3627],
      ['lib/python3.15/__pycache__/stray.cpython-314.pyc', 3627],
      ['lib/python3.15/__pycache__/stray.cpython-314.pyc', 3627],
    ])),
    { magic: 3667, implementation: 'CPython', version: '3.15', count: 2, example: 'lib/python3.15/__pycache__/os.cpython-315.pyc' },
  );
  // the most represented minor wins, then the most common magic in it
  const two = stdlibMagic(heads([
    ['a/lib/python3.14/__pycache__/os.cpython-314.pyc', 3627],
    ['a/lib/python3.15/__pycache__/os.cpython-315.pyc', 3667],
    ['a/lib/python3.15/__pycache__/re.cpython-315.pyc', 3666],
  ]));
  assert.deepEqual([two?.version, two?.magic, two?.count], ['3.15', 3667, 1]);
  assert.equal(stdlibMagic(heads([['Lib/__pycache__/os.cpython-313.pyc', 3571]]))?.version, '3.13');
  assert.equal(stdlibMagic(heads([['lib/python3.14t/__pycache__/os.cpython-314t.pyc', 3627]]))?.magic, 3627);
  assert.equal(stdlibMagic(heads([['lib/python3.9/__pycache__/os.cpython-39.pyc', 3425]]))?.version, '3.9');
  const pypy = stdlibMagic(heads([['lib/pypy3.9/__pycache__/os.pypy39.pyc', 336]]));
  assert.deepEqual([pypy?.implementation, pypy?.version], ['PyPy', '3.9']);
  assert.equal(stdlibMagic(heads([['lib/pypy3.9/__pycache__/os.pypy310.pyc', 336]])), null);
  assert.equal(stdlibMagic(heads([['lib/python3.15/site-packages/__pycache__/a.cpython-315.pyc', 3667]])), null);
  assert.equal(stdlibMagic(heads([['xlib/python3.15/__pycache__/os.cpython-315.pyc', 3667]])), null);
  assert.equal(stdlibMagic([{ path: 'lib/python3.15/__pycache__/os.cpython-315.pyc', head: Buffer.from([1, 2]) }]), null);
  assert.equal(stdlibMagic([{ path: 'lib/python3.15/__pycache__/os.cpython-315.pyc', head: Buffer.from('530e0a0d', 'hex') }]), null);
  assert.equal(stdlibMagic([{ path: 'lib/python3.15/__pycache__/os.cpython-315.pyc', head: Buffer.from('530e0d0d', 'hex') }]), null);
  assert.equal(stdlibMagic([]), null);
});

test('a learned stdlib magic as a target row', () => {
  const learned = { magic: 3667, implementation: 'CPython' as const, version: '3.15', count: 3, example: 'lib/python3.15/__pycache__/os.cpython-315.pyc' };
  assert.deepEqual(stdlibTarget(learned, 'python-3.15.0-h1_0.conda'), {
    magic: 3667,
    implementation: 'CPython',
    version: '3.15',
    releases: '3.15 (python-3.15.0-h1_0.conda)',
    source: 'python-3.15.0-h1_0.conda: 3 standard-library .pyc, e.g. lib/python3.15/__pycache__/os.cpython-315.pyc',
  });
  assert.equal(stdlibTarget({ ...learned, implementation: 'PyPy' }, 'env').releases, 'PyPy 3.15 (env)');
  assert.ok(isPythonPackageName('python-3.15.0-h1234_0_cpython.conda'));
  assert.ok(isPythonPackageName('python-3.9.18-h1_0'));
  assert.ok(!isPythonPackageName('python-dateutil-2.9.0-pyhd8ed1ab_0.conda'));
  assert.ok(!isPythonPackageName('python-3-h1_0.conda'), 'no minor');
  assert.ok(!isPythonPackageName('python-3.15.0.conda'), 'no build');
  assert.ok(!isPythonPackageName('my-python-3.15.0-h1_0.conda'));
  assert.ok(!isPythonPackageName('cpython-3.15.0-h1_0.conda'));
});

// ---- --interpreter --------------------------------------------------------------------------

const report = (over: Record<string, unknown> = {}) => JSON.stringify({ magic: [44, 14, 13, 10], version_info: [3, 15, 0, 'candidate', 3], name: 'cpython', cache_tag: 'cpython-315', ...over });

test("the probe's answer: magic, implementation, version and release", () => {
  assert.deepEqual(parseInterpreterReport(`some warning\n${report()}\n`), { magic: 3628, implementation: 'CPython', version: '3.15', release: '3.15.0rc3', cacheTag: 'cpython-315' });
  assert.equal(parseInterpreterReport(report({ version_info: [3, 15, 0, 'alpha', 2] })).release, '3.15.0a2');
  assert.equal(parseInterpreterReport(report({ version_info: [3, 15, 0, 'beta', 1] })).release, '3.15.0b1');
  assert.equal(parseInterpreterReport(report({ version_info: [3, 15, 1, 'final', 0] })).release, '3.15.1');
  assert.equal(parseInterpreterReport(report({ version_info: [3, 15, 1, 'weird', 4] })).release, '3.15.1weird4');
  assert.equal(parseInterpreterReport(report({ name: 'pypy' })).implementation, 'PyPy');
  assert.equal(parseInterpreterReport(report({ name: 'graalpy' })).implementation, 'GraalPy');
  assert.equal(parseInterpreterReport(report({ name: 'graalpython' })).implementation, 'GraalPy');
  assert.equal(parseInterpreterReport(report({ name: 'ironpython' })).implementation, 'ironpython');
  assert.equal(parseInterpreterReport(report({ name: undefined })).implementation, 'CPython');
  assert.equal(parseInterpreterReport(report({ cache_tag: null })).cacheTag, null);
  assert.equal(parseInterpreterReport(report({ magic: [255, 255, 13, 10] })).magic, 65535);
});

test("the probe's answer: what is wrong with it, said", () => {
  const wrong: [string, RegExp][] = [
    ['hello', /^did not print what a Python interpreter prints$/],
    ['', /^did not print/],
    [report({ magic: undefined }), /^gave no magic number$/],
    [report({ magic: [44, 14, 13] }), /^gave no magic number$/],
    [report({ magic: [44, 14, 13, 10, 0] }), /^gave no magic number$/],
    [report({ magic: [44, 14, 13, 256] }), /^gave no magic number$/],
    [report({ magic: [44, -1, 13, 10] }), /^gave no magic number$/],
    [report({ magic: [44, 1.5, 13, 10] }), /^gave no magic number$/],
    [report({ magic: '2c0e0d0a' }), /^gave no magic number$/],
    [report({ version_info: undefined }), /^gave no version$/],
    [report({ version_info: [3, 15, 0, 'final'] }), /^gave no version$/],
    [report({ version_info: ['3', 15, 0, 'final', 0] }), /^gave no version$/],
    [report({ version_info: [3, '15', 0, 'final', 0] }), /^gave no version$/],
    [report({ version_info: [3, 15, '0', 'final', 0] }), /^gave no version$/],
    [report({ version_info: '3.15' }), /^gave no version$/],
    [report({ magic: [44, 14, 10, 13] }), /^magic bytes 2c0e0a0d do not end in \\r\\n$/],
    [report({ magic: [44, 14, 13, 13] }), /^magic bytes 2c0e0d0d do not end in \\r\\n$/],
  ];
  for (const [out, reason] of wrong) {
    assert.throws(() => parseInterpreterReport(out), (e: Error) => e instanceof InterpreterError && reason.test(e.message), out);
  }
});

test('the target row the answer becomes', () => {
  const info = parseInterpreterReport(report());
  assert.deepEqual(interpreterTarget(info, '/opt/py/bin/python3.15'), {
    magic: 3628,
    implementation: 'CPython',
    version: '3.15',
    releases: '3.15.0rc3 (--interpreter)',
    source: '--interpreter /opt/py/bin/python3.15: importlib.util.MAGIC_NUMBER of 3.15.0rc3 (cpython-315)',
  });
  const pypy = interpreterTarget({ ...info, implementation: 'PyPy', cacheTag: null }, 'pypy3');
  assert.equal(pypy.releases, 'PyPy 3.15.0rc3 (--interpreter)');
  assert.equal(pypy.source, '--interpreter pypy3: importlib.util.MAGIC_NUMBER of PyPy 3.15.0rc3');
});

/** A stand-in interpreter: a shell script. */
function fakePython(body: string): string {
  const path = join(dir, `python-${files++}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('probing an interpreter: its answer, or one reason it gave none', { skip: process.platform === 'win32' }, async () => {
  const ok = await probeInterpreter(fakePython(`echo '${report()}'`));
  assert.equal(ok.release, '3.15.0rc3');
  await assert.rejects(probeInterpreter(fakePython('echo not python')), (e: Error) => e instanceof InterpreterError && /^did not print/.test(e.message));
  await assert.rejects(probeInterpreter(fakePython('echo "Traceback" >&2; echo "SyntaxError: bad" >&2; exit 3')), (e: Error) => e instanceof InterpreterError && e.message === 'exited with 3: SyntaxError: bad');
  await assert.rejects(probeInterpreter(fakePython('exit 4')), (e: Error) => e.message === 'exited with 4');
  await assert.rejects(probeInterpreter(fakePython('kill -TERM $$')), (e: Error) => e.message === 'exited with SIGTERM');
  await assert.rejects(probeInterpreter(join(dir, 'no-such-python')), (e: Error) => e.message === 'cannot run it (ENOENT)');
  await assert.rejects(probeInterpreter(fakePython('head -c 70000 /dev/zero | tr "\\0" x')), (e: Error) => e.message === `printed more than ${64 << 10} bytes`);
});

// ---- --magic-table FILE -----------------------------------------------------------------------

test('a user table: rows with defaults, as `magic --format json` prints them', async () => {
  const path = tableFile([
    { magic: 3667, version: '3.15', final: true, releases: '3.15.0' },
    { magic: 3668, version: '3.15', implementation: 'PyPy', note: 'n', source: 's', releases: null },
    { magic: 21290, version: '3.11', final: true, finalFor: ['3.11', '3.12'], alsoVersions: ['3.12'], firstFinal: 'GraalPy 23.1', implementation: 'GraalPy' },
  ]);
  const [a, b, c] = await loadUserTable(path);
  assert.deepEqual(a, { magic: 3667, implementation: 'CPython', version: '3.15', alsoVersions: [], releases: '3.15.0', firstRelease: '3.15.0', final: true, finalFor: ['3.15'], firstFinal: '3.15.0', current: true, commentTag: null, note: null, source: path });
  assert.deepEqual(b, { magic: 3668, implementation: 'PyPy', version: '3.15', alsoVersions: [], releases: null, firstRelease: null, final: false, finalFor: [], firstFinal: null, current: false, commentTag: null, note: 'n', source: 's' });
  assert.deepEqual([c!.finalFor, c!.alsoVersions, c!.firstFinal, c!.final], [['3.11', '3.12'], ['3.12'], 'GraalPy 23.1', true]);
  assert.deepEqual(await loadUserTable(tableFile([])), []);
  // finalFor without final: final for none
  assert.deepEqual((await loadUserTable(tableFile([{ magic: 1, version: '3.1', final: false, finalFor: ['3.1'] }])))[0]!.finalFor, []);
});

test('a user table that is wrong: one error naming the file, the row and the field', async () => {
  const bad: [unknown, string][] = [
    [{ magic: 1 }, 'expected a JSON array of rows'],
    [[null], 'row 1: not an object'],
    [[{ magic: 1, version: '3.1' }, 'x'], 'row 2: not an object'],
    [[{ version: '3.1' }], 'row 1: "magic" must be an integer 0-65535'],
    [[{ magic: '1', version: '3.1' }], 'row 1: "magic" must be an integer 0-65535'],
    [[{ magic: 1.5, version: '3.1' }], 'row 1: "magic" must be an integer 0-65535'],
    [[{ magic: -1, version: '3.1' }], 'row 1: "magic" must be an integer 0-65535'],
    [[{ magic: 65536, version: '3.1' }], 'row 1: "magic" must be an integer 0-65535'],
    [[{ magic: 1 }], 'row 1: "version" must be a minor version such as "3.15"'],
    [[{ magic: 1, version: 3.1 }], 'row 1: "version" must be a minor version such as "3.15"'],
    [[{ magic: 1, version: '3.15.0' }], 'row 1: "version" must be a minor version such as "3.15"'],
    [[{ magic: 1, version: 'v3.15' }], 'row 1: "version" must be a minor version such as "3.15"'],
    [[{ magic: 1, version: '3.1', final: 'yes' }], 'row 1: "final" must be true or false'],
    [[{ magic: 1, version: '3.1', releases: 3 }], 'row 1: "releases" must be a string'],
    [[{ magic: 1, version: '3.1', implementation: true }], 'row 1: "implementation" must be a string'],
    [[{ magic: 1, version: '3.1', alsoVersions: '3.2' }], 'row 1: "alsoVersions" must be a list of minor versions such as ["3.15"]'],
    [[{ magic: 1, version: '3.1', alsoVersions: ['3.2', 3] }], 'row 1: "alsoVersions" must be a list of minor versions such as ["3.15"]'],
    [[{ magic: 1, version: '3.1', final: true, finalFor: ['3.1.0'] }], 'row 1: "finalFor" must be a list of minor versions such as ["3.15"]'],
  ];
  for (const [content, message] of bad) {
    const path = tableFile(content);
    await assert.rejects(loadUserTable(path), (e: Error) => e instanceof MagicTableError && e.message === `${path}: ${message}`, JSON.stringify(content));
  }
  const notJson = tableFile('[{"magic": 1,');
  await assert.rejects(loadUserTable(notJson), (e: Error) => e instanceof MagicTableError && e.message.startsWith(`${notJson}: not JSON: `));
  const missing = join(dir, 'missing.json');
  await assert.rejects(loadUserTable(missing), (e: Error) => e instanceof MagicTableError && e.message === `${missing}: cannot read magic table: no such file`);
  await assert.rejects(loadUserTable(dir), (e: Error) => e instanceof MagicTableError && e.message.startsWith(`${dir}: cannot read magic table: `));
  assert.equal(MAGIC_TABLE_MAX_BYTES, 16 * 1024 * 1024);
});
