// Opens one input path and streams it into ArtifactEntries, choosing the reader by content.
// Readers other than .conda and .tar.bz2 (streams, URLs, folders) load when first needed: a
// reader thread imports this module, and its start-up time is paid before it decodes anything.
import { readRange } from './file-range.js';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readConda, readCondaInfoFiles } from './conda.js';
import type { Target } from './targets.js';
import { bzip2 } from './codecs.js';
import { MemberCollector, scanTarball, walkTarball, type HashRequest, type ScanOptions } from './tar-members.js';
import { sniff } from './sniff.js';
import { emptyEntries, InputError, type ArtifactEntries } from './types.js';

async function readFirstBytes(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readTarBz2(path: string, scan: ScanOptions): Promise<ArtifactEntries> {
  const result = emptyEntries('tar.bz2');
  const codec = bzip2();
  const { size } = await stat(path);
  try {
    const { decodeFile } = codec;
    await scanTarball(
      decodeFile ? (sink) => decodeFile(path, sink) : (sink) => codec.decode(readRange(path, 0, size, codec.consumesSynchronously), sink),
      new MemberCollector(result, scan.hashOnly),
      scan,
    );
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return result;
}

export interface ReadOptions {
  /** Stop (with an error) after this many decompressed bytes of one artifact: --max-bytes. */
  maxBytes?: number | null;
  /** URLs: seconds without a byte before giving up (--timeout). */
  timeoutSeconds?: number;
  /** A second read, for the hashes of these sources only (see audit.ts). */
  hashOnly?: HashRequest;
}

function scanOptions(options: ReadOptions): ScanOptions {
  return { budget: options.maxBytes ? { limit: options.maxBytes, used: 0 } : undefined, hashOnly: options.hashOnly };
}

/** Reads one artifact. Throws InputError with a reason a person can act on. */
export async function readArtifact(path: string, options: ReadOptions = {}): Promise<ArtifactEntries> {
  const scan = scanOptions(options);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
  if (info.isDirectory()) throw new InputError('is a directory, not an artifact (give the .conda, .tar.bz2 or .pyc files in it)');
  if (!info.isFile()) throw new InputError('not a regular file');
  const first = await readFirstBytes(path, 512);
  switch (sniff(first, path)) {
    case 'zip-stream':
      return readConda(path, scan);
    case 'tar.bz2':
      return readTarBz2(path, scan);
    case 'tar.gz':
    case 'tar':
    case 'pyc':
      return (await import('./stream.js')).readStream(readRange(path, 0, info.size, false), path, scan);
    default:
      if (info.size === 0) throw new InputError('empty file');
      throw new InputError(`not a conda artifact: starts with ${first.subarray(0, 4).toString('hex') || 'nothing'} (expected a zip for .conda, "BZh" for .tar.bz2, or a .pyc)`);
  }
}

/** Whole files from a .tar.bz2, stopping as soon as all are found. */
async function readTarBz2Files(path: string, wanted: ReadonlySet<string>, limit: number): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const codec = bzip2();
  const { size } = await stat(path);
  const { decodeFile } = codec;
  await walkTarball(
    decodeFile ? (sink) => decodeFile(path, sink) : (sink) => codec.decode(readRange(path, 0, size, codec.consumesSynchronously), sink),
    (p, sz) => (wanted.has(p) && sz <= limit ? sz : 0),
    (p, _sz, kept) => found.set(p, kept),
    undefined,
    () => found.size === wanted.size,
  );
  return found;
}

const COMPARED = new Set(['info/index.json', 'info/paths.json']);
const COMPARE_LIMIT = 64 << 20;

interface PathsJson {
  paths?: { _path?: string; sha256?: string; size_in_bytes?: number }[];
}

function pathDigests(bytes: Buffer | undefined): Map<string, string> | null {
  if (!bytes) return null;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as PathsJson;
    return new Map((doc.paths ?? []).map((p) => [String(p._path), `${p.sha256 ?? ''}:${p.size_in_bytes ?? ''}`]));
  } catch {
    return null;
  }
}

/**
 * What to say of an extracted folder and the archive of the same name beside it: that they agree,
 * or how they differ (a package re-downloaded over an old extraction, a folder edited in place).
 */
export async function compareWithArchive(folder: ArtifactEntries, folderPath: string, archive: string): Promise<string> {
  const name = basename(archive);
  let theirs: Map<string, Buffer>;
  try {
    theirs = archive.endsWith('.conda') ? await readCondaInfoFiles(archive, COMPARED, COMPARE_LIMIT) : await readTarBz2Files(archive, COMPARED, COMPARE_LIMIT);
  } catch (err) {
    return `read the extracted folder; ${name} beside it could not be read to compare: ${(err as Error).message}`;
  }
  const ours = await readFile(join(folderPath, 'info', 'paths.json')).catch(() => undefined);
  const a = pathDigests(ours);
  const b = pathDigests(theirs.get('info/paths.json'));
  const differences: string[] = [];
  if (folder.metadata.get('info/index.json')?.toString() !== theirs.get('info/index.json')?.toString()) differences.push('info/index.json differs');
  if (a && b) {
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
    if (changed.length) differences.push(`${changed.length} file${changed.length === 1 ? '' : 's'} differ${changed.length === 1 ? 's' : ''} (${changed.slice(0, 2).join(', ')}${changed.length > 2 ? ', …' : ''})`);
  } else if (!a !== !b) {
    differences.push('only one of them has info/paths.json');
  }
  return differences.length
    ? `read the extracted folder, which DISAGREES with ${name} beside it: ${differences.join('; ')}`
    : `read the extracted folder; ${name} beside it agrees (info/paths.json)`;
}

/** Reads one target: an artifact file, or a folder. */
export async function readTarget(target: Target, options: ReadOptions = {}): Promise<ArtifactEntries> {
  const scan = scanOptions(options);
  if (target.kind === 'file') return readArtifact(target.path, options);
  if (target.kind === 'stdin') return (await import('./stream.js')).readStream(process.stdin as AsyncIterable<Buffer>, '-', scan);
  if (target.kind === 'url') return (await import('./http.js')).readUrl(target.path, { timeoutSeconds: options.timeoutSeconds ?? 30, scan });
  const entries = await (await import('./folder.js')).readFolder(target.path, target.kind);
  if (target.pairedArchive) entries.notes = [await compareWithArchive(entries, target.path, target.pairedArchive)];
  return entries;
}
