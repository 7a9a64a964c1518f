// Streaming decoders for the two compressions conda uses. Each returns a Duplex: compressed
// bytes in, uncompressed bytes out, an 'error' naming what is wrong with the data.
import { spawn, spawnSync } from 'node:child_process';
import { Duplex, PassThrough, Transform } from 'node:stream';
import { createRequire } from 'node:module';
import { Decompress as ZstdDecompress } from 'fzstd';

const require = createRequire(import.meta.url);

const ZSTD_ERRORS = ['invalid data', 'window size too large', 'invalid block type', 'FSE accuracy too high', 'match distance too far back', 'unexpected end of data'];

/** zstd via fzstd (pure JavaScript, streaming, runs anywhere Node does). */
export function zstdDecoder(): Duplex {
  let decoder: ZstdDecompress;
  let done = false;
  const out = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      try {
        decoder.push(chunk);
        callback();
      } catch (err) {
        callback(zstdError(err));
      }
    },
    flush(callback) {
      try {
        decoder.push(new Uint8Array(0), true);
        if (!done) throw Object.assign(new Error('zstd stream ended before its last block'), { code: 5 });
        callback();
      } catch (err) {
        callback(zstdError(err));
      }
    },
  });
  decoder = new ZstdDecompress((data, final) => {
    if (data.length) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (final) done = true;
  });
  return out;
}

function zstdError(err: unknown): Error {
  const code = (err as { code?: number }).code;
  const what = typeof code === 'number' && ZSTD_ERRORS[code] ? ZSTD_ERRORS[code] : (err as Error).message;
  return new Error(`corrupt zstd data: ${what}`);
}

/**
 * bzip2: the system's decoder when there is one (lbzip2, pbzip2 or bzip2 on PATH: ten times the
 * speed of JavaScript and exact error messages), otherwise unbzip2-stream (pure JavaScript).
 * PYC_AUDIT_BZIP2=js forces the JavaScript decoder; =PROGRAM names a decoder to run.
 */
export function bzip2Decoder(): Duplex {
  const tool = bzip2Tool();
  return tool ? toolDecoder(tool) : jsBzip2Decoder();
}

let cachedTool: string | null | undefined;

export function bzip2Tool(): string | null {
  if (cachedTool !== undefined) return cachedTool;
  const forced = process.env.PYC_AUDIT_BZIP2;
  if (forced === 'js') return (cachedTool = null);
  const candidates = forced ? [forced] : ['lbzip2', 'pbzip2', 'bzip2'];
  cachedTool = candidates.find((c) => spawnSync(c, ['--help'], { stdio: 'ignore', timeout: 5000 }).error === undefined) ?? null;
  return cachedTool;
}

function toolDecoder(tool: string): Duplex {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  // The output ends only when the decoder has exited, so its verdict on the data comes first.
  child.stdout.pipe(out, { end: false });
  child.stdin.on('error', () => {}); // EPIPE when the decoder stops reading corrupt input
  child.on('error', (err) => out.destroy(new Error(`${tool}: ${err.message}`)));
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) out.destroy(new Error(bzip2ToolMessage(stderr, code, signal)));
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return duplex;
}

function bzip2ToolMessage(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const text = stderr.replace(/\s+/g, ' ');
  if (/ends unexpectedly|unexpected end/i.test(text)) return 'truncated bzip2 data: compressed stream ends unexpectedly';
  if (/not a bzip2 file|bad magic/i.test(text)) return 'not bzip2 data';
  if (/data integrity|crc|corrupt/i.test(text)) return 'corrupt bzip2 data: data integrity (CRC) error';
  if (signal) return `bzip2 decoder stopped by ${signal}`;
  return `corrupt bzip2 data (decoder exit ${code}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''})`;
}

/** unbzip2-stream, with its errors (a TypeError past the end of input, joke messages) made plain. */
function jsBzip2Decoder(): Duplex {
  const make = require('unbzip2-stream') as () => Duplex;
  const inner = make();
  const out = new PassThrough();
  inner.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) inner.pause();
  });
  out.on('drain', () => inner.resume());
  inner.on('end', () => out.end());
  // First listener: reword the error before Duplex.from passes the same object on.
  inner.prependListener('error', (err: Error) => {
    err.message = jsBzip2Message(err);
    out.destroy(err);
  });
  const duplex = Duplex.from({ writable: inner, readable: out });
  return duplex;
}

function jsBzip2Message(err: Error): string {
  if (err instanceof TypeError || /prematurely/.test(err.message)) return 'truncated bzip2 data: compressed stream ends unexpectedly';
  if (/No magic number|Not a BZIP/.test(err.message)) return 'not bzip2 data';
  if (/crc32/.test(err.message)) return 'corrupt bzip2 data: data integrity (CRC) error';
  return 'corrupt bzip2 data';
}
