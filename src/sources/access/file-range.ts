// Reads a byte range of an open file in large chunks, one read always running ahead of the consumer.
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 512 << 10;

/**
 * Yields the bytes of [start, end) of the file open as `handle` (which stays open). With `reuse`,
 * two buffers alternate and a chunk is valid only until the next one is requested (for consumers
 * that finish with each chunk first); otherwise every chunk is a fresh buffer.
 */
export async function* readRange(handle: FileHandle, start: number, end: number, reuse: boolean): AsyncGenerator<Buffer> {
  const buffers = reuse ? [spare.pop() ?? Buffer.allocUnsafe(CHUNK), spare.pop() ?? Buffer.allocUnsafe(CHUNK)] : null;
  let turn = 0;
  let pos = start;
  const next = () => {
    if (pos >= end) return null;
    const len = Math.min(CHUNK, end - pos);
    const buf = buffers ? buffers[turn++ % 2]! : Buffer.allocUnsafe(len);
    const at = pos;
    pos += len;
    return handle.read(buf, 0, len, at).then(({ bytesRead }) => {
      if (bytesRead !== len) throw new Error(`file shrank while being read (short read at offset ${at})`);
      return buf.subarray(0, len);
    });
  };
  let pending = next();
  try {
    while (pending) {
      const chunk = await pending;
      pending = next(); // read ahead while the consumer works on `chunk`
      yield chunk;
    }
  } finally {
    // Closed early: let the read running ahead finish before the handle can be closed.
    await pending?.catch(() => {});
    // No read is running into them now: the next artifact's range uses them (fresh pages cost faults).
    if (buffers && spare.length < MAX_SPARE) spare.push(...buffers);
  }
}

/** Buffers of finished ranges, for the next: two per artifact read at once. */
const spare: Buffer[] = [];
const MAX_SPARE = 4;
