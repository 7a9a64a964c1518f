// A .conda of the plain layout, audited without yauzl, streams or the thread pool: most runs on one
// small package are start-up and plumbing, not decoding (docs/performance.md).
//
// The file is opened and read synchronously (checked to be a regular file on the descriptor): its
// end, which holds the zip's central directory (the whole file when it is small), then each stored
// component in one read, each handed to the same component reader as the general way
// (conda-zip.ts: the same zstd decoder and tar walk, the info component first). Only the layout
// conda-info.ts reads the short way qualifies (no zip64, no comment, plain member names, no
// overlapping data), with nothing but metadata.json and components, all stored, each at most
// PLAIN_READ_BYTES. For anything else, and on any error, this returns null and the caller reads the
// artifact the general way (zip-archive.ts), which says what is wrong with it: a bad file costs a
// second read, never another message.
import { closeSync } from 'node:fs';
import { openRegularSync } from '../access/regular-file.js';
import { centralDirectory, LOCAL, need, readAt, storedData, TAIL_BYTES, type ZipEntry } from './conda-info.js';
import { isComponent, isInfoComponent, readComponent } from './conda-zip.js';
import { MemberCollector, type ScanOptions } from './tar-members.js';
import { emptyEntries, type ArtifactEntries } from '../types.js';
import { readZipMember } from './wheel-zip.js';

/**
 * The most compressed bytes of one component read at once (and held while it is decoded): at 4 MiB
 * a run over a package cache's archives peaked 6 MB higher than the general way; at 1 MiB not
 * (docs/performance.md). PYC_AUDIT_PLAIN_READ_BYTES sets another (0: always the general way).
 */
export const PLAIN_READ_BYTES = ((v) => (v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : 1 << 20))(process.env.PYC_AUDIT_PLAIN_READ_BYTES);

/** One member's stored bytes. */
async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** The members in the order the general way reads them: info components first, then the rest as listed. */
function readingOrder(entries: readonly ZipEntry[]): ZipEntry[] {
  return [...entries.filter((e) => isInfoComponent(e.name)), ...entries.filter((e) => !isInfoComponent(e.name))];
}

async function readMembers(fd: number, size: number, scan: ScanOptions): Promise<ArtifactEntries> {
  need(size >= 22 && readAt(fd, 0, 4).readUInt32LE(0) === LOCAL);
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = readAt(fd, tailStart, size - tailStart);
  const { entries, cdOffset } = centralDirectory(tail, tailStart, size);
  need(entries.every((e) => isComponent(e.name) || e.name === 'metadata.json'));
  need(entries.some((e) => isComponent(e.name) && !isInfoComponent(e.name)));
  need(entries.every((e) => e.method === 0 && !(e.flags & 1) && e.compressedSize <= PLAIN_READ_BYTES && (isComponent(e.name) || e.compressedSize === e.uncompressedSize)));
  const z = { fd, tail, tailStart, cdOffset };
  const data = (entry: ZipEntry) => storedData(z, entry);
  const found = emptyEntries('zip');
  const collector = new MemberCollector(found, scan.hashOnly);
  for (const entry of readingOrder(entries)) {
    if (collector.complete) break;
    if (!isComponent(entry.name)) {
      await readZipMember(entry.name, entry.uncompressedSize, async () => once(data(entry)), collector, scan);
    } else if (!scan.metadataOnly || isInfoComponent(entry.name)) {
      await readComponent(entry.name, once(data(entry)), collector, scan);
    }
  }
  found.kind = 'conda';
  return found;
}

/** The entries of the .conda at `path` read the short way, or null: read it the general way. */
export async function readPlainConda(path: string, scan: ScanOptions): Promise<ArtifactEntries | null> {
  if (PLAIN_READ_BYTES === 0) return null;
  let opened;
  try {
    opened = openRegularSync(path, { follow: true });
  } catch {
    return null;
  }
  try {
    return await readMembers(opened.fd, opened.stats.size, scan);
  } catch {
    return null;
  } finally {
    closeSync(opened.fd);
  }
}
