// A .conda's info component read the short way, for the comparison of an archive with the folder
// extracted from it (cache-compare.ts), which needs only info/index.json and info/paths.json.
//
// A .conda is a zip of stored members that ends with its central directory, and its
// info-*.tar.zst is small and usually last. So one read of the end of the file finds the
// directory and, most often, the component's bytes too; the component is decoded synchronously on
// this thread (node:zlib's zstdDecompressSync, in one piece; or the bounded pure-JavaScript
// decoder where that is this process's zstd decoder anyway) and walked for the
// metadata files like any tar, up to the tar's end. No stream, no round trip through libuv's
// thread pool: a package cache holds hundreds of archives.
//
// Only the layout .conda writers make is read this way: no zip64, no comment, plain member names
// (metadata.json and the components), one stored info component, data that does not overlap, a
// component and its decoded bytes within SHORT_WAY_BYTES. For anything else, and on any error,
// this returns null and the caller reads the archive the general way (readArtifact), which reads
// every layout it can and says what is wrong with one it cannot.
import { closeSync, readSync } from 'node:fs';
import { openRegularSync } from '../access/regular-file.js';
import { zstd } from '../codecs/codecs.js';
import { isComponent, isInfoComponent } from './conda-zip.js';
import { boundedFzstd } from '../codecs/fzstd-bounded.js';
import { byteBudget, MemberCollector, scanTarball } from './tar-members.js';
import { emptyEntries } from '../types.js';
import { checkZstdFrames } from '../codecs/zstd-frames.js';
import { decodeSmallZstd, SmallZstdFailed } from '../codecs/zlib-decoders.js';

/** The most bytes a component may have, compressed and decoded, to be read the short way. */
export const SHORT_WAY_BYTES = 8 << 20;
/** The end of the file read first: the central directory of a .conda is a few hundred bytes. */
export const TAIL_BYTES = 64 << 10;

export const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
/** metadata.json and the component names conda writes: no folder, nothing outside ASCII. */
const PLAIN_NAME = /^[\w.+!-]{1,255}$/;

/** Why the short way is not taken: the general way reads the archive instead. */
export class NotShortWay extends Error {}

export function need(ok: boolean): void {
  if (!ok) throw new NotShortWay();
}

/** Exactly `length` bytes at `start`. */
export function readAt(fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, start + done);
    need(n > 0);
    done += n;
  }
  return buf;
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

/** The members of the central directory, and where it starts, from `tail` (the file's last bytes, which hold it). */
export function centralDirectory(tail: Buffer, tailStart: number, size: number): { entries: ZipEntry[]; cdOffset: number } {
  const end = tail.length - 22;
  need(end >= 0 && tail.readUInt32LE(end) === END);
  const count = tail.readUInt16LE(end + 10);
  const cdSize = tail.readUInt32LE(end + 12);
  const cdOffset = tail.readUInt32LE(end + 16);
  // One disk, no comment, no zip64 record: the directory ends where the end record starts.
  need(tail.readUInt16LE(end + 4) === 0 && tail.readUInt16LE(end + 6) === 0 && tail.readUInt16LE(end + 8) === count && tail.readUInt16LE(end + 20) === 0);
  need(count !== 0xffff && cdOffset + cdSize === size - 22 && cdOffset >= tailStart);
  const entries: ZipEntry[] = [];
  let at = cdOffset - tailStart;
  for (let i = 0; i < count; i++) {
    need(at + 46 <= end && tail.readUInt32LE(at) === CENTRAL);
    const nameLen = tail.readUInt16LE(at + 28);
    const next = at + 46 + nameLen + tail.readUInt16LE(at + 30) + tail.readUInt16LE(at + 32);
    need(next <= end && tail.readUInt16LE(at + 34) === 0);
    const name = tail.toString('latin1', at + 46, at + 46 + nameLen);
    need(PLAIN_NAME.test(name));
    const entry = { name, flags: tail.readUInt16LE(at + 8), method: tail.readUInt16LE(at + 10), compressedSize: tail.readUInt32LE(at + 20), uncompressedSize: tail.readUInt32LE(at + 24), localOffset: tail.readUInt32LE(at + 42) };
    need(entry.compressedSize !== 0xffffffff && entry.uncompressedSize !== 0xffffffff && entry.localOffset !== 0xffffffff);
    entries.push(entry);
    at = next;
  }
  need(at === end);
  // Members whose data overlap (or run into the directory) are for the general way to refuse.
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  byOffset.forEach((e, i) => need(e.localOffset + 30 + e.compressedSize <= (byOffset[i + 1]?.localOffset ?? cdOffset)));
  need(byOffset[0]?.localOffset === 0);
  return { entries, cdOffset };
}

/** A .conda's last bytes as read: where they start, and where its central directory starts. */
export interface ZipTail {
  fd: number;
  tail: Buffer;
  tailStart: number;
  cdOffset: number;
}

/** `length` bytes at `start`: from the tail when they are in it, else read from the file. */
export function sliceAt(z: ZipTail, start: number, length: number): Buffer {
  return start >= z.tailStart ? z.tail.subarray(start - z.tailStart, start - z.tailStart + length) : readAt(z.fd, start, length);
}

/** A stored member's bytes, found from its local header; NotShortWay unless they end before the directory. */
export function storedData(z: ZipTail, entry: ZipEntry): Buffer {
  const local = sliceAt(z, entry.localOffset, 30);
  need(local.length === 30 && local.readUInt32LE(0) === LOCAL);
  const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  need(start + entry.compressedSize <= z.cdOffset);
  return sliceAt(z, start, entry.compressedSize);
}

/** The compressed bytes of the one stored info component of a .conda, or NotShortWay. */
function infoComponent(fd: number, size: number): Buffer {
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = readAt(fd, tailStart, size - tailStart);
  const { entries, cdOffset } = centralDirectory(tail, tailStart, size);
  const info = entries.filter((e) => isInfoComponent(e.name));
  // metadata.json, the info component and the pkg component(s): a package, nothing else.
  need(info.length === 1 && entries.some((e) => isComponent(e.name) && !isInfoComponent(e.name)));
  need(entries.every((e) => isComponent(e.name) || e.name === 'metadata.json'));
  const { method, flags, compressedSize } = info[0]!;
  need(method === 0 && !(flags & 1) && compressedSize <= SHORT_WAY_BYTES);
  const z = { fd, tail, tailStart, cdOffset };
  // A zip from its first bytes, as the general way sniffs the format.
  need(sliceAt(z, 0, 4).readUInt32LE(0) === LOCAL);
  return storedData(z, info[0]!);
}

/**
 * How this process decodes zstd in its own thread, if it does (codecs.ts chooses, once): node:zlib
 * (here synchronously), or the pure-JavaScript decoder. Where zstd is a program, the
 * general way runs it: a program per archive is slow to start, but it runs on another core while
 * this thread walks folders, which decoding here in JavaScript would hold up.
 */
function inProcessDecoder(): 'zlib' | 'js' | null {
  let codec;
  try {
    codec = zstd();
  } catch {
    return null; // a decoder forced that this machine lacks: the general way says so
  }
  if (codec.name === 'fzstd (JavaScript)') return 'js';
  return codec.name === 'node:zlib' ? 'zlib' : null;
}

/** Decodes a zstd component into `sink`, in this thread; NotShortWay past SHORT_WAY_BYTES. */
async function decode(how: 'zlib' | 'js', compressed: Buffer, sink: (chunk: Buffer) => void): Promise<void> {
  if (how === 'zlib') {
    try {
      decodeSmallZstd(compressed, SHORT_WAY_BYTES, sink);
    } catch (err) {
      if (!(err instanceof SmallZstdFailed)) throw err; // the walk's own
      throw new NotShortWay(); // too large, or corrupt: the general way says which
    }
    return;
  }
  checkZstdFrames(compressed); // judged to its end, as the zstd program judges it (zstd-frames.ts)
  let produced = 0;
  await boundedFzstd(
    (async function* () {
      yield compressed;
    })(),
    (chunk) => {
      produced += chunk.length;
      need(produced <= SHORT_WAY_BYTES);
      sink(chunk);
    },
  );
}

/**
 * info/index.json and info/paths.json (those present) of the .conda at `path`, read the short way;
 * null when it is not a .conda of the plain layout, or anything fails: read it the general way.
 */
export async function readCondaInfo(path: string, maxBytes?: number | null): Promise<Map<string, Buffer> | null> {
  const how = inProcessDecoder();
  if (!how) return null;
  let compressed: Buffer;
  try {
    const { fd, stats } = openRegularSync(path, { follow: true });
    try {
      compressed = infoComponent(fd, stats.size);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const entries = emptyEntries('conda');
  try {
    // As the general way walks it: the whole component, every member through the same keep policy.
    await scanTarball((sink) => decode(how, compressed, sink), new MemberCollector(entries), { budget: byteBudget(maxBytes) });
  } catch {
    return null;
  }
  return entries.metadata;
}
