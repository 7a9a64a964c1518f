// The zip container, read either way an access path allows: with random access through its
// central directory (yauzl), or front to back by its local headers (zip-stream.ts). Both hand
// every member, in the same order, to the same two format readers: a .conda's components to
// conda-zip.ts, every other member to wheel-zip.ts. Which kind of zip it is follows from the
// members, never from the file name.
import { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { ArtifactBytes, RandomAccess } from '../access/access.js';
import { checkPackage, componentInputReusable, isComponent, isInfoComponent, readComponent } from './conda-zip.js';
import { MemberCollector, type ScanOptions } from './tar-members.js';
import { MAX_NAME_BYTES } from './tar-walker.js';
import { emptyEntries, InputError, type ArtifactEntries } from '../types.js';
import { isWheelMarker, readZipMember } from './wheel-zip.js';
import { readZipStream } from './zip-stream.js';

/** A member as both ways of reading describe it. */
interface Member {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  uncompressedSize: number;
  /** The bytes of a stored member (method 0) as they are in the zip. */
  raw: (reuse: boolean) => Promise<AsyncIterable<Buffer>>;
  /** Its uncompressed bytes. */
  body: () => Promise<AsyncIterable<Buffer>>;
}

function checkName(name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_NAME_BYTES) throw new InputError(`corrupt zip: a member name of ${bytes} bytes (the limit is ${MAX_NAME_BYTES}, PATH_MAX)`);
}

/** What the members seen so far say about the zip. */
class ZipReading {
  readonly entries: ArtifactEntries = emptyEntries('zip');
  readonly collector: MemberCollector;
  count = 0;
  readonly names: string[] = [];
  components = 0;
  pkg = false;
  wheel = false;

  constructor(
    readonly name: string,
    readonly scan: ScanOptions,
  ) {
    this.collector = new MemberCollector(this.entries, scan.hashOnly);
  }

  /** Records a member's name (every member, read or not). */
  saw(name: string): void {
    checkName(name);
    this.count++;
    if (this.names.length < 3) this.names.push(name);
    if (isComponent(name)) {
      this.components++;
      if (!isInfoComponent(name)) this.pkg = true;
    } else if (isWheelMarker(name)) {
      this.wheel = true;
    }
  }

  async read(member: Member): Promise<void> {
    if (this.collector.complete) return;
    if (isComponent(member.name)) {
      if (this.scan.metadataOnly && !isInfoComponent(member.name)) return;
      const input = member.method === 0 ? await member.raw(componentInputReusable()) : await member.body();
      await readComponent(member.name, input, this.collector, this.scan);
    } else {
      await readZipMember(member.name, member.uncompressedSize, member.body, this.collector, this.scan);
    }
  }

  finish(): ArtifactEntries {
    checkPackage(this.name, this.components, this.pkg, this.count, this.names);
    this.entries.kind = this.components ? 'conda' : this.wheel ? 'whl' : 'zip';
    return this.entries;
  }
}

/** Reads a zip artifact (a .conda, a wheel, a zip of .pyc) from either kind of access. */
export async function readZipArchive(bytes: ArtifactBytes, scan: ScanOptions): Promise<ArtifactEntries> {
  const reading = new ZipReading(bytes.name, scan);
  if (bytes.mode === 'random') await readRandom(bytes.access, reading);
  else await readFrontToBack(bytes.stream, reading);
  return reading.finish();
}

// ---- random access: the central directory first ------------------------------------------------

/** yauzl's reads as reads of the access path (a file, or HTTP range requests). */
function accessReader(access: RandomAccess): yauzl.RandomAccessReader {
  const reader = new (yauzl.RandomAccessReader as unknown as new () => yauzl.RandomAccessReader)();
  (reader as unknown as { _readStreamForRange: (start: number, end: number) => Readable })._readStreamForRange = (start, end) =>
    Readable.from(access.range(start, end, false), { objectMode: false });
  return reader;
}

function openZip(access: RandomAccess): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    // Sizes are checked by the member readers, alike for both ways of reading (wheel-zip.ts).
    const options = { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: false };
    yauzl.fromRandomAccessReader(accessReader(access), access.size, options, (err, zip) => {
      if (err || !zip) reject(new InputError(`not a readable zip: ${err?.message ?? 'no archive'}`));
      else resolve(zip);
    });
  });
}

/** The central directory's entries (nothing decompressed). */
function listEntries(zip: ZipFile, reading: ZipReading): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      try {
        reading.saw(entry.fileName);
      } catch (err) {
        reject(err);
        return;
      }
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(err instanceof InputError ? err : new InputError(`corrupt zip: ${err.message}`)));
    zip.readEntry();
  });
}

/**
 * Entries whose data overlap: a zip that lists one huge member many times would make the tool
 * decompress it once per listing. Each local header is at least 30 bytes before its data.
 */
function checkNoOverlap(entries: readonly Entry[]): void {
  const byOffset = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (let i = 1; i < byOffset.length; i++) {
    const a = byOffset[i - 1]!;
    const b = byOffset[i]!;
    if (a.relativeOffsetOfLocalHeader + 30 + a.compressedSize > b.relativeOffsetOfLocalHeader) {
      throw new InputError(`corrupt zip: the entries ${a.fileName} and ${b.fileName} overlap`);
    }
  }
}

function entryStream(zip: ZipFile, entry: Entry): Promise<AsyncIterable<Buffer>> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(new InputError(`${entry.fileName}: ${err?.message ?? 'no stream'}`, entry.fileName));
      else resolve(stream as AsyncIterable<Buffer>);
    });
  });
}

/** A stored member's bytes straight from the access path, in large reads. */
async function storedData(zip: ZipFile, entry: Entry, access: RandomAccess, reuse: boolean): Promise<AsyncIterable<Buffer>> {
  const header = await new Promise<{ fileDataStart: number }>((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, h) => {
      if (err || !h) reject(new InputError(`${entry.fileName}: ${err?.message ?? 'no local header'}`, entry.fileName));
      else resolve(h as { fileDataStart: number });
    });
  });
  const end = header.fileDataStart + entry.compressedSize;
  if (end > access.size) throw new InputError(`${entry.fileName}: file data overflows file bounds: ${header.fileDataStart} + ${entry.compressedSize} > ${access.size}`, entry.fileName);
  return access.range(header.fileDataStart, end, reuse);
}

async function readRandom(access: RandomAccess, reading: ZipReading): Promise<void> {
  const zip = await openZip(access);
  try {
    const entries = await listEntries(zip, reading);
    checkNoOverlap(entries);
    // Refuse a zip that is not a whole package before decoding anything of it.
    checkPackage(reading.name, reading.components, reading.pkg, reading.count, reading.names);
    // A .conda's info component first: it is small and says which Python the package targets.
    const order = [...entries.filter((e) => isInfoComponent(e.fileName)), ...entries.filter((e) => !isInfoComponent(e.fileName))];
    for (const entry of order) {
      await reading.read({
        name: entry.fileName,
        method: entry.compressionMethod,
        uncompressedSize: entry.uncompressedSize,
        raw: (reuse) => storedData(zip, entry, access, reuse),
        body: () => entryStream(zip, entry),
      });
    }
  } finally {
    zip.close();
  }
}

// ---- one pass, front to back -------------------------------------------------------------------

/** The uncompressed bytes of a member read from a stream: stored as is, or inflated. */
async function* uncompressed(data: AsyncIterable<Buffer>, method: number, name: string): AsyncGenerator<Buffer> {
  if (method === 0) {
    yield* data;
    return;
  }
  if (method !== 8) throw new InputError(`${name}: unsupported zip compression method ${method}`, name);
  const { createInflateRaw } = await import('node:zlib');
  const inflate = createInflateRaw();
  const source = Readable.from(data, { objectMode: false });
  source.on('error', (err) => inflate.destroy(err));
  source.pipe(inflate);
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name}: corrupt deflate data: ${(err as Error).message}`, name);
  } finally {
    source.unpipe(inflate);
    source.destroy();
    inflate.destroy();
  }
}

async function readFrontToBack(stream: AsyncIterable<Buffer>, reading: ZipReading): Promise<void> {
  await readZipStream(stream, async (member, data) => {
    reading.saw(member.name);
    await reading.read({
      name: member.name,
      method: member.method,
      uncompressedSize: member.uncompressedSize,
      raw: async () => data,
      body: async () => uncompressed(data, member.method, member.name),
    });
  });
}
