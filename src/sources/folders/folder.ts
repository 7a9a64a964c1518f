// Folders on disk: an extracted conda package (info/index.json), a conda environment
// (conda-meta/), a __pycache__ folder, or any other tree (a site-packages, a build prefix); and a
// loose .pyc, judged with the source beside it on disk.
//
// A walk is synchronous: one directory listing, one open+fstat+read of 16 bytes per .pyc and one
// lstat per .py, with no round trip through libuv's thread pool per file (which made a folder
// slower to read than the archive it came from). Only one file is open at a time. A walk never
// follows a symbolic link (a link loop cannot trap it), opens every file without blocking and
// checks on the opened descriptor that it is a regular file (a FIFO or a device where a .pyc or
// metadata is expected is reported, not waited on), and reads metadata up to a stated size.
// Names are read as bytes, so a file name that is not UTF-8 is read too (shown with \xNN escapes).
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { HEADER_BYTES } from '../../judge/header.js';
import { pycLocation } from '../../judge/pyc-paths.js';
import { FileError, readChunksSync, readHeadSync, readRegularFileSync, describeFileError } from '../access/regular-file.js';
import { metadataLimit, MemberCollector, SourceHashes, type HashRequest } from '../formats/tar-members.js';
import { METADATA_FILES } from '../formats/metadata.js';
import { emptyEntries, InputError, type ArtifactEntries, type SourceMember } from '../types.js';
import type { TreePart } from './targets.js';

/** The largest conda-meta/*.json record read (a package of ~100,000 files has a record of ~30 MiB). */
export const CONDA_META_LIMIT = 64 << 20;

export interface FolderOptions {
  /** --max-bytes: the most source bytes hashed for checked-hash .pyc in one folder. */
  maxBytes?: number | null;
  /** A second read: hash only these sources (see audit.ts). */
  hashOnly?: HashRequest;
  /** One part of a tree or environment (see targets.ts). */
  part?: TreePart;
}

/** A file name as a report shows it: UTF-8 as it is, any byte that is not part of UTF-8 as \xNN. */
export function displayName(name: Buffer): string {
  const text = name.toString('utf8');
  if (!text.includes('\ufffd') || Buffer.from(text).equals(name)) return text;
  let out = '';
  for (let i = 0; i < name.length; ) {
    const b = name[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (n && i + n <= name.length) {
      const piece = name.subarray(i, i + n);
      const decoded = piece.toString('utf8');
      if (decoded !== '\ufffd' && Buffer.from(decoded).equals(piece)) {
        out += decoded;
        i += n;
        continue;
      }
    }
    out += `\\x${b.toString(16).padStart(2, '0')}`;
    i++;
  }
  return out;
}

/** Why a file could not be read, in words: "permission denied", "not a regular file (a FIFO)", "a symbolic link (not followed)". */
function reason(err: unknown): string {
  if (err instanceof InputError) return err.message;
  if ((err as NodeJS.ErrnoException).code === 'ELOOP') return 'a symbolic link (not followed)';
  return describeFileError(err);
}

const slash = (parts: string[]) => parts.filter(Boolean).join('/');

export interface WalkResult {
  /** Paths relative to the root, with "/" separators (non-UTF-8 bytes as \xNN). */
  pyc: string[];
  /** .py files, same form. */
  sources: string[];
  /** .pyo files, same form. */
  pyo: string[];
  unreadable: string[];
}

/** What a walk meets, file by file, with the full path as bytes to open it by. */
interface Visitor {
  pyc(path: string, full: string | Buffer): void;
  source(path: string, full: string | Buffer): void;
  pyo(path: string): void;
  unreadable(line: string): void;
}

/**
 * Every .pyc, .py and .pyo below `root` in a depth-first walk, without following symbolic links
 * (results are sorted afterwards). `prefix` is prepended to the relative paths (a __pycache__
 * folder is named from its parent).
 */
function walk(root: string, prefix: string, visit: Visitor, skip?: ReadonlySet<string>): void {
  const stack: { full: string | Buffer; path: string }[] = [{ full: root, path: prefix }];
  const slashByte = Buffer.from(sep);
  while (stack.length) {
    const dir = stack.pop()!;
    // Names are listed as strings; a directory with a name that is not UTF-8 (decoded with
    // U+FFFD, so it could not be opened by that string) is listed again as bytes.
    let names: Dirent[] | Dirent<Buffer>[];
    try {
      names = typeof dir.full === 'string' ? readdirSync(dir.full, { withFileTypes: true }) : [];
      if (typeof dir.full !== 'string' || names.some((e) => e.name.includes('\ufffd'))) {
        dir.full = Buffer.from(dir.full);
        names = readdirSync(dir.full, { withFileTypes: true, encoding: 'buffer' });
      }
    } catch (err) {
      visit.unreadable(`${dir.path || '.'}: ${reason(err)}`);
      continue;
    }
    const parent = dir.full;
    const base = typeof parent === 'string' ? `${parent}${sep}` : Buffer.concat([parent, slashByte]);
    for (const entry of names) {
      const name = entry.name;
      // Only directories, .py, .pyc and .pyo are looked at; the kind is what readdir said (no stat).
      let kind = entry.isDirectory() ? DIR : entry.isFile() ? suffixKind(name) : OTHER;
      // A FIFO, socket or device where a .pyc belongs is reported, never passed over in silence (a
      // tree of nothing else is then not a clean run); a link is not followed, as everywhere. A
      // file system that does not say the kind (DT_UNKNOWN) is asked with lstat.
      let special: string | null = null;
      if (kind === OTHER && !entry.isSymbolicLink() && suffixKind(name) !== OTHER) {
        const known = entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice();
        const info = known ? null : lstatSync(typeof name === 'string' ? `${typeof parent === 'string' ? parent : parent.toString()}${sep}${name}` : Buffer.concat([Buffer.from(parent), slashByte, name]), { throwIfNoEntry: false });
        if (info?.isDirectory()) kind = DIR;
        else if (info?.isFile()) kind = suffixKind(name);
        else if (known || (info && !info.isSymbolicLink())) {
          const f = (x: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean }) => (x.isFIFO() ? 'a FIFO' : x.isSocket() ? 'a socket' : x.isCharacterDevice() ? 'a character device' : 'a block device');
          special = `not a regular file (${f(info ?? entry)})`;
        }
      }
      if (kind === OTHER && !special) continue;
      let full: string | Buffer;
      let shown: string;
      if (typeof name === 'string') {
        full = (base as string) + name;
        shown = name;
      } else {
        full = Buffer.concat([base as Buffer, name]);
        shown = displayName(name);
      }
      const path = dir.path ? `${dir.path}/${shown}` : shown;
      if (special) {
        if (suffixKind(name) === PYC) visit.unreadable(`${path}: ${special}`);
        continue;
      }
      if (kind === DIR) {
        if (!skip?.has(path)) stack.push({ full, path });
      } else if (kind === PYC) visit.pyc(path, full);
      else if (kind === PY) visit.source(path, full);
      else visit.pyo(path);
    }
  }
}

const OTHER = 0;
const DIR = 1;
const PYC = 2;
const PY = 3;
const PYO = 4;
const DOT = 0x2e;
const P = 0x70;
const Y = 0x79;

/** .pyc, .py, .pyo or another file, from the end of its name. */
function suffixKind(name: string | Buffer): number {
  if (typeof name === 'string') return name.endsWith('.py') ? PY : name.endsWith('.pyc') ? PYC : name.endsWith('.pyo') ? PYO : OTHER;
  const n = name.length;
  if (n >= 3 && name[n - 3] === DOT && name[n - 2] === P && name[n - 1] === Y) return PY;
  if (n >= 4 && name[n - 4] === DOT && name[n - 3] === P && name[n - 2] === Y) {
    if (name[n - 1] === 0x63) return PYC;
    if (name[n - 1] === 0x6f) return PYO;
  }
  return OTHER;
}

function endsWith(name: Buffer, suffix: string): boolean {
  return name.length >= suffix.length && name.toString('latin1', name.length - suffix.length) === suffix;
}

/** Every .pyc, .py and .pyo below `root`, without following symbolic links. */
export function walkPyc(root: string): WalkResult {
  const result: WalkResult = { pyc: [], sources: [], pyo: [], unreadable: [] };
  walk(root, '', {
    pyc: (p) => result.pyc.push(p),
    source: (p) => result.sources.push(p),
    pyo: (p) => result.pyo.push(p),
    unreadable: (line) => result.unreadable.push(line),
  });
  for (const list of [result.pyc, result.sources, result.pyo, result.unreadable]) list.sort();
  return result;
}

/** A .py on disk as a source record: lstat only (its size and mtime are what a timestamp .pyc names). */
function sourceRecord(path: string, full: Buffer | string): SourceMember {
  const info = lstatSync(full);
  if (!info.isFile()) throw new FileError(info.isSymbolicLink() ? 'a symbolic link (not followed)' : 'not a regular file', 'ENOTREG');
  return { path, size: info.size, mtime: Math.trunc(info.mtimeMs / 1000) };
}

/** Hashes a source for checked-hash .pyc, reading it 64 KiB at a time, within the byte budget. */
function hashSource(full: Buffer | string, magics: Iterable<number>, budget: { left: number } | null): Map<string, string> {
  const hashes = new SourceHashes(magics);
  const tooLarge = () => new InputError(`--max-bytes reached: hashing it would pass the limit`);
  const read = readChunksSync(full, { follow: false }, budget ? budget.left : Infinity, tooLarge, (chunk) => hashes.update(chunk));
  if (budget) budget.left -= read;
  return hashes.digests();
}

/**
 * Gathers the .pyc heads, .py records and pyo paths of a walk into entries, then hashes the sources
 * checked-hash .pyc name. lookUpSources finds a source the walk did not reach (outside its root).
 */
class FolderCollector {
  readonly entries: ArtifactEntries;
  private readonly collector: MemberCollector;
  /** Where each source the walk met lives, to hash it later. */
  private readonly sourceFiles = new Map<string, Buffer | string>();

  constructor(
    kind: ArtifactEntries['kind'],
    private readonly options: FolderOptions,
  ) {
    this.entries = emptyEntries(kind);
    this.entries.unreadable = [];
    this.collector = new MemberCollector(this.entries);
  }

  readonly visitor: Visitor = {
    pyc: (path, full) => this.addPyc(path, full),
    source: (path, full) => this.addSource(path, full),
    pyo: (path) => this.entries.pyo.push(path),
    unreadable: (line) => this.entries.unreadable!.push(line),
  };

  addPyc(path: string, full: string | Buffer): void {
    try {
      const { head, stats } = readHeadSync(full, HEADER_BYTES, { follow: false });
      this.collector.addPyc(path, stats.size, head);
    } catch (err) {
      this.visitor.unreadable(`${path}: ${reason(err)}`);
    }
  }

  addPycHead(path: string, size: number, head: Buffer): void {
    this.collector.addPyc(path, size, head);
  }

  addSource(path: string, full: Buffer | string): void {
    if (this.options.hashOnly && !this.options.hashOnly.has(path)) return;
    try {
      this.entries.sources.push(sourceRecord(path, full));
      this.sourceFiles.set(path, full);
    } catch (err) {
      this.visitor.unreadable(`${path}: ${reason(err)}`);
    }
  }

  /** Each .pyc's source that the walk did not meet, looked for on disk under `base` (absent: none). */
  lookUpSources(base: string): void {
    const known = new Set(this.entries.sources.map((s) => s.path));
    for (const pyc of this.entries.pyc) {
      const { source } = pycLocation(pyc.path);
      if (known.has(source)) continue;
      known.add(source);
      const full = join(base, ...source.split('/'));
      // As in a walk, only a regular file is a source (a link is not followed); none: the checks say what that means.
      if (!lstatSync(full, { throwIfNoEntry: false })?.isFile()) continue;
      this.addSource(source, full);
    }
  }

  /** Hashes the sources checked-hash .pyc need (or a second read asks for); ends the read. */
  finish(): ArtifactEntries {
    const wanted = this.options.hashOnly ?? this.collector.sourcesToHash();
    const budget = this.options.maxBytes ? { left: this.options.maxBytes } : null;
    for (const source of this.entries.sources) {
      const magics = wanted.get(source.path);
      const full = this.sourceFiles.get(source.path);
      if (!magics || full === undefined) continue;
      try {
        source.hashes = hashSource(full, magics, budget);
      } catch (err) {
        this.visitor.unreadable(`${source.path}: ${reason(err)}`);
      }
    }
    this.entries.pyc.sort(byPath);
    this.entries.sources.sort(byPath);
    this.entries.pyo.sort();
    this.entries.unreadable!.sort();
    return this.entries;
  }
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Reads one metadata file of a folder, within its limit; absent is null, anything else wrong is said. */
function readMetadata(root: string, path: string, limit: number, unreadable: string[]): Buffer | null {
  try {
    return readRegularFileSync(join(root, ...path.split('/')), { follow: false, maxBytes: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push(`${path}: ${reason(err)}`);
    return null;
  }
}

/**
 * Where the member paths of a loose .pyc or a __pycache__ folder start, so they read as they would
 * in a package: at the prefix of a lib/pythonX.Y/ in the path (lib/python3.14/site-packages/x/
 * __pycache__/m.cpython-314.pyc), else at the folder that holds the __pycache__ (or the legacy .pyc).
 */
export function contextBase(dir: string): string {
  const parts = resolve(dir).split(sep);
  for (let i = parts.length - 2; i >= 0; i--) {
    if (parts[i] === 'lib' && /^(python\d\.\d+t?|pypy\d\.\d+)$/.test(parts[i + 1]!)) return parts.slice(0, i).join(sep) || sep;
  }
  return basename(dir) === '__pycache__' ? dirname(resolve(dir)) : resolve(dir);
}

function relativeTo(base: string, path: string): string {
  const rel = resolve(path).slice(base === sep ? 1 : base.length + 1);
  return rel.split(sep).join('/');
}

/**
 * Reads the .pyc heads, .py records (size and mtime, and the hash a checked-hash .pyc needs) and
 * the small metadata of a folder as one artifact. A __pycache__ folder is read with the sources
 * beside it, as a loose .pyc is.
 */
export function readFolder(root: string, kind: 'folder' | 'env' | 'dir', options: FolderOptions = {}): ArtifactEntries {
  const collector = new FolderCollector(kind, options);
  const entries = collector.entries;
  if (kind === 'dir' && basename(resolve(root)) === '__pycache__') {
    const base = contextBase(root);
    walk(root, relativeTo(base, root), collector.visitor);
    collector.lookUpSources(base);
    entries.contextSources = true;
    return collector.finish();
  }
  const part = options.part;
  const rest = !part?.only;
  if (part?.only) walk(join(part.root, ...part.only.split('/')), part.only, collector.visitor);
  else walk(part?.root ?? root, '', collector.visitor, part?.skip ? new Set(part.skip) : undefined);
  const top = part?.root ?? root;
  if (!options.hashOnly) {
    if (rest) {
      for (const meta of METADATA_FILES) {
        const bytes = readMetadata(top, meta, metadataLimit(meta), entries.unreadable!);
        if (bytes) entries.metadata.set(meta, bytes);
      }
    }
    if (kind === 'env') {
      const meta = condaMetaOf(top);
      entries.owners = meta.owners;
      entries.envPython = meta.python;
      // Said once, with the rest of the environment, not with every package.
      if (rest) entries.unreadable!.push(...meta.unreadable);
    }
  }
  return collector.finish();
}

/** A .pyc given by path, with its source looked for on disk where Python would look for it. */
export function readLoosePyc(path: string, options: FolderOptions = {}): ArtifactEntries {
  const base = contextBase(dirname(path));
  const member = relativeTo(base, path);
  let read;
  try {
    // The user named this file: a link to it is followed, as for an archive.
    read = readHeadSync(path, HEADER_BYTES, { follow: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : reason(err));
  }
  const collector = new FolderCollector('pyc', options);
  collector.addPycHead(member, read.stats.size, read.head);
  collector.lookUpSources(base);
  const entries = collector.finish();
  entries.contextSources = true;
  return entries;
}

/** The environment last read, kept while its parts are read one after another. */
let lastCondaMeta: { prefix: string; meta: ReturnType<typeof readCondaMeta> } | null = null;

function condaMetaOf(prefix: string): ReturnType<typeof readCondaMeta> {
  const key = resolve(prefix);
  if (lastCondaMeta?.prefix !== key) lastCondaMeta = { prefix: key, meta: readCondaMeta(prefix) };
  return lastCondaMeta.meta;
}

/** Which installed package owns each file of an environment, its python, and the records that could not be read. */
export function readCondaMeta(prefix: string): { owners: Map<string, string>; python: string | null; unreadable: string[] } {
  const owners = new Map<string, string>();
  const unreadable: string[] = [];
  let python: string | null = null;
  let names: Dirent<Buffer>[];
  try {
    names = readdirSync(Buffer.from(join(prefix, 'conda-meta')), { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    return { owners, python, unreadable: [`conda-meta: ${reason(err)}`] };
  }
  names.sort((a, b) => Buffer.compare(a.name, b.name));
  for (const entry of names) {
    if (entry.isDirectory() || !endsWith(entry.name, '.json')) continue;
    const shown = `conda-meta/${displayName(entry.name)}`;
    let record: { name?: unknown; version?: unknown; build?: unknown; files?: unknown; paths_data?: { paths?: { _path?: unknown }[] } };
    try {
      const bytes = readRegularFileSync(Buffer.concat([Buffer.from(join(prefix, 'conda-meta') + sep), entry.name]), { follow: false, maxBytes: CONDA_META_LIMIT });
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError('not a package record (a JSON object)');
      record = parsed as typeof record;
    } catch (err) {
      unreadable.push(`${shown}: ${err instanceof SyntaxError ? `not JSON (${err.message})` : reason(err)}`);
      continue;
    }
    if (record.name === 'python' && typeof record.version === 'string') {
      const m = /^(\d+)\.(\d+)/.exec(record.version);
      if (m) python = `${m[1]}.${m[2]}`;
    }
    const id = [record.name, record.version, record.build].filter((x) => typeof x === 'string').join('-') || displayName(entry.name).replace(/\.json$/, '');
    if (Array.isArray(record.files)) for (const f of record.files) if (typeof f === 'string') owners.set(f, id);
    const paths = record.paths_data?.paths;
    if (Array.isArray(paths)) for (const p of paths) if (typeof p?._path === 'string') owners.set(p._path, id);
  }
  return { owners, python, unreadable };
}
