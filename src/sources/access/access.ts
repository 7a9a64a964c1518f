// Access paths: where an artifact's bytes come from, and nothing about what they mean. A file
// (and an HTTP server that honours Range) gives random access; stdin (and a server that does not)
// gives one pass, front to back. The format readers (zip-archive.ts, tarball.ts) take either.
import type { FileHandle } from 'node:fs/promises';
import { readRange } from './file-range.js';
import { InputError } from '../types.js';

/** Bytes that can be read in any order. */
export interface RandomAccess {
  readonly size: number;
  /** The bytes of [start, end) as chunks; with `reuse` a chunk is valid only until the next (see readRange). */
  range(start: number, end: number, reuse: boolean): AsyncIterable<Buffer>;
  /** A file's path, for messages. */
  readonly path?: string;
  /**
   * A file this process opened by path and checked to be a regular file, read only at explicit
   * positions (its offset stays 0): a decoder program may read the whole file through its
   * descriptor, never by opening the path again (which could name something else by then).
   */
  readonly opened?: FileHandle;
}

/** An artifact's bytes, with its first bytes (for sniffing the format) and a name for messages. */
export type ArtifactBytes =
  | { mode: 'random'; name: string; first: Buffer; access: RandomAccess }
  | { mode: 'stream'; name: string; first: Buffer; stream: AsyncIterable<Buffer>; close: () => Promise<void> };

/** Bytes to sniff a format by. */
export const SNIFF_BYTES = 512;

/** The first bytes of an open file (at most SNIFF_BYTES), to sniff its format by. */
export async function readFirst(handle: FileHandle, size: number): Promise<Buffer> {
  const first = Buffer.alloc(Math.min(SNIFF_BYTES, size));
  const { bytesRead } = await handle.read(first, 0, first.length, 0);
  return first.subarray(0, bytesRead);
}

/** An open regular file as random access (the caller closes the handle); `path` when this process opened it by path. */
export function fileAccess(handle: FileHandle, size: number, path?: string): RandomAccess {
  return { size, path, ...(path !== undefined ? { opened: handle } : {}), range: (start, end, reuse) => readRange(handle, start, Math.min(end, size), reuse) };
}

/** Exactly the bytes [start, end) of `access` as one buffer (a short read is an error). */
export async function readExactly(access: RandomAccess, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of access.range(start, end, false)) {
    chunks.push(chunk);
    length += chunk.length;
  }
  if (length !== end - start) throw new InputError(`truncated: ${length} of ${end - start} bytes at offset ${start}`);
  return Buffer.concat(chunks, length);
}

/**
 * The first `n` bytes of a stream, the whole stream again (those bytes included), and a close
 * that ends the source (a download included) whether or not the stream was read.
 */
export async function peek(input: AsyncIterable<Buffer>, n: number): Promise<{ first: Buffer; stream: AsyncIterable<Buffer>; close: () => Promise<void> }> {
  const iter = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n) {
    const next = await iter.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    length += next.value.length;
  }
  const first = Buffer.concat(head);
  const close = async () => {
    if (ended) return;
    ended = true;
    await iter.return?.();
  };
  async function* again() {
    try {
      if (first.length) yield first;
      while (!ended) {
        const next = await iter.next();
        if (next.done) {
          ended = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // Closed early (a reader that has what it needs): close the source too, a download included.
      await close();
    }
  }
  return { first: first.subarray(0, n), stream: again(), close };
}

/** A stream as artifact bytes: its first bytes peeked for the sniff. */
export async function streamBytes(input: AsyncIterable<Buffer>, name: string): Promise<ArtifactBytes> {
  const { first, stream, close } = await peek(input, SNIFF_BYTES);
  return { mode: 'stream', name, first, stream, close };
}
