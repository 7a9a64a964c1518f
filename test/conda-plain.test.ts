// A .conda of the plain layout audited the short way (conda-plain.ts): whatever the archive, the
// report and the error lines are byte for byte those of the general way (PYC_AUDIT_PLAIN_READ_BYTES=0),
// on the real packages of the corpus, on the fixtures and on built ones, damaged ones included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLAIN_READ_BYTES, readPlainConda } from '../src/sources/formats/conda-plain.js';
import { zstdFrame } from './archives.js';
import { CORPUS, FIXTURES, haveCorpus, run } from './helpers.js';
import { fullName, infoFiles, pycBytes, tarOf, zipOf, type Package, type PackageFile } from './package-builder.js';

function pkg(name: string, modules: number, magic = 3627): Package {
  const files: PackageFile[] = [];
  for (let i = 0; i < modules; i++) {
    const source = Buffer.from(`x = ${i}\n`);
    const mtime = 1_700_000_000 + i;
    files.push({ path: `lib/python3.14/site-packages/${name}/m${i}.py`, data: source, mtime });
    files.push({ path: `lib/python3.14/site-packages/${name}/__pycache__/m${i}.cpython-314.pyc`, data: pycBytes(i % 5 === 0 ? 3495 : magic, { mtime, size: source.length }), mtime });
  }
  return { name, version: '1.0', build: 'py314_0', files, depends: ['python >=3.14,<3.15.0a0'] };
}

function members(p: Package) {
  return {
    metadata: { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    info: { name: `info-${fullName(p)}.tar.zst`, data: zstdFrame(tarOf(infoFiles(p))) },
    body: { name: `pkg-${fullName(p)}.tar.zst`, data: zstdFrame(tarOf(p.files)) },
  };
}

/** Every .conda in `dir` and the folders below it. */
function condasIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.conda'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The same run the short way and the general way: report, error lines and exit status identical. */
function sameBothWays(paths: string[], extra: string[] = []): void {
  for (const format of ['json', 'text']) {
    const args = ['--format', format, '--isolated', ...extra, ...paths];
    const short = run(args);
    const general = run(args, { PYC_AUDIT_PLAIN_READ_BYTES: '0' });
    assert.deepEqual(short, general, `--format ${format} ${extra.join(' ')}`);
  }
}

test('real and fixture .conda: read the short way, with the report the general way gives', { skip: haveCorpus ? false : 'no corpus' }, async () => {
  const plain = [...condasIn(join(CORPUS, 'conda')), ...condasIn(FIXTURES).filter((p) => !p.includes('fuzz-regressions'))];
  assert.ok(plain.length >= 15, `${plain.length} .conda`);
  for (const path of plain) assert.notEqual(await readPlainConda(path, {}), null, `${path}: the short way`);
  // The fuzzers' finds beside them: odd and broken archives, whichever way each is read.
  const paths = condasIn(FIXTURES).filter((p) => p.includes('fuzz-regressions'));
  assert.ok(paths.length > 0);
  sameBothWays([...plain, ...paths]);
  // Judged against another Python than each one targets.
  sameBothWays(plain, ['--python', '3.11']);
});

test('built .conda, any member order, components beyond the 64 KiB read from the end: the short way; damaged or other layouts: the general way, same lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-conda-plain-'));
  try {
    const small = pkg('small', 3);
    const large = pkg('large', 400);
    const s = members(small);
    const l = members(large);
    assert.ok(l.body.data.length > 64 << 10 && l.body.data.length <= PLAIN_READ_BYTES, 'beyond the tail read, within the limit');
    const plain = zipOf([s.metadata, s.body, s.info]);
    const corruptZstd = Buffer.from(s.body.data);
    corruptZstd[5] = 0xff; // the frame header descriptor's reserved bit
    const badTar = tarOf(small.files);
    badTar[100] = badTar[100]! ^ 0x01; // the first header's mode: its checksum no longer holds
    const withComment = Buffer.concat([plain, Buffer.from('a comment')]);
    withComment.writeUInt16LE('a comment'.length, plain.length - 22 + 20);
    const shortWay: [string, Buffer][] = [
      ['small', plain],
      ['info-first', zipOf([s.info, s.body, s.metadata])],
      ['large', zipOf([l.metadata, l.info, l.body])],
      ['two-info', zipOf([s.metadata, s.body, s.info, { ...s.info, name: `info-${fullName(small)}-2.tar.zst` }])],
    ];
    const generalWay: [string, Buffer][] = [
      ['truncated-half', plain.subarray(0, plain.length >> 1)],
      ['truncated-end', plain.subarray(0, plain.length - 1)],
      ['cut-directory', plain.subarray(0, plain.length - 30)],
      ['truncated-zstd', zipOf([s.metadata, { ...s.body, data: s.body.data.subarray(0, s.body.data.length - 40) }, s.info])],
      ['corrupt-zstd', zipOf([s.metadata, { ...s.body, data: corruptZstd }, s.info])],
      ['corrupt-tar', zipOf([s.metadata, { ...s.body, data: zstdFrame(badTar) }, s.info])],
      ['no-pkg', zipOf([s.metadata, s.info])],
      ['a-comment', withComment],
      ['extra-member', zipOf([s.metadata, s.body, s.info, { name: 'README', data: Buffer.from('hi') }])],
      ['empty', Buffer.alloc(0)],
      ['not-a-zip', Buffer.from('BZh91AY&SY not really')],
    ];
    const write = ([name, bytes]: [string, Buffer]) => {
      const path = join(dir, `${name}-1.0-py314_0.conda`);
      writeFileSync(path, bytes);
      return path;
    };
    const shortPaths = shortWay.map(write);
    const generalPaths = generalWay.map(write);
    for (const path of shortPaths) assert.notEqual(await readPlainConda(path, {}), null, `${path}: the short way`);
    for (const path of generalPaths) assert.equal(await readPlainConda(path, {}), null, `${path}: the general way`);
    sameBothWays([...shortPaths, ...generalPaths]);
    // Each damaged one says what is wrong with it, once, as the general way says it.
    const damaged = generalPaths.filter((p) => !/\/(a-comment|extra-member)-/.test(p));
    const lines = run(['--isolated', ...generalPaths]).stderr.trim().split('\n');
    assert.equal(lines.length, damaged.length, lines.join('\n'));
    for (const [i, path] of damaged.entries()) assert.ok(lines[i]!.startsWith(`pyc-audit: error: ${path}: `), lines[i]);
    // A component larger than PYC_AUDIT_PLAIN_READ_BYTES is left to the general way too.
    const big = shortPaths[2]!;
    const limited = run(['--format', 'json', '--isolated', big], { PYC_AUDIT_PLAIN_READ_BYTES: String(l.body.data.length - 1) });
    assert.deepEqual(limited, run(['--format', 'json', '--isolated', big]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
