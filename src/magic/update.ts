// `pyc-audit magic --update`: what CPython's published sources say of releases newer than the
// built-in table, as facts (tag, magic, file:line), and the table rows they make. Pure: the
// fetching is commands/magic-update.ts's, the reading of the cache file run/load-table.ts's.
//
// The source layout (docs/magic-table.md):
//   release list   TAGS_BASE/repos/python/cpython/tags?per_page=100&page=N   (GitHub's REST API: a
//                  JSON array of objects with a string "name", "v3.15.0"; pages until one is short)
//   tagged source  RAW_BASE/python/cpython/TAG/PATH                          (raw file contents)
// PATH is Include/internal/pycore_magic_number.h from 3.13 on (`#define PYC_MAGIC_NUMBER 3666`),
// Lib/importlib/_bootstrap_external.py before (`MAGIC_NUMBER = (3531).to_bytes(2, 'little') + b'\r\n'`).
import { CPYTHON_SOURCE } from './cpython-history.js';
import { compareMinors } from './describe.js';
import type { MagicEntry, TableProvenance } from './types.js';

export type { TableProvenance } from './types.js';

export class MagicUpdateError extends Error {}

export const DEFAULT_TAGS_URL = 'https://api.github.com';
export const DEFAULT_RAW_URL = 'https://raw.githubusercontent.com';
/** The cache file's format; anything else is refused. */
export const UPDATE_FORMAT = 'pyc-audit-magic-update/1';
export const UPDATE_FILE_NAME = 'magic-update.json';
/** The most one update fetches: more releases after the built-in table than this is not CPython's list. */
export const MAX_NEW_RELEASES = 200;

/** One release as its tagged source says it. */
export interface UpdateRelease {
  /** The git tag, "v3.15.0". */
  tag: string;
  /** Its minor, "3.15". */
  version: string;
  magic: number;
  /** The file and line the magic was read from. */
  file: string;
  line: number;
}

/** The cache file: where and when the facts came from, and the facts. */
export interface MagicUpdate {
  format: typeof UPDATE_FORMAT;
  /** ISO time of the update. */
  fetchedAt: string;
  tagsUrl: string;
  rawUrl: string;
  /** How many tags the release list had. */
  tagsListed: number;
  /** The built-in table's newest tag at the time: releases after it are the update's. */
  after: string;
  releases: UpdateRelease[];
}

/** A release tag, parsed: v3.15.0, v3.15.0rc2, v3.16.0a1. Other tags (v2.7.18, legacy-trunk) are null. */
export interface ReleaseTag {
  tag: string;
  version: string;
  /** As the table names releases: "3.15.0", "3.15rc2", "3.16a1". */
  label: string;
  final: boolean;
  key: number[];
}

const TAG = /^v3\.(\d{1,3})\.(\d{1,3})(?:(a|b|rc)(\d{1,3}))?$/;
const LEVELS: Record<string, number> = { a: 0, b: 1, rc: 2 };

export function parseReleaseTag(tag: string): ReleaseTag | null {
  const m = TAG.exec(tag);
  if (!m) return null;
  const [minor, micro, level, serial] = [Number(m[1]), Number(m[2]), m[3], Number(m[4] ?? 0)];
  const version = `3.${minor}`;
  return {
    tag,
    version,
    label: level ? `${version}${level}${serial}` : `${version}.${micro}`,
    final: !level,
    key: [3, minor, micro, level ? LEVELS[level]! : 3, serial],
  };
}

const compareKeys = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/** The built-in table's newest tag ("3.15rc1") as a sort key. */
export function builtInNewestKey(newest: string = CPYTHON_SOURCE.newestTag): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc)(\d+))?$/.exec(newest);
  if (!m) throw new MagicUpdateError(`the built-in table's newest tag ${newest} is not a release`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), m[4] ? LEVELS[m[4]]! : 3, Number(m[5] ?? 0)];
}

/** One page of the release list: a JSON array of objects with a "name". Anything else is an error. */
export function parseTagsPage(text: string, url: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new MagicUpdateError(`${url}: not JSON: not a list of tags`);
  }
  if (!Array.isArray(data)) throw new MagicUpdateError(`${url}: expected a JSON array of tags`);
  return data.map((t, i) => {
    const name = t && typeof t === 'object' ? (t as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || !name || name.length > 200) throw new MagicUpdateError(`${url}: tag ${i + 1} has no "name"`);
    return name;
  });
}

/** The releases of a tag list newer (in version order) than the built-in table's newest tag, oldest first. */
export function newReleases(tags: readonly string[], after: number[] = builtInNewestKey()): ReleaseTag[] {
  const seen = new Set<string>();
  const found: ReleaseTag[] = [];
  for (const t of tags) {
    const r = parseReleaseTag(t);
    if (!r || seen.has(r.tag) || compareKeys(r.key, after) <= 0) continue;
    seen.add(r.tag);
    found.push(r);
  }
  return found.sort((a, b) => compareKeys(a.key, b.key));
}

/** Where a minor's tagged source defines its magic. */
export function magicFileFor(version: string): string {
  return compareMinors(version, '3.13') >= 0 ? 'Include/internal/pycore_magic_number.h' : 'Lib/importlib/_bootstrap_external.py';
}

const DEFINITIONS: Record<string, RegExp> = {
  'Include/internal/pycore_magic_number.h': /^#define PYC_MAGIC_NUMBER (\d{4,5})$/,
  'Lib/importlib/_bootstrap_external.py': /^MAGIC_NUMBER = \((\d{4,5})\)\.to_bytes\(2, 'little'\) \+ b'\\r\\n'$/,
};

/**
 * The magic a tagged file defines: exactly one line that is the defining line, nothing else. A file
 * without it, or with two, is an error (a changed format is not guessed at).
 */
export function parseMagicSource(file: string, text: string): { magic: number; line: number } {
  const pattern = DEFINITIONS[file];
  if (!pattern) throw new MagicUpdateError(`${file}: not a file that defines the magic`);
  const found: { magic: number; line: number }[] = [];
  text.split('\n').forEach((l, i) => {
    const m = pattern.exec(l.replace(/\r$/, ''));
    if (m) found.push({ magic: Number(m[1]), line: i + 1 });
  });
  const what = file.endsWith('.h') ? '"#define PYC_MAGIC_NUMBER N"' : '"MAGIC_NUMBER = (N).to_bytes(2, \'little\') + b\'\\r\\n\'"';
  if (found.length !== 1) throw new MagicUpdateError(`${file}: ${found.length ? `${found.length} lines` : 'no line'} ${what} (the format changed? nothing is guessed)`);
  const { magic } = found[0]!;
  if (magic < 3000 || magic >= 20000) throw new MagicUpdateError(`${file}:${found[0]!.line}: ${magic} is not a CPython 3 magic number`);
  return found[0]!;
}

const fail = (path: string, reason: string): never => {
  throw new MagicUpdateError(`${path}: not a magic table update (${reason}); run \`pyc-audit magic --update\` again, or delete the file`);
};

/** Reads a cache file's text strictly: another process may have written it, so nothing is taken on trust. */
export function parseUpdateFile(text: string, path: string): MagicUpdate {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail(path, 'not JSON');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return fail(path, 'not a JSON object');
  const d = data as Record<string, unknown>;
  const keys = ['format', 'fetchedAt', 'tagsUrl', 'rawUrl', 'tagsListed', 'after', 'releases'];
  const extra = Object.keys(d).filter((k) => !keys.includes(k));
  if (extra.length) fail(path, `unknown field "${extra[0]}"`);
  if (d.format !== UPDATE_FORMAT) fail(path, `"format" is not "${UPDATE_FORMAT}"`);
  if (typeof d.fetchedAt !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(d.fetchedAt) || Number.isNaN(Date.parse(d.fetchedAt))) fail(path, '"fetchedAt" is not an ISO time');
  for (const k of ['tagsUrl', 'rawUrl'] as const) {
    if (typeof d[k] !== 'string' || !/^https?:\/\/[^\s]+$/.test(d[k] as string)) fail(path, `"${k}" is not a URL`);
  }
  if (typeof d.tagsListed !== 'number' || !Number.isInteger(d.tagsListed) || d.tagsListed < 0) fail(path, '"tagsListed" is not a count');
  if (typeof d.after !== 'string') fail(path, '"after" is not a tag');
  try {
    builtInNewestKey(d.after as string);
  } catch {
    fail(path, '"after" is not a tag');
  }
  if (!Array.isArray(d.releases) || d.releases.length > MAX_NEW_RELEASES) fail(path, '"releases" is not a list');
  const seen = new Set<string>();
  const releases = (d.releases as unknown[]).map((r, i): UpdateRelease => {
    const where = `releases[${i}]`;
    if (!r || typeof r !== 'object') return fail(path, `${where} is not an object`);
    const x = r as Record<string, unknown>;
    const tag = typeof x.tag === 'string' ? parseReleaseTag(x.tag) : null;
    if (!tag) return fail(path, `${where}.tag is not a release tag`);
    if (seen.has(tag.tag)) fail(path, `${where}.tag ${tag.tag} twice`);
    seen.add(tag.tag);
    if (x.version !== tag.version) fail(path, `${where}.version is not ${tag.version}`);
    if (typeof x.magic !== 'number' || !Number.isInteger(x.magic) || x.magic < 3000 || x.magic >= 20000) fail(path, `${where}.magic is not a CPython 3 magic number`);
    if (x.file !== magicFileFor(tag.version)) fail(path, `${where}.file is not ${magicFileFor(tag.version)}`);
    if (typeof x.line !== 'number' || !Number.isInteger(x.line) || x.line < 1) fail(path, `${where}.line is not a line number`);
    if (Object.keys(x).some((k) => !['tag', 'version', 'magic', 'file', 'line'].includes(k))) fail(path, `${where} has an unknown field`);
    return { tag: tag.tag, version: tag.version, magic: x.magic as number, file: x.file as string, line: x.line as number };
  });
  return { format: UPDATE_FORMAT, fetchedAt: d.fetchedAt as string, tagsUrl: d.tagsUrl as string, rawUrl: d.rawUrl as string, tagsListed: d.tagsListed as number, after: d.after as string, releases };
}

export function serializeUpdate(u: MagicUpdate): string {
  return `${JSON.stringify(u, null, 2)}\n`;
}

/** "3.15rc2–3.15.0": a run of labels, as the table writes releases. */
const span = (labels: string[]): string => (labels.length === 1 ? labels[0]! : `${labels[0]}–${labels.at(-1)}`);

/**
 * The rows an update makes, merged with the built-in ones: a magic the built-in table has gains the
 * update's releases (3666: "3.15b1–3.15rc1" and "3.15rc2–3.15.0"), a new one is a new row, and a
 * minor whose newest release in the update writes another magic has its older magics no longer
 * current. Each row says it comes from the update (source, origin).
 */
export function updateRows(update: MagicUpdate, builtIn: readonly MagicEntry[]): MagicEntry[] {
  const byMagic = new Map<number, { version: string; tags: ReleaseTag[]; at: UpdateRelease }>();
  const newestOfMinor = new Map<string, UpdateRelease>();
  for (const r of update.releases) {
    const tag = parseReleaseTag(r.tag)!;
    const got = byMagic.get(r.magic);
    if (got) got.tags.push(tag);
    else byMagic.set(r.magic, { version: r.version, tags: [tag], at: r });
    newestOfMinor.set(r.version, r); // releases are oldest first
  }
  const from = (r: UpdateRelease) => `${update.rawUrl}/python/cpython/${r.tag}/${r.file}:${r.line} (magic --update, ${update.fetchedAt})`;
  const rows: MagicEntry[] = [];
  const changedMinors = new Set(newestOfMinor.keys());
  // Built-in rows of a minor the update has releases of: current only if its newest release writes them.
  for (const e of builtIn) {
    if (e.implementation !== 'CPython' || !changedMinors.has(e.version) || byMagic.has(e.magic)) continue;
    if (e.current && newestOfMinor.get(e.version)!.magic !== e.magic) rows.push({ ...e, current: false, origin: 'built-in, superseded by update' });
  }
  for (const [magic, { version, tags, at }] of byMagic) {
    const labels = tags.map((t) => t.label);
    const finals = tags.filter((t) => t.final);
    const current = newestOfMinor.get(version)!.magic === magic;
    const old = builtIn.find((e) => e.implementation === 'CPython' && e.magic === magic);
    const releases = span(labels);
    if (old) {
      const final = old.final || finals.length > 0;
      rows.push({
        ...old,
        releases: old.releases ? `${old.releases}, ${releases}` : releases,
        firstRelease: old.firstRelease ?? labels[0]!,
        final,
        finalFor: final && !old.finalFor.includes(version) ? [...old.finalFor, version] : old.finalFor,
        firstFinal: old.firstFinal ?? finals[0]?.label ?? null,
        current,
        source: `${old.source}; ${from(at)}`,
        origin: 'built-in + update',
      });
      continue;
    }
    rows.push({
      magic,
      implementation: 'CPython',
      version,
      alsoVersions: [],
      releases,
      firstRelease: labels[0]!,
      final: finals.length > 0,
      finalFor: finals.length ? [version] : [],
      firstFinal: finals[0]?.label ?? null,
      current,
      commentTag: null,
      note: null,
      source: from(at),
      origin: 'update',
    });
  }
  return rows;
}

export function describeProvenance(p: TableProvenance): string {
  const base = `built-in to ${p.builtIn.newestTag} (${p.builtIn.tagsRead} CPython tags read)`;
  const u = p.update;
  const update = u ? `; update: ${u.releases} release${u.releases === 1 ? '' : 's'} after it${u.newestTag ? `, to ${u.newestTag}` : ''}, from ${u.tagsUrl} and ${u.rawUrl} at ${u.fetchedAt} (${u.file})` : '; no update (pyc-audit magic --update)';
  return `${base}${update}${p.magicTable ? `; --magic-table ${p.magicTable}` : ''}`;
}
