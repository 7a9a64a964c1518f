// Opening a file the tool reads: only a regular file, checked on the opened descriptor, and never
// more than a stated number of bytes. A FIFO, socket or device where a file is expected would
// otherwise block the open or the read forever (or never end, like /dev/zero); a check made with
// stat() before open() can be raced by a rename, so the check is fstat() on what was opened.
// node:fs/promises is reached through fs.promises when first used: it loads readline, the REPL's
// history and the file watchers with it, which a run that reads files synchronously never needs.
import { closeSync, constants, fstatSync, openSync, promises, readSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';

export interface OpenOptions {
  /** Follow a symbolic link in the last component: true for a path the user named, false inside a walk. */
  follow?: boolean;
}

export interface ReadOptions extends OpenOptions {
  /** The most bytes this file may have; a larger one is an error naming the limit. */
  maxBytes: number;
}

/** An error about the file itself (not a regular file, too large): the message is the reason alone. */
export class FileError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOTREG' | 'ETOOLARGE',
  ) {
    super(message);
  }
}

/** What an error number means for a file the tool opens, in words. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'not a regular file (a directory)',
  ELOOP: 'too many levels of symbolic links (a loop)',
  ENXIO: 'not a regular file (a FIFO or socket with nobody at the other end)',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'file name too long',
};

/**
 * Why a file could not be opened, read or written, in words: a FileError's reason, an error
 * number's ("permission denied"), else Node's own text without the path and call it names
 * ("ENOSPC: no space left on device").
 */
export function describeFileError(err: unknown): string {
  if (err instanceof FileError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code && Object.hasOwn(ERRNO_WORDS, e.code)) return ERRNO_WORDS[e.code]!;
  if (e?.code && typeof e.message === 'string' && e.message.startsWith(`${e.code}:`)) return e.message.replace(/, [a-z]+( '.*')?$/, '');
  return e?.code ?? String(e?.message ?? err);
}

function flags(options: OpenOptions): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | (options.follow === false ? constants.O_NOFOLLOW : 0);
}

function kindOf(stats: Stats | Dirent): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

/** "not a regular file (a FIFO)": why a file of this kind (from fstat, or a folder listing) is not read. */
export function notRegularReason(stats: Stats | Dirent): string {
  return `not a regular file (${kindOf(stats)})`;
}

function notRegular(stats: Stats): FileError {
  return new FileError(notRegularReason(stats), 'ENOTREG');
}

/** Describes a byte count for a limit message: 65536 → "64 KiB". */
export function formatLimit(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tooLarge(maxBytes: number): FileError {
  return new FileError(`larger than the ${formatLimit(maxBytes)} this file may have`, 'ETOOLARGE');
}

/** Opens a regular file for reading; throws FileError for anything else (the descriptor is closed). */
export async function openRegular(path: string | Buffer, options: OpenOptions = {}): Promise<{ handle: FileHandle; stats: Stats }> {
  const handle = await promises.open(path, flags(options));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(stats);
    return { handle, stats };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** The synchronous twin of openRegular, for walks that do not go through the thread pool. */
export function openRegularSync(path: string | Buffer, options: OpenOptions = {}): { fd: number; stats: Stats } {
  const fd = openSync(path, flags(options));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(stats);
    return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Reads a whole regular file of at most maxBytes (a file that grows past it while read is refused too). */
export async function readRegularFile(path: string | Buffer, options: ReadOptions): Promise<Buffer> {
  const { handle, stats } = await openRegular(path, options);
  try {
    if (stats.size > options.maxBytes) throw tooLarge(options.maxBytes);
    const buffer = Buffer.allocUnsafe(Math.min(stats.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > options.maxBytes) throw tooLarge(options.maxBytes);
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The synchronous twin of readRegularFile. */
export function readRegularFileSync(path: string | Buffer, options: ReadOptions): Buffer {
  const { fd, stats } = openRegularSync(path, options);
  try {
    if (stats.size > options.maxBytes) throw tooLarge(options.maxBytes);
    const buffer = Buffer.allocUnsafe(Math.min(stats.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > options.maxBytes) throw tooLarge(options.maxBytes);
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** Reads the first `count` bytes of a regular file (fewer if it is shorter): a .pyc header. */
export function readHeadSync(path: string | Buffer, count: number, options: OpenOptions = {}): { head: Buffer; stats: Stats } {
  const { fd, stats } = openRegularSync(path, options);
  try {
    const head = Buffer.allocUnsafe(count);
    let length = 0;
    while (length < count) {
      const bytesRead = readSync(fd, head, length, count - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { head: head.subarray(0, length), stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a regular file front to back in 64 KiB chunks, handing each to `onChunk`; a file larger than
 * `limit` bytes (checked on its size, then as it is read) throws `tooLarge()` instead. Returns its size.
 */
export function readChunksSync(path: string | Buffer, options: OpenOptions, limit: number, tooLarge: () => Error, onChunk: (chunk: Buffer) => void): number {
  const { fd, stats } = openRegularSync(path, options);
  try {
    if (stats.size > limit) throw tooLarge();
    const chunk = Buffer.allocUnsafe(1 << 16);
    let size = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, size);
      if (n === 0) break;
      size += n;
      if (size > limit) throw tooLarge();
      onChunk(chunk.subarray(0, n));
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` to a regular file (created if missing), checked on the opened descriptor: a FIFO
 * ($GITHUB_STEP_SUMMARY naming one) would otherwise block the open or the write forever.
 * Opened without blocking; a FIFO without a reader is ENXIO, one with a reader is refused.
 */
export function appendRegularSync(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o666);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(stats);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
