// A .conda artifact: a zip (stored, not deflated) holding metadata.json, info-*.tar.zst and
// pkg-*.tar.zst. Each inner tarball is streamed from the zip through zstd into the tar scanner.
import type { Readable } from 'node:stream';
import { readRange } from './file-range.js';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { zstd } from './codecs.js';
import { isPycPath, MemberCollector, scanTarball, SourceHashes, walkTarball, type ByteBudget, type ScanOptions } from './tar-members.js';
import { HEADER_BYTES } from '../header.js';
import { emptyEntries, InputError, type ArtifactEntries } from './types.js';

const COMPONENT = /^(info|pkg)-.+\.tar\.zst$/;
const WHEEL_MARKER = /^[^/]+\.dist-info\/WHEEL$/;

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(new InputError(`not a readable zip: ${err?.message ?? 'no archive'}`));
      else resolve(zip);
    });
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(new InputError(`cannot read ${entry.fileName}: ${err?.message ?? 'no stream'}`, entry.fileName));
      else resolve(stream);
    });
  });
}

/**
 * A component's bytes. conda stores them uncompressed in the zip, so they are read straight from
 * the file in large reads that run ahead of the decoder (yauzl's own stream reads 16 KiB at a time
 * and leaves the decoder idle half the time). Anything else goes through yauzl.
 */
async function openComponent(path: string, zip: ZipFile, entry: Entry, reuse: boolean): Promise<AsyncIterable<Buffer>> {
  if (entry.compressionMethod !== 0) return (await openEntry(zip, entry)) as AsyncIterable<Buffer>;
  const header = await new Promise<{ fileDataStart: number }>((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, h) => {
      if (err || !h) reject(new InputError(`${entry.fileName}: ${err?.message ?? 'no local header'}`, entry.fileName));
      else resolve(h as { fileDataStart: number });
    });
  });
  return readRange(path, header.fileDataStart, header.fileDataStart + entry.compressedSize, reuse);
}

/** Lists the zip's entries (central directory only, nothing decompressed). */
function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(new InputError(`corrupt zip: ${err.message}`)));
    zip.readEntry();
  });
}

/** Opens a component's (compressed) bytes: from the file directly, or through yauzl. */
export type ComponentOpener = (zip: ZipFile, entry: Entry, reuse: boolean) => Promise<AsyncIterable<Buffer>>;

export const throughYauzl: ComponentOpener = async (zip, entry) => (await openEntry(zip, entry)) as AsyncIterable<Buffer>;

export async function readConda(path: string, scan: ScanOptions = {}): Promise<ArtifactEntries> {
  const zip = await openZip(path);
  try {
    return await readZip(zip, path, (z, e, reuse) => openComponent(path, z, e, reuse), scan);
  } finally {
    zip.close();
  }
}

/** A zip already open: a .conda (its tarballs streamed through zstd), a wheel, or a zip of .pyc. */
export async function readZip(zip: ZipFile, name: string, component: ComponentOpener, scan: ScanOptions = {}): Promise<ArtifactEntries> {
  const entries = await listEntries(zip);
  const components = entries.filter((e) => COMPONENT.test(e.fileName));
  // A wheel, or any other zip of .pyc (not one named .conda, which must be a conda package).
  const wheel = entries.some((e) => WHEEL_MARKER.test(e.fileName));
  if (!components.length && (wheel || !name.endsWith('.conda'))) return readZipMembers(zip, entries, wheel ? 'whl' : 'zip', scan);
  if (!components.some((e) => e.fileName.startsWith('pkg-'))) {
    const names = entries.slice(0, 3).map((e) => e.fileName).join(', ');
    throw new InputError(`not a conda package: the zip has no pkg-*.tar.zst (it holds ${entries.length} entries${names ? `: ${names}${entries.length > 3 ? ', …' : ''}` : ''})`);
  }
  const result = emptyEntries('conda');
  const collector = new MemberCollector(result, scan.hashOnly);
  // info first: it is small and says which Python the package targets.
  components.sort((a, b) => (a.fileName.startsWith('info-') ? 0 : 1) - (b.fileName.startsWith('info-') ? 0 : 1));
  const codec = zstd();
  for (const entry of components) {
    try {
      const input = await component(zip, entry, codec.consumesSynchronously);
      await scanTarball((sink) => codec.decode(input, sink), collector, scan);
      if (collector.complete) break;
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`${entry.fileName}: ${(err as Error).message}`, entry.fileName);
    }
  }
  return result;
}

/** The first `n` bytes of a zip entry (deflated or stored), then the stream is dropped. */
async function readEntryHead(zip: ZipFile, entry: Entry, n: number): Promise<Buffer> {
  const stream = await openEntry(zip, entry);
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk.subarray(0, n - kept));
      kept += Math.min(chunk.length, n - kept);
      if (kept >= n) break;
    }
  } catch (err) {
    throw new InputError(`${entry.fileName}: ${(err as Error).message}`, entry.fileName);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** A whole zip entry through an observer, nothing kept. */
async function observeEntry(zip: ZipFile, entry: Entry, observer: SourceHashes): Promise<void> {
  const stream = await openEntry(zip, entry);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) observer.update(chunk);
  } catch (err) {
    throw new InputError(`${entry.fileName}: ${(err as Error).message}`, entry.fileName);
  }
}

/**
 * A wheel or a plain zip: its .pyc members are zip entries themselves. A zip records local time
 * without a zone, so the times of its .py are not compared (their sizes are). Sources of
 * checked-hash .pyc are hashed after the .pyc heads are read: a zip can be read in any order.
 */
async function readZipMembers(zip: ZipFile, entries: Entry[], kind: 'whl' | 'zip', scan: ScanOptions): Promise<ArtifactEntries> {
  const result = emptyEntries(kind);
  const collector = new MemberCollector(result, scan.hashOnly);
  const files = entries.filter((e) => !e.fileName.endsWith('/'));
  if (!scan.hashOnly) {
    for (const entry of files) {
      const path = entry.fileName;
      if (isPycPath(path)) collector.addPyc(path, entry.uncompressedSize, await readEntryHead(zip, entry, HEADER_BYTES));
      else if (path.endsWith('.pyo')) result.pyo.push(path);
    }
  }
  const toHash = collector.sourcesToHash();
  for (const entry of files) {
    const path = entry.fileName;
    if (!path.endsWith('.py')) continue;
    const magics = toHash.get(path);
    let hashes;
    if (magics) {
      const observer = new SourceHashes(magics);
      await observeEntry(zip, entry, observer);
      hashes = observer.digests();
    }
    if (hashes || !scan.hashOnly) collector.addSource({ path, size: entry.uncompressedSize, mtime: null, ...(hashes ? { hashes } : {}) });
  }
  return result;
}

/** Whole files from the info/ tarball of a .conda (for comparing it with an extracted folder). */
export async function readCondaInfoFiles(path: string, wanted: ReadonlySet<string>, limit: number, budget?: ByteBudget): Promise<Map<string, Buffer>> {
  const zip = await openZip(path);
  const found = new Map<string, Buffer>();
  try {
    const info = (await listEntries(zip)).find((e) => /^info-.+\.tar\.zst$/.test(e.fileName));
    if (!info) throw new InputError('not a conda package: no info-*.tar.zst');
    const codec = zstd();
    const input = await openComponent(path, zip, info, codec.consumesSynchronously);
    await walkTarball(
      (sink) => codec.decode(input, sink),
      (p, size) => (wanted.has(p) && size <= limit ? size : 0),
      (p, _size, kept) => found.set(p, kept),
      budget,
      () => found.size === wanted.size,
    );
    return found;
  } finally {
    zip.close();
  }
}
