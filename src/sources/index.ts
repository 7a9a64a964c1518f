// Reads one target: an artifact file, stdin, a URL (each only an access path to bytes, read by
// read-bytes.ts), or a folder. Readers other than files load when first needed: a reader thread
// imports this module, and its start-up time is paid before it decodes anything.
import { openRegular, describeFileError } from './access/regular-file.js';
import { fileAccess, readFirst, streamBytes } from './access/access.js';
import { readPlainConda } from './formats/conda-plain.js';
import { readBytes } from './formats/read-bytes.js';
import type { Target } from './folders/targets.js';
import { byteBudget, type HashRequest, type ScanOptions } from './formats/tar-members.js';
import { InputError, type ArtifactEntries } from './types.js';

export interface ReadOptions {
  /** Stop (with an error) after this many decompressed bytes of one artifact: --max-bytes (default DEFAULT_MAX_BYTES). */
  maxBytes?: number | null;
  /** URLs: seconds without a byte before giving up (--timeout). */
  timeoutSeconds?: number;
  /** URLs: seconds one read of an artifact may take in all (--deadline). */
  deadlineSeconds?: number;
  /** Package caches: hash every file of an extracted folder against the archive's paths.json (--hash-extracted). */
  hashExtracted?: boolean;
  /** A second read, for the hashes of these sources only (see audit.ts). */
  hashOnly?: HashRequest;
  /** Only the metadata files (comparing an archive with the folder beside it). */
  metadataOnly?: boolean;
}

function scanOptions(options: ReadOptions): ScanOptions {
  return { budget: byteBudget(options.maxBytes), hashOnly: options.hashOnly, metadataOnly: options.metadataOnly };
}

function openError(err: unknown): InputError {
  if (err instanceof InputError) return err;
  if ((err as NodeJS.ErrnoException).code === 'EISDIR') return new InputError('is a directory, not an artifact (give the .conda, .tar.bz2 or .pyc files in it)');
  return new InputError(describeFileError(err));
}

/**
 * Reads one artifact file: a regular file (checked on the opened descriptor), read with random
 * access; a .conda of the plain layout the short way (conda-plain.ts), anything else the general way.
 */
export async function readArtifact(path: string, options: ReadOptions = {}): Promise<ArtifactEntries> {
  const plain = await readPlainConda(path, scanOptions(options));
  if (plain) return plain;
  let opened;
  try {
    opened = await openRegular(path, { follow: true });
  } catch (err) {
    throw openError(err);
  }
  const { handle, stats } = opened;
  try {
    return await readBytes({ mode: 'random', name: path, first: await readFirst(handle, stats.size), access: fileAccess(handle, stats.size, path) }, scanOptions(options));
  } catch (err) {
    throw openError(err);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Standard input cannot be read a second time (a pipe); the reason, for the finding that says so. */
export class NotRereadable extends InputError {}

/**
 * Standard input: a file redirected to it is read like any file (random access, and again when
 * asked); a pipe front to back, once.
 */
async function readStdin(options: ReadOptions): Promise<ArtifactEntries> {
  let opened;
  try {
    opened = await openRegular('/dev/stdin', { follow: true });
  } catch {
    opened = null; // a pipe, a terminal, a socket: read as a stream
  }
  if (opened) {
    const { handle, stats } = opened;
    try {
      return await readBytes({ mode: 'random', name: '-', first: await readFirst(handle, stats.size), access: fileAccess(handle, stats.size) }, scanOptions(options));
    } finally {
      await handle.close().catch(() => {});
    }
  }
  if (options.hashOnly) throw new NotRereadable('it came before its .pyc on standard input, which cannot be read twice');
  return readBytes(await streamBytes(process.stdin as AsyncIterable<Buffer>, '-'), scanOptions(options));
}

/** Reads one target: an artifact file, standard input, a URL, or a folder. */
export async function readTarget(target: Target, options: ReadOptions = {}): Promise<ArtifactEntries> {
  if (target.kind === 'unreadable') throw new InputError(target.reason ?? 'not a regular file');
  if (target.kind === 'file') return readArtifact(target.path, options);
  if (target.kind === 'stdin') return readStdin(options);
  if (target.kind === 'url') {
    const { readUrl } = await import('./access/http.js');
    return readUrl(target.url ?? target.path, { timeoutSeconds: options.timeoutSeconds ?? 30, deadlineSeconds: options.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS, scan: scanOptions(options) });
  }
  const folders = await import('./folders/folder.js');
  const local = { maxBytes: options.maxBytes, hashOnly: options.hashOnly, part: target.part };
  if (target.kind === 'pyc') return folders.readLoosePyc(target.path, local);
  const entries = folders.readFolder(target.path, target.kind, local);
  if (target.pairedArchives && !options.hashOnly) {
    entries.notes = await (await import('./folders/cache-compare.js')).compareWithArchives(entries, target.path, target.pairedArchives, readArtifact, options);
  }
  return entries;
}

/** --deadline's default: one read of one URL artifact may take this long in all. */
export const DEFAULT_DEADLINE_SECONDS = 900;
