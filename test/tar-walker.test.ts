// The tar state machine against archives built here, fed whole and one byte at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MAX_NAME_BYTES, TarWalker, TarError } from '../src/sources/formats/tar-walker.js';
import { MemberCollector } from '../src/sources/formats/tar-members.js';
import { resumTarHeader as resum, tarHeader as header } from './archives.js';
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

// ---- archives written by Python's tarfile (GNU and pax formats) and by hand ----------------------

/** The mtime tarHeader writes. */
const HM = 0o14533431060;
/** Python's own tarfile, without a version manager's shim in between. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const python3 = spawnSync(PYTHON, ['-c', 'pass']).status === 0;

type Spec = [string, string | { link: string } | { mtime: number; body: string }][];
/** Tar archives tarfile writes, one per [format, members] (members: [name, body | {link} | {mtime, body}]). */
function tarfileArchives(specs: ['gnu' | 'pax' | 'ustar', Spec][]): Buffer[] {
  const script = `import base64, io, sys, json, tarfile
for fmt, members in json.loads(sys.stdin.read()):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=getattr(tarfile, fmt.upper() + '_FORMAT')) as t:
        for name, what in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if isinstance(what, dict) and 'link' in what:
                info.type = tarfile.LNKTYPE
                info.linkname = what['link']
                t.addfile(info)
                continue
            if isinstance(what, dict):
                info.mtime = what['mtime']
                what = what['body']
            data = what.encode()
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    print(base64.b64encode(out.getvalue()).decode())`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(specs), maxBuffer: 64 << 20, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((b) => Buffer.from(b, 'base64'));
}

/** Every member the walker reports, whole, with mtimes and links, fed in chunks of `step` bytes. */
function walkAll(archive: Uint8Array, step = archive.length) {
  const seen: string[] = [];
  const w = new TarWalker(
    () => 1 << 20,
    (path, size, kept, mtime) => seen.push(`${path} ${size} ${kept.toString()} ${mtime}`),
    (path, target, mtime) => seen.push(`${path} -> ${target} ${mtime}`),
  );
  for (let i = 0; i < archive.length; i += step) w.write(archive.subarray(i, i + step));
  w.end();
  return { seen, finished: w.finished };
}

test('GNU and pax archives from tarfile: long names, long link names, hard links, fractional mtimes', { skip: python3 ? false : 'no python3' }, () => {
  const long = `lib/python3.13/site-packages/${'d/'.repeat(60)}m.py`;
  const longTarget = `lib/${'t/'.repeat(70)}target.py`;
  const members: Spec = [
    [longTarget, 'x = 1\n'],
    [long, 'y = 2\n'],
    ['lib/short-link.py', { link: longTarget }],
    ['./lib/dotted.py', 'z'],
  ];
  const expected = [
    `${longTarget} 6 x = 1\n 1700000000`,
    `${long} 6 y = 2\n 1700000000`,
    `lib/short-link.py -> ${longTarget} 1700000000`,
    'lib/dotted.py 1 z 1700000000',
  ];
  const [gnu, pax, fraction, block] = tarfileArchives([
    ['gnu', members],
    ['pax', members],
    ['pax', [['a.py', { mtime: 1700000000.75, body: 'a' }]]],
    ['ustar', [['b.py', 'b'.repeat(512)], ['c.py', 'c']]],
  ]);
  for (const [format, archive] of [['gnu', gnu!], ['pax', pax!]] as const) {
    for (const step of [archive.length, 511, 512, 513, 1]) {
      const r = walkAll(archive, step);
      assert.deepEqual(r.seen, expected, `${format}, chunks of ${step}`);
      assert.equal(r.finished, true);
    }
  }
  // pax keeps a fractional mtime; the walker truncates it as CPython's int(st_mtime) does
  assert.deepEqual(walkAll(fraction!).seen, ['a.py 1 a 1700000000']);
  // a member exactly one block long needs no padding
  assert.deepEqual(walkAll(block!).seen.map((s) => s.split(' ').slice(0, 2).join(' ')), ['b.py 512', 'c.py 1']);
});

test('a Uint8Array chunk is read like a Buffer; the walker keeps no reference to it', () => {
  const archive = Buffer.concat([member('a.pyc', PYC), END]);
  const chunk = new Uint8Array(archive.length + 8).subarray(8);
  chunk.set(archive);
  const kept: Buffer[] = [];
  const w = new TarWalker(() => 16, (_p, _s, bytes) => kept.push(bytes));
  w.write(chunk);
  w.end();
  assert.equal(kept[0]!.toString('hex'), PYC.subarray(0, 16).toString('hex'));
  chunk.fill(0);
  assert.equal(kept[0]!.toString('hex'), PYC.subarray(0, 16).toString('hex'), 'what it kept is a copy');
  assert.equal(w.finished, true);
});

test('what the policy keeps: a prefix of the body across chunks, never more than the member, and an observer with nothing kept', () => {
  const body = Buffer.from(Array.from({ length: 1500 }, (_, i) => i & 0xff));
  const archive = Buffer.concat([member('a.bin', body), member('b.bin', Buffer.from('tiny')), member('c.bin', Buffer.from('seen')), END]);
  const kept: [string, number, string][] = [];
  let observed = '';
  const w = new TarWalker(
    (path) => (path === 'a.bin' ? 700 : path === 'b.bin' ? 100 : { keep: 0, observer: { update: (c: Buffer) => (observed += c.toString()) } }),
    (path, size, bytes) => kept.push([path, size, bytes.toString('hex')]),
  );
  for (let i = 0; i < archive.length; i += 300) w.write(archive.subarray(i, i + 300));
  w.end();
  assert.deepEqual(kept, [['a.bin', 1500, body.subarray(0, 700).toString('hex')], ['b.bin', 4, Buffer.from('tiny').toString('hex')], ['c.bin', 4, '']]);
  assert.equal(observed, 'seen');
  // a plan keeping bytes and observing them
  let seen = 0;
  const kept2: string[] = [];
  const w2 = new TarWalker(() => ({ keep: 2, observer: { update: (c: Buffer) => (seen += c.length) } }), (p, _s, bytes) => kept2.push(`${p}:${bytes}`));
  w2.write(Buffer.concat([member('x', Buffer.from('hello')), END]));
  assert.deepEqual([kept2, seen], [['x:he'], 5]);
});

test('an empty member reaches the sink when wanted; directories, links and devices never do', () => {
  const archive = Buffer.concat([
    member('empty.pyc', Buffer.alloc(0)),
    member('dir/', Buffer.alloc(0), '5'),
    member('sym', Buffer.alloc(0), '2'),
    member('fifo', Buffer.alloc(0), '6'),
    member('contig.pyc', PYC, '7'),
    member('old-style.pyc', PYC, '\0'),
    END,
  ]);
  const asked: string[] = [];
  const kept: string[] = [];
  const w = new TarWalker((p) => (asked.push(p), 16), (p, size) => kept.push(`${p} ${size}`));
  w.write(archive);
  w.end();
  assert.deepEqual(asked, ['empty.pyc', 'contig.pyc', 'old-style.pyc']);
  assert.deepEqual(kept, ['empty.pyc 0', `contig.pyc ${PYC.length}`, `old-style.pyc ${PYC.length}`]);
  // a policy that wants 0 bytes: the sink never hears of it
  const none: string[] = [];
  const w0 = new TarWalker(() => 0, (p) => none.push(p));
  w0.write(archive);
  assert.deepEqual(none, []);
});

test('hard links: the target named by the header, a pax linkpath or a GNU long link; no body read', () => {
  const linkHeader = (name: string, target: string) => {
    const h = header(name, 0, '1');
    h.write(target, 157, 100, 'utf8');
    return resum(h);
  };
  const longTarget = `a/${'x'.repeat(150)}.pyc`;
  const archive = Buffer.concat([
    member('a/__pycache__/m.cpython-313.pyc', PYC),
    linkHeader('./a/__pycache__/n.cpython-313.pyc', './a/__pycache__/m.cpython-313.pyc'),
    member('PaxHeader/l', Buffer.from(paxRecord('linkpath', longTarget)), 'x'),
    linkHeader('p.pyc', 'ignored'),
    member('././@LongLink', Buffer.from(`${longTarget}\0`), 'K'),
    linkHeader('q.pyc', 'ignored'),
    END,
  ]);
  const links: string[] = [];
  const w = new TarWalker(() => 16, () => {}, (path, target, mtime) => links.push(`${path} -> ${target} @${mtime}`));
  w.write(archive);
  w.end();
  assert.deepEqual(links, [`a/__pycache__/n.cpython-313.pyc -> a/__pycache__/m.cpython-313.pyc @${HM}`, `p.pyc -> ${longTarget} @${HM}`, `q.pyc -> ${longTarget} @${HM}`]);
  // without a link sink, links are passed over
  const w2 = new TarWalker(() => 16, () => {});
  w2.write(archive);
  w2.end();
});

test('pax: global headers are ignored, records kept until the member they describe, odd records skipped', () => {
  const records = [paxRecord('comment', 'x'), paxRecord('path', 'from-pax.py'), '5 a=\n', paxRecord('mtime', 'soon'), '99 path=cut\n'].join('');
  const archive = Buffer.concat([
    member('PaxHeader/global', Buffer.from(paxRecord('path', 'global-ignored.py')), 'g'),
    member('plain.py', Buffer.from('p')),
    member('PaxHeader/x', Buffer.from(records), 'x'),
    member('ustar-name.py', Buffer.from('q')),
    member('after.py', Buffer.from('r')),
    END,
  ]);
  assert.deepEqual(walkAll(archive).seen, [`plain.py 1 p ${HM}`, `from-pax.py 1 q ${HM}`, `after.py 1 r ${HM}`]);
  // a record whose length is not a number ends the parse; "=" first is no key
  const odd = Buffer.concat([member('PaxHeader/x', Buffer.from(`${paxRecord('path', 'k.py')}x path=no\n`), 'x'), member('n.py', Buffer.from('n')), END]);
  assert.deepEqual(walkAll(odd).seen, [`k.py 1 n ${HM}`]);
  const noKey = Buffer.concat([member('PaxHeader/x', Buffer.from(`${paxRecord('', 'v')}${paxRecord('path', 'e.py')}`), 'x'), member('n.py', Buffer.from('n')), END]);
  assert.deepEqual(walkAll(noKey).seen, [`e.py 1 n ${HM}`]);
  const noSpace = Buffer.concat([member('PaxHeader/x', Buffer.from('12'), 'x'), member('n.py', Buffer.from('n')), END]);
  assert.deepEqual(walkAll(noSpace).seen, [`n.py 1 n ${HM}`]);
  const zero = Buffer.concat([member('PaxHeader/x', Buffer.from(`0 path=z\n${paxRecord('path', 'z.py')}`), 'x'), member('n.py', Buffer.from('n')), END]);
  assert.deepEqual(walkAll(zero).seen, [`n.py 1 n ${HM}`]);
});

test('header fields: octal with spaces, a signed checksum, names without a terminating NUL', () => {
  // size written as "   13 " (spaces before and after), mtime with a space-padded field
  const h = header('x'.repeat(100), 0);
  h.write('       15 \0', 124, 'latin1');
  h.write(' 6256330400 ', 136, 'latin1');
  h[99] = 0xe9; // a byte > 127 in the name: the signed sum differs from the unsigned one
  h.fill(0x20, 148, 156);
  let signed = 0;
  for (const b of h) signed += b > 127 ? b - 256 : b;
  h.write(signed.toString(8).padStart(6, '0') + '\0 ', 148);
  const archive = Buffer.concat([h, pad(Buffer.from('thirteen-byte')), END]);
  const { seen } = walkAll(archive);
  assert.equal(seen.length, 1);
  const [name, size, , mtime] = seen[0]!.split(' ');
  assert.equal(name, `${'x'.repeat(99)}\ufffd`);
  assert.equal(size, '13');
  assert.equal(Number(mtime), 0o6256330400);
  // a mtime field that is not octal: no mtime
  const noTime = header('t.py', 1);
  noTime.write('9999\0', 136, 'latin1');
  resum(noTime);
  assert.deepEqual(walkAll(Buffer.concat([noTime, pad(Buffer.from('t')), END])).seen, ['t.py 1 t null']);
  // a prefix is used only in a ustar header
  const v7 = header('m.py', 1, '0', { prefix: 'lib' });
  v7.write('\0\0\0\0\0\0', 257, 'latin1');
  resum(v7);
  assert.deepEqual(walkAll(Buffer.concat([v7, pad(Buffer.from('m')), END])).seen, [`m.py 1 m ${HM}`]);
  assert.deepEqual(walkAll(Buffer.concat([member('m.py', Buffer.from('m'), '0', { prefix: 'lib' }), END])).seen, [`lib/m.py 1 m ${HM}`]);
});

test('corrupt archives: every error names where it is', () => {
  const badSize = header('s.py', 0);
  badSize.write('0000000009\0', 124, 'latin1');
  resum(badSize);
  assert.throws(() => walkAll(Buffer.concat([badSize, END])), (e: Error) => e instanceof TarError && e.message === 'corrupt tar header after the start: bad size field');
  assert.throws(() => walkAll(Buffer.concat([member('a.py', Buffer.from('a')), badSize, END])), (e: Error) => e.message === 'corrupt tar header after a.py: bad size field');
  const bad = member('b.py', Buffer.from('b'));
  bad[0] = 0x63;
  assert.throws(() => walkAll(Buffer.concat([bad, END])), (e: Error) => e.message === 'corrupt tar header at the start: checksum mismatch');
  assert.throws(() => walkAll(Buffer.concat([member('a.py', Buffer.from('a')), bad, END])), (e: Error) => e.message === 'corrupt tar header after a.py: checksum mismatch');
  assert.throws(() => walkAll(header('c.py', 10).subarray(0, 100)), (e: Error) => e.message === 'truncated: the tar archive ends inside a header');
  assert.throws(() => walkAll(Buffer.concat([header('PaxHeader/x', 100, 'x'), Buffer.alloc(10)])), (e: Error) => e.message === 'truncated: the tar archive ends inside a member (90 of 100 bytes missing)');
  assert.throws(() => walkAll(Buffer.concat([member('PaxHeader/x', Buffer.from(paxRecord('size', '-1')), 'x'), member('n', Buffer.alloc(0)), END])), (e: Error) => e.message === 'corrupt tar: bad size in a pax header');
  assert.throws(() => walkAll(Buffer.concat([member('PaxHeader/x', Buffer.from(paxRecord('size', '1.5')), 'x'), member('n', Buffer.alloc(0)), END])), /bad size in a pax header/);
  assert.throws(() => walkAll(Buffer.concat([header('././@LongLink', (1 << 20) + 1, 'L'), END])), (e: Error) => e.message === 'corrupt tar: a long-name header of 1048577 bytes');
  assert.throws(() => walkAll(Buffer.concat([header('././@LongLink', (1 << 20) + 1, 'K'), END])), /a long-name header of/);
  assert.throws(() => walkAll(Buffer.concat([header('PaxHeader/g', (1 << 20) + 1, 'g'), END])), (e: Error) => e.message === 'corrupt tar: a pax header of 1048577 bytes');
  // a metadata body of exactly 1 MiB is still read
  const big = Buffer.alloc(1 << 20, 0x41);
  Buffer.from(paxRecord('comment', 'x')).copy(big);
  assert.deepEqual(walkAll(Buffer.concat([member('PaxHeader/big', big, 'x'), member('ok.py', Buffer.from('o')), END])).seen.length, 1);
  // names longer than PATH_MAX, however given
  const tooLong = 'n'.repeat(MAX_NAME_BYTES + 1);
  assert.throws(() => walkAll(Buffer.concat([member('PaxHeader/x', Buffer.from(paxRecord('path', tooLong)), 'x'), member('n', Buffer.alloc(0)), END])), (e: Error) => e.message === `corrupt tar: a member name of ${MAX_NAME_BYTES + 1} bytes (the limit is 4096, PATH_MAX)`);
  assert.throws(() => walkAll(Buffer.concat([member('PaxHeader/x', Buffer.from(paxRecord('linkpath', tooLong)), 'x'), member('n', Buffer.alloc(0)), END])), /a member name of 4097 bytes/);
  assert.throws(() => walkAll(Buffer.concat([member('././@LongLink', Buffer.from(tooLong), 'L'), member('n', Buffer.alloc(0)), END])), /a member name of 4097 bytes/);
  assert.throws(() => walkAll(Buffer.concat([member('././@LongLink', Buffer.from(tooLong), 'K'), member('n', Buffer.alloc(0)), END])), /a member name of 4097 bytes/);
  const justFits = 'n'.repeat(MAX_NAME_BYTES);
  assert.equal(walkAll(Buffer.concat([member('PaxHeader/x', Buffer.from(paxRecord('path', justFits)), 'x'), member('n', Buffer.from('1')), END])).seen[0]!.split(' ')[0], justFits);
});

test('the end: one zero block is not the end, two are; stopping between members or in padding is fine', () => {
  const one = walkAll(Buffer.concat([member('a.py', Buffer.from('a')), Buffer.alloc(512), member('b.py', Buffer.from('b'))]));
  assert.deepEqual([one.seen.length, one.finished], [2, false]);
  const w = new TarWalker(() => 1, () => {});
  w.write(member('a.py', Buffer.from('a')).subarray(0, 600)); // inside the padding
  assert.equal(w.finished, false);
  w.end();
  const full = Buffer.concat([member('a.py', Buffer.from('a')), END, member('ignored.py', Buffer.from('i'))]);
  const after = walkAll(full);
  assert.deepEqual([after.seen.length, after.finished], [1, true]);
});


test('a numeric field may fill all its bytes: no terminator, the next field not read', () => {
  const h = header('full.py', 0);
  h.write('000000000017', 124, 'latin1'); // 12 octal digits, no NUL: 15
  h.write('00000000000\0', 136, 'latin1');
  const { seen } = walkAll(Buffer.concat([resum(h), pad(Buffer.from('fifteen-bytes!!')), END]));
  assert.deepEqual(seen, ['full.py 15 fifteen-bytes!! 0']);
});

test('a signed checksum counts bytes of 0x80 and up as negative, 0x7f as positive', () => {
  const h = header('signed.py', 1);
  h[90] = 0x7f;
  h[91] = 0x80;
  h[92] = 0xff;
  h.fill(0x20, 148, 156);
  let signed = 0;
  for (const b of h) signed += b > 127 ? b - 256 : b;
  h.write(signed.toString(8).padStart(6, '0') + '\0 ', 148);
  assert.equal(walkAll(Buffer.concat([h, pad(Buffer.from('s')), END])).seen.length, 1);
  // the unsigned sum of the same header is accepted too; a sum off by one is not
  assert.equal(walkAll(Buffer.concat([resum(Buffer.from(h)), pad(Buffer.from('s')), END])).seen.length, 1);
  const off = Buffer.from(h);
  off.write((signed + 1).toString(8).padStart(6, '0') + '\0 ', 148);
  assert.throws(() => walkAll(Buffer.concat([off, pad(Buffer.from('s')), END])), /checksum mismatch/);
});

test('pax records: a one-digit length, a record without "=", a size of 0', () => {
  const archive = Buffer.concat([
    member('PaxHeader/a', Buffer.from('8 pathq\n9 path=x\n'), 'x'),
    member('ignored', Buffer.from('a')),
    member('PaxHeader/b', Buffer.from(paxRecord('size', '0')), 'x'),
    member('sized.py', Buffer.from('this body is not there')).subarray(0, 512),
    member('next.py', Buffer.from('n')),
    END,
  ]);
  assert.deepEqual(walkAll(archive).seen, [`x 1 a ${HM}`, `sized.py 0  ${HM}`, `next.py 1 n ${HM}`]);
});

test('names: every leading ./ goes, an inner ./ stays; trailing NULs of a GNU long name go', () => {
  const long = `lib/${'l'.repeat(120)}.py`;
  const archive = Buffer.concat([
    member('./././lib/a.py', Buffer.from('a')),
    member('lib/./b.py', Buffer.from('b')),
    member('././@LongLink', Buffer.from(`${long}\0\0\0`), 'L'),
    member('cut', Buffer.from('c')),
    END,
  ]);
  assert.deepEqual(walkAll(archive).seen, [`lib/a.py 1 a ${HM}`, `lib/./b.py 1 b ${HM}`, `${long} 1 c ${HM}`]);
});

test('an archive whose last member is empty and that has no end blocks is complete', () => {
  const { seen, finished } = walkAll(Buffer.concat([member('a.py', Buffer.from('a')), member('empty.py', Buffer.alloc(0))]));
  assert.deepEqual(seen, [`a.py 1 a ${HM}`, `empty.py 0  ${HM}`]);
  assert.equal(finished, false);
  // a walker that wants nothing still walks the whole archive: the end blocks are found
  const w = new TarWalker(() => 0, () => assert.fail('nothing is wanted'));
  w.write(Buffer.concat([member('a.py', Buffer.from('a')), END]));
  assert.equal(w.finished, true);
});
