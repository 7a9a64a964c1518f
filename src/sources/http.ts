// http(s):// artifacts. A zip (.conda, .whl) is read with range requests: the central directory
// from the end, then each component, so a .conda is never downloaded whole; a server that
// ignores Range gets the whole body streamed front to back instead. Anything else (.tar.bz2) is
// streamed as it downloads. Redirects are followed; a stalled transfer, a refused connection or
// an HTTP error status is one plain reason.
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { readZip, throughYauzl } from './conda.js';
import { readStream } from './stream.js';
import type { ScanOptions } from './tar-members.js';
import { InputError, type ArtifactEntries } from './types.js';

export interface HttpOptions {
  /** Seconds without a byte (connecting, or between chunks) before giving up. */
  timeoutSeconds: number;
  scan: ScanOptions;
}

const TAIL = 64 << 10;

/** fetch, with an idle timeout that covers the connection and every chunk of the body after it (also used by channel runs). */
export async function get(url: string, headers: Record<string, string>, timeoutSeconds: number): Promise<{ response: Response; body: AsyncIterable<Buffer> }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new InputError(`timed out: no data for ${timeoutSeconds} s`)), timeoutSeconds * 1000);
    timer.unref(); // a watchdog, never a reason to keep the process alive
  };
  arm();
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    throw describeFetchError(err, controller.signal);
  }
  if (!response.ok && response.status !== 206) {
    clearTimeout(timer);
    await response.body?.cancel().catch(() => {});
    throw new InputError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  const stream = response.body;
  async function* body(): AsyncGenerator<Buffer> {
    if (!stream) return;
    const reader = stream.getReader();
    try {
      for (;;) {
        arm();
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          throw describeFetchError(err, controller.signal);
        }
        if (next.done) return;
        yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      }
    } finally {
      clearTimeout(timer);
      reader.cancel().catch(() => {});
    }
  }
  return { response, body: body() };
}

function describeFetchError(err: unknown, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return new InputError('connection refused');
  if (cause?.code === 'ENOTFOUND') return new InputError('host not found');
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return new InputError('connection closed by the server');
  return new InputError(`download failed: ${cause?.message ?? (err as Error).message}`);
}

/**
 * A yauzl RandomAccessReader whose reads are HTTP range requests, served from `tail` (the last
 * bytes of the file, already fetched) when they fall inside it: the central directory of a wheel
 * with hundreds of entries costs no request per entry.
 */
function rangeReader(url: string, timeoutSeconds: number, tail: { start: number; bytes: Buffer }): yauzl.RandomAccessReader {
  const reader = new (yauzl.RandomAccessReader as unknown as new () => yauzl.RandomAccessReader)();
  (reader as unknown as { _readStreamForRange: (start: number, end: number) => Readable })._readStreamForRange = (start, end) => {
    const out = new Readable({ read() {} });
    (async () => {
      try {
        if (end <= start) {
          out.push(null);
          return;
        }
        if (start >= tail.start && end <= tail.start + tail.bytes.length) {
          out.push(tail.bytes.subarray(start - tail.start, end - tail.start));
          out.push(null);
          return;
        }
        const { response, body } = await get(url, { Range: `bytes=${start}-${end - 1}` }, timeoutSeconds);
        if (response.status !== 206) throw new InputError(`the server stopped honouring Range requests (HTTP ${response.status})`);
        for await (const chunk of body) out.push(chunk);
        out.push(null);
      } catch (err) {
        out.destroy(err as Error);
      }
    })();
    return out;
  };
  return reader;
}

export async function readUrl(url: string, options: HttpOptions): Promise<ArtifactEntries> {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  if (/\.(conda|whl|zip)$/i.test(name)) {
    // The last 64 KiB: the central directory of any package, and whether Range is honoured.
    let tailRequest;
    try {
      tailRequest = await get(url, { Range: `bytes=-${TAIL}` }, options.timeoutSeconds);
    } catch (err) {
      // 416: a server that refuses suffix ranges; read the whole body instead.
      if (!(err instanceof InputError && /^HTTP 416\b/.test(err.message))) throw err;
      return readStream((await get(url, {}, options.timeoutSeconds)).body, name, options.scan);
    }
    const { response, body } = tailRequest;
    const total = Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1]);
    if (response.status === 206 && Number.isSafeInteger(total)) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      const tail = { start: total - bytes.length, bytes };
      const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
        yauzl.fromRandomAccessReader(rangeReader(url, options.timeoutSeconds, tail), total, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, z) => {
          if (err || !z) reject(new InputError(`not a readable zip: ${err?.message ?? 'no archive'}`));
          else resolve(z);
        });
      });
      try {
        return await readZip(zip, name, throughYauzl, options.scan);
      } finally {
        zip.close();
      }
    }
    // 200: the server sent everything from the start; read it as it comes.
    return readStream(body, name, options.scan);
  }
  const { body } = await get(url, {}, options.timeoutSeconds);
  return readStream(body, name, options.scan);
}

/**
 * A whole (small) document: repodata.json, channeldata.json. null for 404, so a caller can say
 * what is missing; any other failure throws InputError. `limit` bounds what is buffered.
 */
export async function fetchDocument(url: string, timeoutSeconds: number, limit: number): Promise<Buffer | null> {
  let got;
  try {
    got = await get(url, {}, timeoutSeconds);
  } catch (err) {
    if (err instanceof InputError && /^HTTP 404\b/.test(err.message)) return null;
    throw err;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of got.body) {
    size += chunk.length;
    if (size > limit) throw new InputError(`larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
