// Decompresses a tarball and keeps only what an audit needs: the first 16 bytes of every .pyc
// member and the whole of a few small metadata files. Every other body is skipped as it streams.
import { HEADER_BYTES } from '../header.js';
import { TarWalker, type KeepPolicy, type MemberSink } from './tar-walker.js';
import { InputError, type ArtifactEntries } from './types.js';

/** Metadata files read whole; anything larger is a broken package, not metadata. */
const METADATA_LIMIT = 4 << 20;
const METADATA = new Set(['info/index.json']);

export function isPycPath(path: string): boolean {
  return path.endsWith('.pyc');
}

export function keepForAudit(path: string, size: number): number {
  if (isPycPath(path)) return HEADER_BYTES;
  if (METADATA.has(path) && size <= METADATA_LIMIT) return size;
  return 0;
}

/** A cap on the decompressed bytes read from one artifact (--max-bytes), shared by its tarballs. */
export interface ByteBudget {
  limit: number;
  used: number;
}

/** Thrown through a decoder to stop it: the archive is complete. */
const END_OF_ARCHIVE = new Error('end of archive');

/**
 * Runs `decode` (a decoder already given its input) through a tar walker that keeps what `keep`
 * asks for and hands it to `onMember`. Decoding stops at the tar's end-of-archive blocks
 * (whatever follows, a bomb's gigabytes of zeros, is never decompressed), or as soon as `done()`.
 */
export async function walkTarball(
  decode: (sink: (chunk: Buffer) => void) => Promise<void>,
  keep: KeepPolicy,
  onMember: MemberSink,
  budget?: ByteBudget,
  done: () => boolean = () => false,
): Promise<void> {
  const walker = new TarWalker(keep, onMember);
  let stopped = false;
  try {
    await decode((chunk) => {
      if (budget) {
        budget.used += chunk.length;
        if (budget.used > budget.limit) {
          throw new InputError(`--max-bytes reached: stopped after ${budget.limit} bytes of decompressed tar, not all of the artifact was audited`);
        }
      }
      walker.write(chunk);
      if (walker.finished || done()) throw END_OF_ARCHIVE;
    });
  } catch (err) {
    if (err !== END_OF_ARCHIVE) throw err;
    stopped = !walker.finished;
  }
  if (!stopped) walker.end();
}

/** The audit's walk: 16 bytes of each .pyc and info/index.json, added to `into`. */
export function scanTarball(decode: (sink: (chunk: Buffer) => void) => Promise<void>, into: ArtifactEntries, budget?: ByteBudget): Promise<void> {
  return walkTarball(decode, keepForAudit, (path, size, kept) => {
    if (isPycPath(path)) into.pyc.push({ path, size, head: kept });
    else into.metadata.set(path, kept);
  }, budget);
}
