// The tar state machine against archives built here, fed whole and one byte at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarWalker, TarError } from '../src/sources/tar-walker.js';
import { MemberCollector } from '../src/sources/tar-members.js';
import { tarHeader as header } from './archives.js';
import { emptyEntries } from '../src/sources/types.js';

/** The keep policy of an audit's tar walk. */
const auditKeep = () => new MemberCollector(emptyEntries('tar')).keep;

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const member = (name: string, body: Buffer, type = '0', opts = {}) => Buffer.concat([header(name, body.length, type, opts), pad(body)]);
const paxRecord = (key: string, value: string) => {
  const rest = ` ${key}=${value}\n`;
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len++;
  return `${len}${rest}`;
};
const END = Buffer.alloc(1024);
const PYC = Buffer.from('2b0e0d0a00000000000000000000000000000000deadbeef', 'hex');

function walk(archive: Buffer, byteByByte = false) {
  const kept: [string, number, string][] = [];
  const w = new TarWalker(auditKeep(), (path, size, bytes) => kept.push([path, size, bytes.toString('hex')]));
  if (byteByByte) for (let i = 0; i < archive.length; i++) w.write(archive.subarray(i, i + 1));
  else w.write(archive);
  w.end();
  return kept;
}

test('keeps 16 bytes of each .pyc and all of info/index.json, skips the rest', () => {
  const archive = Buffer.concat([
    member('info/index.json', Buffer.from('{"name":"x"}')),
    member('lib/big.so', Buffer.alloc(5000, 7)),
    member('./lib/x.cpython-314.pyc', PYC),
    member('lib/dir', Buffer.alloc(0), '5'),
    END,
  ]);
  const expected = [
    ['info/index.json', 12, Buffer.from('{"name":"x"}').toString('hex')],
    ['lib/x.cpython-314.pyc', PYC.length, PYC.subarray(0, 16).toString('hex')],
  ];
  assert.deepEqual(walk(archive), expected);
  assert.deepEqual(walk(archive, true), expected, 'the same when every byte arrives alone');
});

test('long names: ustar prefix, pax path, GNU long name', () => {
  const long = `lib/python3.14/site-packages/${'deep/'.repeat(30)}__pycache__/m.cpython-314.pyc`;
  const pax = Buffer.from(paxRecord('path', long));
  const archive = Buffer.concat([
    member('m.cpython-314.pyc', PYC, '0', { prefix: 'lib/python3.14/site-packages/pkg/__pycache__' }),
    member('PaxHeader/x', pax, 'x'),
    member('truncated-name-ignored.pyc', PYC),
    member('././@LongLink', Buffer.from(`${long}\0`), 'L'),
    member('short.pyc', PYC),
    END,
  ]);
  assert.deepEqual(walk(archive).map((k) => k[0]), [
    'lib/python3.14/site-packages/pkg/__pycache__/m.cpython-314.pyc',
    long,
    long,
  ]);
});

test('pax size and base-256 sizes are honoured', () => {
  const body = Buffer.alloc(600, 1);
  const archive = Buffer.concat([
    member('PaxHeader/a', Buffer.from(paxRecord('size', '600')), 'x'),
    header('a.pyc', 0), // the ustar field says 0; the pax record wins
    pad(body),
    header('b.pyc', 600, '0', { base256: true }),
    pad(body),
    END,
  ]);
  assert.deepEqual(walk(archive).map((k) => [k[0], k[1]]), [['a.pyc', 600], ['b.pyc', 600]]);
});

test('a bad checksum, a truncated header and a truncated body are errors that say where', () => {
  const good = member('a.pyc', PYC);
  const bad = Buffer.from(good);
  bad[0] = 'b'.charCodeAt(0);
  assert.throws(() => walk(Buffer.concat([bad, END])), (e: Error) => e instanceof TarError && /checksum mismatch/.test(e.message));
  assert.throws(() => walk(Buffer.concat([good, header('b.pyc', 100).subarray(0, 300)])), /ends inside a header \(after a\.pyc\)/);
  assert.throws(() => walk(Buffer.concat([good, header('b.pyc', 2000), Buffer.alloc(100)])), /ends inside b\.pyc \(1900 of 2000 bytes missing\)/);
  assert.throws(() => walk(Buffer.concat([member('PaxHeader/x', Buffer.alloc(0), 'x').subarray(0, 512), header('x', 2 << 20, 'x').subarray(0, 512)])), /pax header of 2097152 bytes/);
});

test('an archive may end without the zero blocks, and trailing zeros are ignored', () => {
  assert.equal(walk(member('a.pyc', PYC)).length, 1);
  assert.equal(walk(Buffer.concat([member('a.pyc', PYC), END, Buffer.alloc(9000)])).length, 1);
});

test('member mtimes: the ustar field, or a pax mtime truncated to whole seconds; a body observer sees every byte', () => {
  const body = Buffer.from('x = 1\n'.repeat(200));
  const archive = Buffer.concat([
    member('a.py', body),
    member('PaxHeader/b', Buffer.from(paxRecord('mtime', '1700000123.987654321')), 'x'),
    member('b.py', body),
    END,
  ]);
  const seen: [string, number | null, number][] = [];
  let observed = 0;
  const w = new TarWalker(
    (path) => (path.endsWith('.py') ? { keep: 0, observer: { update: (c: Buffer) => (observed += c.length) } } : 0),
    (path, size, _kept, mtime) => seen.push([path, mtime, size]),
  );
  for (let i = 0; i < archive.length; i += 100) w.write(archive.subarray(i, i + 100));
  w.end();
  assert.deepEqual(seen, [['a.py', 0o14533431060, body.length], ['b.py', 1700000123, body.length]]);
  assert.equal(observed, 2 * body.length);
});
