// The magic table a run judges with: the built-in rows, then what `pyc-audit magic --update` last
// wrote to the user's cache folder (if it did), then --magic-table FILE. A bad file of either kind
// is a usage error: one line naming it and why, never a table trusted silently.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile, readRegularFileSync, describeFileError } from '../sources/access/regular-file.js';
import { MagicTable } from '../magic/table.js';
import { loadUserTable, MagicTableError } from '../magic/user-table.js';
import { describeProvenance, MagicUpdateError, parseUpdateFile, UPDATE_FILE_NAME, updateRows, type MagicUpdate, type TableProvenance } from '../magic/update.js';
import { UsageError } from './exit.js';

/** The most an update file may hold (a few hundred releases are a few tens of KiB). */
export const UPDATE_MAX_BYTES = 4 << 20;

/** Where `magic --update` writes: $XDG_CACHE_HOME/pyc-audit/, else ~/.cache/pyc-audit/. Null: no home. */
export function updateFilePath(env: NodeJS.ProcessEnv = process.env): string | null {
  const base = env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : '');
  return base ? join(base, 'pyc-audit', UPDATE_FILE_NAME) : null;
}

// No file, or no folder to hold one (XDG_CACHE_HOME a file): no update, as before any was made.
const missing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

function parsed(bytes: Buffer, path: string): MagicUpdate {
  return parseUpdateFile(bytes.toString('utf8'), path);
}

const readFailure = (path: string, err: unknown) =>
  new MagicUpdateError(`${path}: cannot read magic table update: ${describeFileError(err)}`);

/** The update file's contents, or null when there is none. Throws MagicUpdateError on a bad one. */
export async function readUpdate(path: string | null = updateFilePath()): Promise<MagicUpdate | null> {
  if (!path) return null;
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, { maxBytes: UPDATE_MAX_BYTES, follow: true });
  } catch (err) {
    if (missing(err)) return null;
    throw readFailure(path, err);
  }
  return parsed(bytes, path);
}

/** The same, synchronously, for `--version --verbose`. */
export function readUpdateSync(path: string | null = updateFilePath()): MagicUpdate | null {
  if (!path) return null;
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path, { maxBytes: UPDATE_MAX_BYTES, follow: true });
  } catch (err) {
    if (missing(err)) return null;
    throw readFailure(path, err);
  }
  return parsed(bytes, path);
}

export function provenanceOf(update: MagicUpdate | null, file: string | null, magicTable: string | null): TableProvenance {
  const base = MagicTable.builtIn().provenance;
  return {
    builtIn: base.builtIn,
    update: update && file ? { file, fetchedAt: update.fetchedAt, tagsUrl: update.tagsUrl, rawUrl: update.rawUrl, releases: update.releases.length, newestTag: update.releases.at(-1)?.tag ?? null } : null,
    magicTable,
  };
}

export function tableOf(update: MagicUpdate | null, file: string | null, extra: Parameters<typeof MagicTable.builtIn>[0] = [], magicTable: string | null = null): MagicTable {
  const updated = update ? updateRows(update, MagicTable.builtInRows()) : [];
  return MagicTable.builtIn(extra.map((e) => ({ ...e, origin: '--magic-table' })), updated, provenanceOf(update, file, magicTable));
}

export async function loadTable(path: string | undefined): Promise<MagicTable> {
  const file = updateFilePath();
  try {
    // Read synchronously: a small file, usually absent, and an audit of a .conda loads no
    // node:fs/promises (docs/performance.md).
    const update = readUpdateSync(file);
    return tableOf(update, file, path ? await loadUserTable(path) : [], path ?? null);
  } catch (err) {
    if (err instanceof MagicTableError || err instanceof MagicUpdateError) throw new UsageError(err.message);
    throw err;
  }
}

/** `--version --verbose`'s line about the table. Never throws: a bad update file is said, not fatal. */
export function magicTableReport(): string {
  const file = updateFilePath();
  try {
    return `magic table: ${describeProvenance(provenanceOf(readUpdateSync(file), file, null))}`;
  } catch (err) {
    return `magic table: ${describeProvenance(provenanceOf(null, null, null))}; ${(err as Error).message}`;
  }
}
