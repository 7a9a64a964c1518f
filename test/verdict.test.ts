// One .pyc's status, in process: the headers the pyenv interpreters wrote (fixtures/pyc) and
// headers built here, judged against the built-in table for a target Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MagicTable } from '../src/magic/table.js';
import { judgePyc, STATUS_ORDER, worstStatus, type PycStatus } from '../src/judge/verdict.js';
import { fixture } from './helpers.js';

const table = MagicTable.builtIn();
const written = (name: string) => readFileSync(fixture('pyc', name));
/** The 16 header bytes of a .pyc with this magic (flags 0, mtime and size 0). */
const headerOf = (magic: number) => {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(magic, 0);
  b[2] = 0x0d;
  b[3] = 0x0a;
  return b;
};
const judge = (path: string, head: Buffer, version: string | null, implementation: 'CPython' | 'PyPy' | 'GraalPy' = 'CPython', t = table) =>
  judgePyc({ path, size: head.length, head: head.subarray(0, 16) }, { version, implementation }, t);

test('a 3.13 .pyc in a 3.13 package is ok; the verdict carries the header, the row and the bytes', () => {
  const pyc = written('greeting.3.13.timestamp.pyc');
  const v = judge('pkg/__pycache__/greeting.cpython-313.pyc', pyc, '3.13');
  assert.deepEqual(
    { status: v.status, message: v.message, magic: v.magic, implementation: v.implementation, version: v.version, releases: v.releases, member: v.member, headerHex: v.headerHex },
    { status: 'ok', message: 'written by 3.13b2 onward', magic: 3571, implementation: 'CPython', version: '3.13', releases: '3.13b2–3.13.15', member: 'pkg/__pycache__/greeting.cpython-313.pyc', headerHex: pyc.subarray(0, 16).toString('hex') },
  );
  assert.equal(v.size, pyc.length);
  assert.equal(v.header?.kind, 'timestamp');
  assert.equal(v.header?.mtime, 1700000000);
  assert.equal(v.header?.sourceSize, 117);
});

test('without a target version, the bytecode is judged against its own minor', () => {
  for (const [name, path] of [
    ['greeting.3.13.timestamp.pyc', 'm/__pycache__/g.cpython-313.pyc'],
    ['greeting.3.6.timestamp.pyc', 'm/g.pyc'],
    ['greeting.2.7.timestamp.pyc', 'm/g.pyc'],
  ] as const) {
    assert.equal(judge(path, written(name), null).status, 'ok', name);
  }
  // a pre-release magic is stale against its own minor's final
  const rc2 = judge('m/__pycache__/g.cpython-314.pyc', written('greeting.3.14rc2.timestamp.pyc'), null);
  assert.equal(rc2.status, 'stale');
  assert.equal(rc2.message, 'written by 3.14rc2; 3.14.0 expects 3627');
});

test('pre-release bytecode in a package for the final: stale, naming the final magic', () => {
  const v = judge('m/__pycache__/g.cpython-314.pyc', written('greeting.3.14rc2.timestamp.pyc'), '3.14');
  assert.equal(v.status, 'stale');
  assert.equal(v.message, 'written by 3.14rc2; 3.14.0 expects 3627');
  // rc3 wrote the final's magic
  assert.equal(judge('m/__pycache__/g.cpython-314.pyc', written('greeting.3.14rc3.timestamp.pyc'), '3.14').status, 'ok');
});

test("another minor's bytecode under its own cache tag: wrong-version, saying what the target expects", () => {
  const v = judge('m/__pycache__/g.cpython-312.pyc', written('greeting.3.12.timestamp.pyc'), '3.13');
  assert.equal(v.status, 'wrong-version');
  assert.equal(v.message, 'CPython 3.12 bytecode (3531, written by 3.12b1 onward); 3.13.0 expects 3571');
  // no cache tag at all: the same
  assert.equal(judge('m/g.pyc', written('greeting.3.12.timestamp.pyc'), '3.13').status, 'wrong-version');
});

test("a cache tag that contradicts the bytecode: tag-mismatch, whatever the target", () => {
  const v = judge('m/__pycache__/g.cpython-312.pyc', written('greeting.3.13.timestamp.pyc'), '3.13');
  assert.equal(v.status, 'tag-mismatch');
  assert.equal(v.message, 'cache tag cpython-312 but CPython 3.13 bytecode (3571, written by 3.13b2 onward)');
  assert.equal(judge('m/__pycache__/g.cpython-312.pyc', written('greeting.3.13.timestamp.pyc'), null).status, 'tag-mismatch');
  // a CPython magic under a PyPy tag of the same minor
  assert.equal(judge('m/__pycache__/g.pypy313.pyc', written('greeting.3.13.timestamp.pyc'), null).status, 'tag-mismatch');
  // a tag of a minor that also writes the magic is no mismatch: 3425 is 3.9 final's and 3.10a1's
  assert.equal(judge('m/__pycache__/g.cpython-310.pyc', headerOf(3425), '3.9').status, 'ok');
  assert.equal(judge('m/__pycache__/g.cpython-39.pyc', headerOf(3425), '3.9').status, 'ok');
});

test('a magic no release knows, and bytes that are no .pyc header', () => {
  const unknown = judge('m/g.pyc', headerOf(9999), '3.6');
  assert.equal(unknown.status, 'unknown-magic');
  assert.equal(unknown.magic, 9999);
  assert.equal(unknown.message, "magic 9999 is not in the table: after 3.16's newest known 3705 (a development number): probably a later 3.16 pre-release, or a newer Python; 3.6.0 expects 3379");
  // with no minor to place it for (no tag, no target), the words of old
  assert.equal(judge('m/g.pyc', headerOf(9999), null).message, 'magic 9999 is not in the table (newer than this release of pyc-audit? see --magic-table)');
  assert.equal(unknown.implementation, null);
  assert.equal(unknown.header?.magic, 9999);

  const short = judge('m/g.pyc', Buffer.from('0f27', 'hex'), '3.6');
  assert.deepEqual([short.status, short.magic, short.header, short.message], ['invalid', 9999, null, '2 bytes: shorter than any .pyc header']);
  const empty = judge('m/g.pyc', Buffer.alloc(0), '3.6');
  assert.deepEqual([empty.status, empty.magic], ['invalid', null]);
  // a 3.13 magic cut at 12 bytes: the row is known, the header too short for its era
  const cut = judge('m/__pycache__/g.cpython-313.pyc', written('greeting.3.13.timestamp.pyc').subarray(0, 12), '3.13');
  assert.deepEqual([cut.status, cut.version, cut.message], ['invalid', '3.13', '12 bytes: shorter than the 16-byte header of its era']);
});

test("the header's size follows the row's version, not the number: PyPy 3.9's 336 has a 16-byte header", () => {
  const head = Buffer.concat([headerOf(336).subarray(0, 4), Buffer.from('000000000000000000000000', 'hex')]);
  const v = judge('m/__pycache__/g.pypy39.pyc', head, '3.9', 'PyPy');
  assert.equal(v.status, 'ok');
  assert.equal(v.header?.headerSize, 16);
  // as a CPython number, 336 would be of the 8-byte era: 12 bytes would do; PyPy's 3.9 needs 16
  assert.equal(judge('m/__pycache__/g.pypy39.pyc', head.subarray(0, 12), '3.9', 'PyPy').status, 'invalid');
});

test('a final magic later releases of its minor replaced is superseded; the current one ok', () => {
  const v = judge('m/__pycache__/g.cpython-35.pyc', headerOf(3350), '3.5');
  assert.equal(v.status, 'superseded');
  assert.equal(v.message, 'written by 3.5b3–3.5.2 (3350); 3.5.3 and later load only 3351');
  assert.equal(judge('m/__pycache__/g.cpython-35.pyc', headerOf(3351), '3.5').status, 'ok');
  const pypy = judge('m/__pycache__/g.pypy39.pyc', headerOf(3425), '3.9', 'PyPy');
  assert.equal(pypy.status, 'superseded');
  assert.match(pypy.message, /and later load only 336$/);
});

test("the newest magic of a minor without a final: unconfirmed; an older one of that minor: stale", () => {
  const newest = table.newest('3.15')!;
  assert.deepEqual(table.finalMagics('3.15'), [], 'the built-in table has no 3.15 final');
  const v = judge('m/__pycache__/g.cpython-315.pyc', headerOf(newest.magic), '3.15');
  assert.equal(v.status, 'unconfirmed');
  assert.equal(v.message, `3.15 final's magic is not in this table; ${newest.magic} is ${newest.releases}`);
  const older = judge('m/__pycache__/g.cpython-315.pyc', headerOf(newest.magic - 1), '3.15');
  assert.equal(older.status, 'stale');
  assert.match(older.message, new RegExp(`${newest.magic} is the newest 3.15 magic known; 3.15.0 final is not in this table$`));
});

test('a magic several minors wrote belongs to each: 39171 (1.1 and 1.2), not to 1.3', () => {
  const word = Buffer.from('0399990001020304', 'hex'); // 0x999903 as a 4-byte word: no "\r\n"
  assert.equal(judge('m/g.pyc', word, '1.1').status, 'ok');
  assert.equal(judge('m/g.pyc', word, '1.2').status, 'ok');
  const v = judge('m/g.pyc', word, '1.3');
  assert.equal(v.status, 'wrong-version');
  assert.equal(v.message, 'CPython 1.1 bytecode (39171, written by 1.1 onward); 1.3 expects 11913');
});

test('the implementation counts: PyPy bytecode in a CPython package is the wrong version, judged alone it is ok', () => {
  assert.equal(judge('m/__pycache__/g.pypy39.pyc', headerOf(336), '3.9', 'PyPy').status, 'ok');
  const v = judge('m/g.pyc', headerOf(336), '3.9', 'CPython');
  assert.equal(v.status, 'wrong-version');
  assert.match(v.message, /^PyPy 3\.9 bytecode \(336, written by PyPy3\.9 7\.3\.10 – 7\.3\.16 \(Python 3\.9\)\); 3\.9\.0 expects 3425$/);
  assert.equal(judge('m/g.pyc', headerOf(336), null, 'CPython').status, 'ok');
  // GraalPy's 21150 with no target: judged as GraalPy 3.8; in a CPython 3.8 package, wrong
  assert.equal(judge('m/g.pyc', headerOf(21150), null).status, 'ok');
  assert.equal(judge('m/g.pyc', headerOf(21150), '3.8').status, 'wrong-version');
});

test('an artifact takes the status of its worst .pyc', () => {
  assert.equal(worstStatus([]), 'ok');
  assert.equal(worstStatus(['ok', 'unconfirmed']), 'unconfirmed');
  assert.equal(worstStatus(['ok', 'superseded', 'unconfirmed']), 'superseded');
  assert.equal(worstStatus(['ok', 'stale', 'superseded']), 'stale');
  assert.equal(worstStatus(['unknown-magic', 'invalid', 'ok']), 'invalid');
  for (let i = 0; i < STATUS_ORDER.length; i++) {
    const rest = STATUS_ORDER.slice(i) as PycStatus[];
    assert.equal(worstStatus([...rest].reverse()), STATUS_ORDER[i]);
  }
});
