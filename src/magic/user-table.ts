// --magic-table FILE: rows a user adds to (or corrects in) the built-in table without a new
// release. The format is what `pyc-audit magic --format json` prints: a JSON array of objects.
import { readRegularFile, describeFileError } from '../sources/access/regular-file.js';
import type { MagicEntry } from './types.js';

export class MagicTableError extends Error {}

/** The most a table file may hold: the built-in table as JSON is about 100 KiB. */
export const MAGIC_TABLE_MAX_BYTES = 16 << 20;

/** The file's text: a regular file of at most 16 MiB (a FIFO or /dev/zero is refused, not waited on). */
export async function readUserTableText(path: string): Promise<string> {
  try {
    return (await readRegularFile(path, { maxBytes: MAGIC_TABLE_MAX_BYTES, follow: true })).toString('utf8');
  } catch (err) {
    throw new MagicTableError(`${path}: cannot read magic table: ${describeFileError(err)}`);
  }
}

export async function loadUserTable(path: string): Promise<MagicEntry[]> {
  const text = await readUserTableText(path);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new MagicTableError(`${path}: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new MagicTableError(`${path}: expected a JSON array of rows`);
  return data.map((row, i) => parseRow(row, `${path}: row ${i + 1}`, path));
}

function parseRow(row: unknown, where: string, path: string): MagicEntry {
  if (!row || typeof row !== 'object') throw new MagicTableError(`${where}: not an object`);
  const r = row as Record<string, unknown>;
  const magic = r.magic;
  if (typeof magic !== 'number' || !Number.isInteger(magic) || magic < 0 || magic > 0xffff) {
    throw new MagicTableError(`${where}: "magic" must be an integer 0-65535`);
  }
  if (typeof r.version !== 'string' || !/^\d+\.\d+$/.test(r.version)) {
    throw new MagicTableError(`${where}: "version" must be a minor version such as "3.15"`);
  }
  const optionalString = (key: string): string | null => {
    const v = r[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw new MagicTableError(`${where}: "${key}" must be a string`);
    return v;
  };
  const minors = (key: string): string[] | null => {
    const v = r[key];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^\d+\.\d+$/.test(x))) {
      throw new MagicTableError(`${where}: "${key}" must be a list of minor versions such as ["3.15"]`);
    }
    return v as string[];
  };
  if (r.final !== undefined && typeof r.final !== 'boolean') throw new MagicTableError(`${where}: "final" must be true or false`);
  const final = r.final === true;
  const releases = optionalString('releases');
  // What `magic --format json` prints reads back the same: a number final for several minors.
  const alsoVersions = minors('alsoVersions') ?? [];
  const finalFor = final ? (minors('finalFor') ?? [r.version]) : [];
  return {
    magic,
    implementation: optionalString('implementation') ?? 'CPython',
    version: r.version,
    alsoVersions,
    releases,
    firstRelease: releases,
    final,
    finalFor,
    firstFinal: final ? (optionalString('firstFinal') ?? `${r.version}.0`) : null,
    current: final,
    commentTag: null,
    note: optionalString('note'),
    source: optionalString('source') ?? path,
  };
}
