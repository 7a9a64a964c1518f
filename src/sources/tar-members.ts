// Decompresses a tarball and keeps only what an audit needs: the first 16 bytes of every .pyc
// member and the whole of a few small metadata files. Every other body is skipped as it streams.
import { HEADER_BYTES } from '../header.js';
import { TarWalker } from './tar-walker.js';
import type { ArtifactEntries } from './types.js';

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

/** Runs `decode` (a decoder already given its input) into a tar walker, adding what it keeps to `into`. */
export async function scanTarball(decode: (sink: (chunk: Buffer) => void) => Promise<void>, into: ArtifactEntries): Promise<void> {
  const walker = new TarWalker(keepForAudit, (path, size, kept) => {
    if (isPycPath(path)) into.pyc.push({ path, size, head: kept });
    else into.metadata.set(path, kept);
  });
  await decode((chunk) => walker.write(chunk));
  walker.end();
}
