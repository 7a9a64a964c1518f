// Reading a report back line by line (--resume, merge): only a regular file (a FIFO or a device
// is refused, never waited on), read in chunks, every line bounded, so neither a huge file nor a
// file with no line breaks (a binary) is ever held whole.
import { openRegular } from '../sources/access/regular-file.js';

/** Longest line a report may have: one artifact's JSON (a tree of 100,000 .pyc is ~40 MiB). */
export const MAX_LINE = 256 << 20;
const CHUNK = 1 << 20;

export interface Line {
  /** 1-based. */
  number: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Without its line break. */
  text: Buffer;
  /** false for a last line with no line break (a run cut off while writing it). */
  complete: boolean;
}

export class LineTooLong extends Error {
  constructor(readonly number: number) {
    super(`line ${number} is longer than ${MAX_LINE >> 20} MiB`);
  }
}

/** The lines of a regular file (`follow`: the user named the path, so a link is followed). */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const { handle } = await openRegular(path, { follow: true });
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let parts: Buffer[] = [];
    let partLength = 0;
    let start = 0;
    let position = 0;
    let number = 1;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let at = 0;
      while (at < bytesRead) {
        const end = chunk.indexOf(0x0a, at);
        const stop = end === -1 || end >= bytesRead ? bytesRead : end;
        if (partLength + stop - at > MAX_LINE) throw new LineTooLong(number);
        parts.push(Buffer.from(chunk.subarray(at, stop)));
        partLength += stop - at;
        if (stop === bytesRead) break;
        yield { number, start, text: parts.length === 1 ? parts[0]! : Buffer.concat(parts), complete: true };
        number++;
        start += partLength + 1;
        parts = [];
        partLength = 0;
        at = stop + 1;
      }
    }
    if (partLength) yield { number, start, text: Buffer.concat(parts), complete: false };
  } finally {
    await handle.close().catch(() => {});
  }
}
