// Streaming decoders for the two compressions conda uses. Each returns a Duplex: compressed
// bytes in, uncompressed bytes out, an 'error' naming what is wrong with the data.
import { Transform, type Duplex } from 'node:stream';
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

/** bzip2 via unbzip2-stream (pure JavaScript, streaming). */
export function bzip2Decoder(): Duplex {
  const make = require('unbzip2-stream') as () => Duplex;
  const stream = make();
  return stream;
}
