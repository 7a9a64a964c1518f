// The comparison of an extracted folder with the archive beside it, on caches built here: what
// it says when the two listings are the same bytes, when they differ, and when one is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdFrame } from './archives.js';
import { run } from './helpers.js';
import { extract, fullName, infoFiles, pycBytes, tarOf, zipOf, type Package, type PackageFile } from './package-builder.js';

const SITE = 'lib/python3.14/site-packages/demo';
const source = Buffer.from('x = 1\n');
const files: PackageFile[] = [
  { path: `${SITE}/__init__.py`, data: source, mtime: 1_700_000_000 },
  { path: `${SITE}/__pycache__/__init__.cpython-314.pyc`, data: pycBytes(3627, { mtime: 1_700_000_000, size: source.length }), mtime: 1_700_000_000 },
];
const p: Package = { name: 'demo', version: '1.0', build: 'py314_0', files, depends: ['python_abi 3.14.* *_cp314'] };

/** A cache: the package extracted, and a .conda beside it whose info/paths.json is `paths` (absent: none). */
function cache(paths: object | null, folderPaths: object | null = paths): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-compare-'));
  const folder = extract(p, dir);
  const [index] = infoFiles(p);
  const info = paths ? [index!, { path: 'info/paths.json', data: Buffer.from(JSON.stringify(paths, null, 2)), mtime: index!.mtime }] : [index!];
  if (folderPaths) writeFileSync(join(folder, 'info', 'paths.json'), JSON.stringify(folderPaths, null, 2));
  else rmSync(join(folder, 'info', 'paths.json'));
  writeFileSync(
    join(dir, `${fullName(p)}.conda`),
    zipOf([
      { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
      { name: `pkg-${fullName(p)}.tar.zst`, data: zstdFrame(tarOf(files)) },
      { name: `info-${fullName(p)}.tar.zst`, data: zstdFrame(tarOf(info)) },
    ]),
  );
  return dir;
}

const note = (dir: string) => JSON.parse(run(['--format', 'json', dir]).stdout).artifacts[0].notes[0].text as string;
const entry = (path: string, size: number) => ({ _path: path, path_type: 'hardlink', sha256: '0'.repeat(64), size_in_bytes: size });
const pyc = `${SITE}/__pycache__/__init__.cpython-314.pyc`;
const pycSize = files[1]!.data.length;

test('the same listing: a path listed twice counts by its last record, once', () => {
  // Last record right: the folder agrees.
  assert.match(note(cache({ paths: [entry(pyc, 1), entry(pyc, pycSize)], paths_version: 1 })), /beside it agrees \(info\/paths\.json\)$/);
  // Last record wrong: one file differs in size, named once.
  assert.match(note(cache({ paths: [entry(pyc, pycSize), entry(`${SITE}/__init__.py`, source.length), entry(pyc, 1)], paths_version: 1 })), new RegExp(`DISAGREES .*: 1 file differs \\(${pyc.replace(/[./]/g, '\\$&')}\\) in size on disk$`));
});

test('listings that differ name the files; one listing missing is said', () => {
  const archive = { paths: [entry(pyc, pycSize), entry(`${SITE}/__init__.py`, source.length)], paths_version: 1 };
  const folder = { paths: [entry(pyc, pycSize)], paths_version: 1 };
  assert.match(note(cache(archive, folder)), /DISAGREES .*: 1 file differs \(lib\/python3\.14\/site-packages\/demo\/__init__\.py\)$/);
  assert.match(note(cache(archive, null)), /DISAGREES .*: only one of them has info\/paths\.json$/);
  assert.match(note(cache(null, folder)), /DISAGREES .*: only one of them has info\/paths\.json$/);
});
