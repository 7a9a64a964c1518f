// Conda packages built at test time from a list of files: as a .conda (stored zip of zstd tars),
// a .tar.bz2 (when a bzip2 program is here), an extracted folder, and installed into an environment.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipOf, zstdFrame } from './archives.js';

export interface PackageFile {
  path: string;
  data: Buffer;
  /** Modification time in seconds: kept by the tars and set on disk. */
  mtime: number;
}

export interface Package {
  name: string;
  version: string;
  build: string;
  /** The package's files (not info/). */
  files: PackageFile[];
  /** info/index.json's depends. */
  depends: string[];
  /** info/about.json, when the package has one (conda-smithy's builds put the recipe in extra). */
  about?: Record<string, unknown>;
}

export const fullName = (p: Package) => `${p.name}-${p.version}-${p.build}`;

/** A .pyc header and body: 16 bytes of header (magic, flags, then mtime+size or the source hash). */
export function pycBytes(magic: number, header: { mtime: number; size: number } | { hash: Buffer }): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt16LE(magic, 0);
  head[2] = 0x0d;
  head[3] = 0x0a;
  if ('hash' in header) {
    head.writeUInt32LE(3, 4);
    header.hash.copy(head, 8);
  } else {
    head.writeUInt32LE(header.mtime >>> 0, 8);
    head.writeUInt32LE(header.size >>> 0, 12);
  }
  // A marshalled code object's first byte and some payload; only the header is read.
  return Buffer.concat([head, Buffer.from([0xe3]), Buffer.alloc(32, 0x2a)]);
}

function ustarHeader(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1 - Math.max(0, Buffer.byteLength(name) - 100));
    h.write(name.slice(cut + 1), 0, 100, 'utf8');
    h.write(name.slice(0, cut), 345, 155, 'utf8');
  } else {
    h.write(name, 0, 100, 'utf8');
  }
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write(mtime.toString(8).padStart(11, '0') + '\0', 136);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A ustar archive of the files, in the order given. */
export function tarOf(files: PackageFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(ustarHeader(f.path, f.data.length, f.mtime), f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export { zipOf };

const INFO_MTIME = 1_600_000_000;

/** info/index.json and info/paths.json of a package, as conda-build writes them. */
export function infoFiles(p: Package): PackageFile[] {
  const index = { name: p.name, version: p.version, build: p.build, build_number: 0, depends: p.depends, subdir: 'linux-64' };
  const paths = {
    paths: p.files.map((f) => ({ _path: f.path, path_type: 'hardlink', sha256: createHash('sha256').update(f.data).digest('hex'), size_in_bytes: f.data.length })),
    paths_version: 1,
  };
  return [
    ...(p.about ? [{ path: 'info/about.json', data: Buffer.from(JSON.stringify(p.about, null, 2)), mtime: INFO_MTIME }] : []),
    { path: 'info/index.json', data: Buffer.from(JSON.stringify(index, null, 2)), mtime: INFO_MTIME },
    { path: 'info/paths.json', data: Buffer.from(JSON.stringify(paths, null, 2)), mtime: INFO_MTIME },
  ];
}

/** The package as a .conda: metadata.json, info-*.tar.zst, pkg-*.tar.zst in a stored zip. */
export function condaOf(p: Package): Buffer {
  const name = fullName(p);
  return zipOf([
    { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    { name: `info-${name}.tar.zst`, data: zstdFrame(tarOf(infoFiles(p))) },
    { name: `pkg-${name}.tar.zst`, data: zstdFrame(tarOf(p.files)) },
  ]);
}

export const haveBzip2 = spawnSync('bzip2', ['--help'], { stdio: 'ignore' }).error === undefined;

/** The package as a .tar.bz2 (info/ first, as conda-build writes it), or null without a bzip2 program. */
export function tarBz2Of(p: Package): Buffer | null {
  if (!haveBzip2) return null;
  const r = spawnSync('bzip2', ['-c'], { input: tarOf([...infoFiles(p), ...p.files]), maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bzip2 failed: ${r.stderr}`);
  return r.stdout;
}

/** Writes files under root with their mtimes, as conda extracts and installs them. */
export function writeFiles(root: string, files: PackageFile[]): void {
  for (const f of files) {
    const full = join(root, ...f.path.split('/'));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, f.data);
    utimesSync(full, f.mtime, f.mtime);
  }
}

/** The package extracted under dir/<name-version-build> (info/ included); returns that folder. */
export function extract(p: Package, dir: string): string {
  const folder = join(dir, fullName(p));
  writeFiles(folder, [...infoFiles(p), ...p.files]);
  return folder;
}

/** An environment at prefix with python X.Y and the package installed (its conda-meta record lists its files). */
export function install(p: Package, prefix: string, python: string): void {
  writeFiles(prefix, p.files);
  mkdirSync(join(prefix, 'conda-meta'), { recursive: true });
  const [major, minor] = python.split('.');
  writeFileSync(join(prefix, 'conda-meta', `python-${python}.0-h0_cp${major}${minor}.json`), JSON.stringify({ name: 'python', version: `${python}.0`, build: `h0_cp${major}${minor}`, files: [] }));
  writeFileSync(join(prefix, 'conda-meta', `${fullName(p)}.json`), JSON.stringify({ name: p.name, version: p.version, build: p.build, files: p.files.map((f) => f.path) }));
}
