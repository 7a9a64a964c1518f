// Opens one input path and streams it into ArtifactEntries, choosing the reader by content.
import { readRange } from './file-range.js';
import { open, stat } from 'node:fs/promises';
import { readConda } from './conda.js';
import { bzip2 } from './codecs.js';
import { scanTarball, type ByteBudget } from './tar-members.js';
import { HEADER_BYTES } from '../header.js';
import { emptyEntries, InputError, type ArtifactEntries, type ArtifactKind } from './types.js';

/** Which reader fits, from the first bytes (the name only breaks ties for loose .pyc files). */
export function sniffKind(path: string, first: Buffer): ArtifactKind | null {
  if (first.length >= 4 && first.readUInt32LE(0) === 0x04034b50) return 'conda';
  if (first.length >= 3 && first.toString('latin1', 0, 3) === 'BZh') return 'tar.bz2';
  if (path.endsWith('.pyc')) return 'pyc';
  return null;
}

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

async function readTarBz2(path: string, budget?: ByteBudget): Promise<ArtifactEntries> {
  const result = emptyEntries('tar.bz2');
  const codec = bzip2();
  const { size } = await stat(path);
  try {
    const { decodeFile } = codec;
    await scanTarball(
      decodeFile ? (sink) => decodeFile(path, sink) : (sink) => codec.decode(readRange(path, 0, size, codec.consumesSynchronously), sink),
      result,
      budget,
    );
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return result;
}

export interface ReadOptions {
  /** Stop (with an error) after this many decompressed bytes of one artifact: --max-bytes. */
  maxBytes?: number | null;
}

/** Reads one artifact. Throws InputError with a reason a person can act on. */
export async function readArtifact(path: string, options: ReadOptions = {}): Promise<ArtifactEntries> {
  const budget = options.maxBytes ? { limit: options.maxBytes, used: 0 } : undefined;
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
  if (info.isDirectory()) throw new InputError('is a directory, not an artifact (give the .conda, .tar.bz2 or .pyc files in it)');
  if (!info.isFile()) throw new InputError('not a regular file');
  const first = await readFirstBytes(path, HEADER_BYTES);
  const kind = sniffKind(path, first);
  switch (kind) {
    case 'conda':
      return readConda(path, budget);
    case 'tar.bz2':
      return readTarBz2(path, budget);
    case 'pyc': {
      const entries = emptyEntries('pyc');
      entries.pyc.push({ path, size: info.size, head: first });
      return entries;
    }
    default:
      if (info.size === 0) throw new InputError('empty file');
      throw new InputError(`not a conda artifact: starts with ${first.subarray(0, 4).toString('hex') || 'nothing'} (expected a zip for .conda, "BZh" for .tar.bz2, or a .pyc)`);
  }
}
