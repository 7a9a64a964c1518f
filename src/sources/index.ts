// Opens one input path and streams it into ArtifactEntries, choosing the reader by content.
// Readers other than .conda and .tar.bz2 (streams, URLs, folders) load when first needed: a
// reader thread imports this module, and its start-up time is paid before it decodes anything.
import { readRange } from './file-range.js';
import { open, stat } from 'node:fs/promises';
import { readConda } from './conda.js';
import type { Target } from './targets.js';
import { bzip2 } from './codecs.js';
import { MemberCollector, scanTarball, type HashRequest, type ScanOptions } from './tar-members.js';
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
  /** Package caches: hash every file of an extracted folder against the archive's paths.json (--hash-extracted). */
  hashExtracted?: boolean;
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

/** Reads one target: an artifact file, or a folder. */
export async function readTarget(target: Target, options: ReadOptions = {}): Promise<ArtifactEntries> {
  const scan = scanOptions(options);
  if (target.kind === 'file') return readArtifact(target.path, options);
  if (target.kind === 'stdin') return (await import('./stream.js')).readStream(process.stdin as AsyncIterable<Buffer>, '-', scan);
  if (target.kind === 'url') return (await import('./http.js')).readUrl(target.path, { timeoutSeconds: options.timeoutSeconds ?? 30, scan });
  const folders = await import('./folder.js');
  const local = { maxBytes: options.maxBytes, hashOnly: options.hashOnly, part: target.part };
  if (target.kind === 'pyc') return folders.readLoosePyc(target.path, local);
  const entries = folders.readFolder(target.path, target.kind, local);
  if (target.pairedArchives && !options.hashOnly) {
    entries.notes = await (await import('./cache-compare.js')).compareWithArchives(entries, target.path, target.pairedArchives, options);
  }
  return entries;
}
