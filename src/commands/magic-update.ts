// `pyc-audit magic --update`: read CPython's release list and, for each release newer than the
// built-in table, the tagged file that defines its magic; write what they say to the user's cache
// folder, atomically. Every request has a deadline and a size bound; any answer that is not what the
// documented layout promises (src/magic/update.ts) fails the update and leaves the previous file.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CPYTHON_SOURCE } from '../magic/cpython-history.js';
import {
  DEFAULT_RAW_URL, DEFAULT_TAGS_URL, MAX_NEW_RELEASES, MagicUpdateError, UPDATE_FORMAT, magicFileFor, newReleases, parseMagicSource, parseTagsPage, serializeUpdate,
  type MagicUpdate, type UpdateRelease,
} from '../magic/update.js';
import { UsageError } from '../run/exit.js';
import { updateFilePath } from '../run/load-table.js';
import { VERSION } from '../version.js';

export interface UpdateOptions {
  tagsUrl?: string;
  rawUrl?: string;
  /** Seconds each request may take in all (connection, answer and body). */
  timeout: number;
  env?: NodeJS.ProcessEnv;
  /** Progress lines (stderr). */
  say: (line: string) => void;
}

const TAGS_PAGE_MAX_BYTES = 4 << 20;
const SOURCE_MAX_BYTES = 1 << 20;
const PER_PAGE = 100;
/** GitHub lists about 700 CPython tags: 50 pages of 100 is far more than the list can be. */
const MAX_PAGES = 50;

/** A base URL: https, or http to this machine only (a test server, a local mirror). No trailing slash. */
export function baseUrl(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${what} ${value}: not a URL`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && local)) throw new UsageError(`${what} ${value}: must be https:// (http:// only to 127.0.0.1, localhost or [::1])`);
  if (u.search || u.hash) throw new UsageError(`${what} ${value}: a base URL has no query or fragment`);
  return u.href.replace(/\/+$/, '');
}

/** One GET: the body as text, within `timeout` seconds in all and `maxBytes`. Anything but 200 is an error. */
async function getText(url: string, timeout: number, maxBytes: number): Promise<string> {
  const signal = AbortSignal.timeout(timeout * 1000);
  try {
    const res = await fetch(url, { signal, redirect: 'follow', headers: { 'user-agent': `pyc-audit/${VERSION}`, accept: 'application/vnd.github+json, text/plain;q=0.9, */*;q=0.1' } });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new MagicUpdateError(`${url}: HTTP ${res.status}${res.status === 404 ? ' (not found)' : ''}`);
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (length > maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new MagicUpdateError(`${url}: ${length} bytes, more than the ${maxBytes} allowed`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > maxBytes) throw new MagicUpdateError(`${url}: more than the ${maxBytes} bytes allowed`);
        chunks.push(chunk);
      }
    }
    const bytes = Buffer.concat(chunks);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new MagicUpdateError(`${url}: not UTF-8 text`);
    }
  } catch (err) {
    if (err instanceof MagicUpdateError) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || signal.aborted) throw new MagicUpdateError(`${url}: no complete answer within ${timeout} s`);
    throw new MagicUpdateError(`${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
}

/** Every tag name of the release list, page by page until a short page. */
async function listTags(tagsUrl: string, timeout: number): Promise<string[]> {
  const names: string[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = `${tagsUrl}/repos/python/cpython/tags?per_page=${PER_PAGE}&page=${page}`;
    const got = parseTagsPage(await getText(url, timeout, TAGS_PAGE_MAX_BYTES), url);
    names.push(...got);
    if (got.length < PER_PAGE) return names;
  }
  throw new MagicUpdateError(`${tagsUrl}: more than ${MAX_PAGES} pages of tags: not CPython's release list`);
}

/** Writes `text` to `path` so that a reader sees the old file or the new one, never a part. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, text, { flag: 'wx', mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function runMagicUpdate(o: UpdateOptions): Promise<{ update: MagicUpdate; path: string }> {
  const env = o.env ?? process.env;
  const tagsUrl = baseUrl(o.tagsUrl ?? env.PYC_AUDIT_TAGS_URL ?? DEFAULT_TAGS_URL, '--tags-url');
  const rawUrl = baseUrl(o.rawUrl ?? env.PYC_AUDIT_RAW_URL ?? DEFAULT_RAW_URL, '--raw-url');
  const path = updateFilePath(env);
  if (!path) throw new UsageError('no cache folder: set XDG_CACHE_HOME or HOME');
  const fetchedAt = new Date().toISOString();
  const tags = await listTags(tagsUrl, o.timeout);
  const fresh = newReleases(tags);
  if (fresh.length > MAX_NEW_RELEASES) throw new MagicUpdateError(`${tagsUrl}: ${fresh.length} releases after ${CPYTHON_SOURCE.newestTag}: more than ${MAX_NEW_RELEASES}, not CPython's release list`);
  o.say(`pyc-audit: ${tags.length} tags listed; ${fresh.length} release${fresh.length === 1 ? '' : 's'} after the built-in table's ${CPYTHON_SOURCE.newestTag}`);
  const releases: UpdateRelease[] = [];
  for (const r of fresh) {
    const file = magicFileFor(r.version);
    const url = `${rawUrl}/python/cpython/${encodeURIComponent(r.tag)}/${file}`;
    let found: { magic: number; line: number };
    try {
      found = parseMagicSource(file, await getText(url, o.timeout, SOURCE_MAX_BYTES));
    } catch (err) {
      // Named by the release: a listed release whose tagged file is not there (404) is a tag the
      // raw host does not have; a file without its one defining line, a changed format.
      const msg = (err as Error).message;
      throw new MagicUpdateError(`${r.tag}: ${msg.startsWith(file) ? `${url}${msg.slice(file.length)}` : msg}`);
    }
    releases.push({ tag: r.tag, version: r.version, magic: found.magic, file, line: found.line });
    o.say(`pyc-audit: ${r.label}: ${found.magic} (${file}:${found.line})`);
  }
  const update: MagicUpdate = { format: UPDATE_FORMAT, fetchedAt, tagsUrl, rawUrl, tagsListed: tags.length, after: CPYTHON_SOURCE.newestTag, releases };
  await writeAtomically(path, serializeUpdate(update));
  return { update, path };
}
