// The bytes of a channel's files, from a URL or a folder alike: streamed or whole, never more
// than a stated number of bytes, null when the file is not there (HTTP 404, ENOENT), any other
// failure an Error with a plain reason. Local files are opened as regular files only (a FIFO is
// refused, not waited on); URLs have the --timeout idle deadline of every download, and
// --deadline for each file in all.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { get } from '../sources/access/http.js';
import { InputError } from '../sources/types.js';
import { FileError, formatLimit, openRegular } from '../sources/access/regular-file.js';

export const isUrl = (location: string) => /^https?:\/\//i.test(location);

const CHUNK = 1 << 20;

/** A file longer than the bytes it may have. */
export class TooLarge extends Error {}

function tooLarge(limit: number): Error {
  return new TooLarge(`larger than the ${formatLimit(limit)} this file may have`);
}

/** The file's bytes as chunks (each a fresh buffer), at most `limit` in all; null when it does not exist. */
export async function openBytes(location: string, limit: number, timeoutSeconds: number, deadlineSeconds?: number): Promise<AsyncIterable<Buffer> | null> {
  if (isUrl(location)) {
    let got;
    try {
      got = await get(location, { 'Accept-Encoding': 'identity' }, timeoutSeconds, deadlineSeconds);
    } catch (err) {
      if (err instanceof InputError && /^HTTP 404\b/.test(err.message)) return null;
      throw err;
    }
    const encoding = got.response.headers.get('content-encoding');
    if (encoding && encoding !== 'identity') {
      await got.response.body?.cancel().catch(() => {});
      throw new Error(`the server sent it with Content-Encoding ${encoding}, which was not asked for`);
    }
    return capped(got.body, limit);
  }
  let opened;
  try {
    opened = await openRegular(location);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(err instanceof FileError ? err.message : describeErrno(err as NodeJS.ErrnoException));
  }
  const { handle, stats } = opened;
  if (stats.size > limit) {
    await handle.close();
    throw tooLarge(limit);
  }
  return capped(
    (async function* () {
      try {
        for (;;) {
          const buffer = Buffer.allocUnsafe(CHUNK);
          const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
          if (bytesRead === 0) return;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close().catch(() => {});
      }
    })(),
    limit,
  );
}

function describeErrno(err: NodeJS.ErrnoException): string {
  return err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'a directory, not a file' : (err.code ?? err.message);
}

async function* capped(chunks: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    yield chunk;
  }
}

/** The whole file, at most `limit` bytes; null when it does not exist. */
export async function readBytes(location: string, limit: number, timeoutSeconds: number, deadlineSeconds?: number): Promise<Buffer | null> {
  const chunks = await openBytes(location, limit, timeoutSeconds, deadlineSeconds);
  if (!chunks) return null;
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Copies a file (URL or local) to `dest`, hashing what passes: the SHA-256 of exactly the bytes
 * written, which are the bytes then audited. Throws when it is missing or larger than `limit`.
 */
export async function copyHashing(location: string, dest: string, limit: number, timeoutSeconds: number): Promise<string> {
  const chunks = await openBytes(location, limit, timeoutSeconds);
  if (!chunks) throw new Error(isUrl(location) ? 'HTTP 404 Not Found' : 'no such file');
  const hash = createHash('sha256');
  const out = await open(dest, 'wx');
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      await out.write(chunk);
    }
  } finally {
    await out.close();
  }
  return hash.digest('hex');
}
