// What every decoder shares: the shapes of a decoder and of its output. Imports nothing but a type
// of Node's, so the decoder files import it and never each other's types.
import type { FileHandle } from 'node:fs/promises';

/** Receives decompressed bytes; a chunk is valid only during the call. Throwing stops the decoder. */
export type Sink = (chunk: Buffer) => void;
/** Reads compressed chunks from `input`, calls `sink` with decompressed ones; rejects with a plain-words Error. */
export type Decoder = (input: AsyncIterable<Buffer>, sink: Sink) => Promise<void>;
export interface Codec {
  name: string;
  decode: Decoder;
  /** Decodes a whole open file by itself (a program given its descriptor: no input passes through Node). */
  decodeFile?: (file: FileHandle, sink: Sink) => Promise<void>;
  /** It is done with each input chunk before asking for the next, so the reader may reuse one buffer. */
  consumesSynchronously: boolean;
  /** It decodes on another core (libuv's thread pool, a program): a reader thread would add none. */
  offThread: boolean;
}

/**
 * Thrown by a sink to stop a decoder: it needs no more output. With `checkRest` (a tar's end was
 * reached) the rest of a zstd stream is not decoded, but its frames are still checked to the end
 * (zstd-frames.ts), so that a fault there gives the same verdict whatever the decoder.
 */
export class StopRead extends Error {
  constructor(readonly checkRest: boolean) {
    super('end of archive');
    this.name = 'StopRead';
  }
}
