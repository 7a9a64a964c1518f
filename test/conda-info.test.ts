// The short way to a .conda's info/ (conda-info.ts), which the package-cache comparison takes:
// on built and real packages it gives what the general way gives; every other layout, and any
// error, is left to the general way, so the comparison says the same whichever way was taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { zstd } from '../src/sources/codecs/codecs.js';
import { readCondaInfo, SHORT_WAY_BYTES } from '../src/sources/formats/conda-info.js';
import { boundedFzstd } from '../src/sources/codecs/fzstd-bounded.js';
import { readArtifact } from '../src/sources/index.js';
import { zstdFrame, zstdRuns } from './archives.js';
import { CORPUS, haveCorpus, ROOT, run } from './helpers.js';
import { extract, fullName, infoFiles, pycBytes, tarBz2Of, tarOf, zipOf, type Package, type PackageFile } from './package-builder.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-conda-info-'));
const haveZstd = spawnSync('zstd', ['--help'], { stdio: 'ignore' }).error === undefined;
/** How this process decodes zstd (codecs.ts chooses once): the short way is taken with the first two only. */
const decoder = zstd().name.startsWith('node:zlib') ? 'zlib' : zstd().decode === boundedFzstd ? 'js' : 'program';
const general = async (path: string) => (await readArtifact(path, { metadataOnly: true })).metadata;

function pkg(name: string, modules: number): Package {
  const files: PackageFile[] = [];
  for (let i = 0; i < modules; i++) {
    const source = Buffer.from(`x = ${i}\n`);
    const mtime = 1_700_000_000 + i;
    files.push({ path: `lib/python3.14/site-packages/${name}/m${i}.py`, data: source, mtime });
    files.push({ path: `lib/python3.14/site-packages/${name}/__pycache__/m${i}.cpython-314.pyc`, data: pycBytes(3627, { mtime, size: source.length }), mtime });
  }
  return { name, version: '1.0', build: 'py314_0', files, depends: ['python >=3.14,<3.15.0a0'] };
}

/** The members of a .conda, to be laid out as each test needs. */
function members(p: Package, info = zstdFrame(tarOf(infoFiles(p)))) {
  return {
    metadata: { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    pkg: { name: `pkg-${fullName(p)}.tar.zst`, data: zstdFrame(tarOf(p.files)) },
    info: { name: `info-${fullName(p)}.tar.zst`, data: info },
  };
}

/** A zip whose member `name` is marked deflated (method 8) in both its headers. */
function markDeflated(zip: Buffer, name: string): Buffer {
  const out = Buffer.from(zip);
  const at = (sig: number, from: number) => {
    for (let i = from; i + 4 <= out.length; i++) if (out.readUInt32LE(i) === sig) return i;
    return -1;
  };
  for (let i = at(0x04034b50, 0); i >= 0; i = at(0x04034b50, i + 4)) {
    if (out.toString('latin1', i + 30, i + 30 + out.readUInt16LE(i + 26)) === name) out.writeUInt16LE(8, i + 8);
  }
  for (let i = at(0x02014b50, 0); i >= 0; i = at(0x02014b50, i + 4)) {
    if (out.toString('latin1', i + 46, i + 46 + out.readUInt16LE(i + 28)) === name) out.writeUInt16LE(8, i + 10);
  }
  return out;
}

/** What readCondaInfo gives in a process with PYC_AUDIT_ZSTD=`forced`: the SHA-256 of each metadata file, or null. */
function inChild(path: string, forced: string): Record<string, string> | null {
  const script = `const { readCondaInfo } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'src', 'sources', 'formats', 'conda-info.js')).href)});
const m = await readCondaInfo(${JSON.stringify(path)});
const { createHash } = await import('node:crypto');
process.stdout.write(JSON.stringify(m && Object.fromEntries([...m].map(([k, v]) => [k, createHash('sha256').update(v).digest('hex')]))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, PYC_AUDIT_ZSTD: forced }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const digests = (m: Map<string, Buffer>) => Object.fromEntries([...m].map(([k, v]) => [k, createHash('sha256').update(v).digest('hex')]));

test('built .conda: the short way reads info/ as the general way does, from the tail read or beyond it, with either in-process decoder', async () => {
  const dir = tmp();
  for (const p of [pkg('small', 2), pkg('large', 1500)]) {
    const { metadata, pkg: body, info } = members(p);
    const path = join(dir, `${fullName(p)}.conda`);
    writeFileSync(path, zipOf([metadata, body, info]));
    // The large one's component does not fit in the 64 KiB read from the end of the file.
    assert.equal(info.data.length > 64 << 10, p.name === 'large');
    const expected = await general(path);
    assert.deepEqual([...expected.keys()].sort(), ['info/index.json', 'info/paths.json']);
    const short = await readCondaInfo(path);
    // In this process, whichever decoder codecs.ts chose: the zstd program leaves the archive to the general way.
    if (decoder !== 'program') assert.deepEqual(short, expected, `${p.name}: read the short way`);
    else assert.equal(short, null, `${p.name}: zstd is a program here`);
    // The pure-JavaScript decoder reads it in process too; a program is left to the general way.
    assert.deepEqual(inChild(path, 'js'), digests(expected), `${p.name}: PYC_AUDIT_ZSTD=js`);
    if (haveZstd) assert.equal(inChild(path, 'tool'), null, `${p.name}: PYC_AUDIT_ZSTD=tool`);
  }
});

test('real .conda files: the short way and the general way read the same info/', { skip: haveCorpus ? false : 'no corpus' }, async () => {
  let read = 0;
  for (const sub of readdirSync(join(CORPUS, 'conda'), { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const name of readdirSync(join(CORPUS, 'conda', sub.name)).filter((n) => n.endsWith('.conda'))) {
      const path = join(CORPUS, 'conda', sub.name, name);
      const short = await readCondaInfo(path);
      // The pure-JavaScript decoder refuses some real windows (zlib's 128 MiB): the general way says so.
      const expected = await general(path).catch(() => null);
      if (decoder === 'program' || !expected) assert.equal(short, null, name);
      else assert.deepEqual(short, expected, `${name}: read the short way`);
      read++;
    }
  }
  assert.ok(read >= 5, `${read} .conda in the corpus`);
});

test('every other layout goes the general way, and the cache comparison says what the general way says', async () => {
  const p = pkg('odd', 3);
  const { metadata, pkg: body, info } = members(p);
  const plain = zipOf([metadata, body, info]);
  const withComment = Buffer.concat([plain, Buffer.from('a comment')]);
  withComment.writeUInt16LE('a comment'.length, plain.length - 22 + 20);
  const deflated = markDeflated(zipOf([metadata, body, { ...info, data: deflateRawSync(info.data) }]), info.name);
  // The info tar, then zeros past the tar's end: more decoded bytes than the short way takes.
  const padded = zipOf([metadata, body, { ...info, data: zstdRuns([tarOf(infoFiles(p)), { byte: 0, count: SHORT_WAY_BYTES + (1 << 20) }]) }]);
  const truncated = zipOf([metadata, body, { ...info, data: info.data.subarray(0, info.data.length - 100) }]);
  const cases: [string, Buffer | null, RegExp][] = [
    ['a zip comment', withComment, /beside it agrees \(info\/paths\.json\)$/],
    ['a deflated info component', deflated, /beside it agrees \(info\/paths\.json\)$/],
    // The JavaScript decoder streams the component and stops at the tar's end; node:zlib decodes it
    // in one piece, past SHORT_WAY_BYTES, so the general way reads it. The note is the same.
    ['zeros past the tar', padded, /beside it agrees \(info\/paths\.json\)$/],
    ['a folder member (info/index.json in the zip itself)', zipOf([metadata, body, info, { name: 'info/index.json', data: Buffer.from('{}') }]), /DISAGREES .*: info\/index\.json differs$/],
    ['two info components', zipOf([metadata, body, info, { ...info, name: `info-${fullName(p)}-2.tar.zst` }]), /beside it agrees \(info\/paths\.json\)$/],
    ['no pkg component', zipOf([metadata, info]), /could not be read to compare: not a conda package: the zip has no pkg-\*\.tar\.zst/],
    ['a truncated info component', truncated, /could not be read to compare: info-odd-1\.0-py314_0\.tar\.zst: truncated/],
    ['a cut central directory', plain.subarray(0, plain.length - 30), /could not be read to compare: not a readable zip/],
    ['a .tar.bz2 named .conda', tarBz2Of(p), /beside it agrees \(info\/paths\.json\)$/],
  ];
  for (const [why, bytes, note] of cases) {
    if (!bytes) continue; // no bzip2 program here
    const cache = tmp();
    extract(p, cache);
    const archive = join(cache, `${fullName(p)}.conda`);
    writeFileSync(archive, bytes);
    const short = await readCondaInfo(archive);
    if (why === 'zeros past the tar' && decoder === 'js') assert.deepEqual(short, await general(archive), why);
    else assert.equal(short, null, `${why}: the general way`);
    const r = run(['--format', 'json', cache]);
    const [folder] = JSON.parse(r.stdout).artifacts;
    assert.equal(folder.notes.length, 1, why);
    assert.match(folder.notes[0].text, note, why);
  }
});
