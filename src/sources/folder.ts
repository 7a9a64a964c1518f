// Folders on disk: an extracted conda package (info/index.json), a conda environment
// (conda-meta/), or any other tree (a site-packages, a build prefix). The walk never follows a
// symbolic link (so a link loop cannot trap it), reads 16 bytes of each .pyc with a bounded number
// of files open at once, and reports an unreadable entry instead of stopping.
import { createReadStream } from 'node:fs';
import { open, opendir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import { HEADER_BYTES } from '../header.js';
import { isPycPath, metadataLimit, MemberCollector, SourceHashes } from './tar-members.js';
import { emptyEntries, type ArtifactEntries } from './types.js';

/** Files open at once while reading .pyc heads: far below any ulimit, enough to keep the disk busy. */
const OPEN_FILES = 32;

export interface WalkResult {
  /** Paths relative to the root, with "/" separators. */
  pyc: string[];
  /** .py files, same form. */
  sources: string[];
  /** .pyo files, same form. */
  pyo: string[];
  unreadable: string[];
}

/** Every .pyc, .py and .pyo below `root`, without following symbolic links. */
export async function walkPyc(root: string): Promise<WalkResult> {
  const pyc: string[] = [];
  const sources: string[] = [];
  const pyo: string[] = [];
  const unreadable: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      unreadable.push(`${rel(root, dir) || '.'}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    for await (const entry of handle) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (!entry.isFile()) continue;
      else if (isPycPath(entry.name)) pyc.push(rel(root, full));
      else if (entry.name.endsWith('.py')) sources.push(rel(root, full));
      else if (entry.name.endsWith('.pyo')) pyo.push(rel(root, full));
    }
  }
  pyc.sort();
  sources.sort();
  pyo.sort();
  return { pyc, sources, pyo, unreadable };
}

function rel(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

async function readHead(path: string): Promise<{ head: Buffer; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(HEADER_BYTES, size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { head: head.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

/** A whole file through the source hashers. */
async function hashFile(path: string, magics: Iterable<number>): Promise<Map<string, string>> {
  const hashes = new SourceHashes(magics);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 })) hashes.update(chunk as Buffer);
  return hashes.digests();
}

/**
 * Reads the .pyc heads, .py records (size and mtime, and the hash a checked-hash .pyc needs) and
 * the small metadata of a folder as one artifact. Files can be read in any order, so sources are
 * hashed after every .pyc head is known: a folder never needs the second read an archive may.
 */
export async function readFolder(root: string, kind: 'folder' | 'env' | 'dir'): Promise<ArtifactEntries> {
  const entries = emptyEntries(kind);
  const collector = new MemberCollector(entries);
  const walk = await walkPyc(root);
  const { unreadable } = walk;
  const limit = pLimit(OPEN_FILES);
  const attempt = <T>(p: string, read: () => Promise<T>) =>
    limit(async () => {
      try {
        return await read();
      } catch (err) {
        unreadable.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        return null;
      }
    });
  const heads = await Promise.all(walk.pyc.map((p) => attempt(p, async () => ({ path: p, ...(await readHead(join(root, p))) }))));
  for (const h of heads) if (h) collector.addPyc(h.path, h.size, h.head);
  const toHash = collector.sourcesToHash();
  const sources = await Promise.all(
    walk.sources.map((p) =>
      attempt(p, async () => {
        const info = await stat(join(root, p));
        const magics = toHash.get(p);
        const hashes = magics ? await hashFile(join(root, p), magics) : undefined;
        return { path: p, size: info.size, mtime: Math.trunc(info.mtimeMs / 1000), ...(hashes ? { hashes } : {}) };
      }),
    ),
  );
  for (const s of sources) if (s) collector.addSource(s);
  entries.pyo = walk.pyo;
  entries.unreadable = unreadable;
  for (const meta of ['info/index.json', 'info/paths.json']) {
    const bytes = await readSmall(join(root, meta));
    if (bytes) entries.metadata.set(meta, bytes);
  }
  if (kind === 'env') {
    const meta = await readCondaMeta(root);
    entries.owners = meta.owners;
    entries.envPython = meta.python;
  }
  return entries;
}

async function readSmall(path: string): Promise<Buffer | null> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > metadataLimit(path.split(sep).slice(-2).join('/'))) return null;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** Which installed package owns each file of an environment, and its python, from conda-meta/*.json. */
export async function readCondaMeta(prefix: string): Promise<{ owners: Map<string, string>; python: string | null }> {
  const owners = new Map<string, string>();
  let python: string | null = null;
  let dir;
  try {
    dir = await opendir(join(prefix, 'conda-meta'));
  } catch {
    return { owners, python };
  }
  for await (const entry of dir) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    let record: { name?: unknown; version?: unknown; build?: unknown; files?: unknown; paths_data?: { paths?: { _path?: unknown }[] } };
    try {
      record = JSON.parse(await readFile(join(prefix, 'conda-meta', entry.name), 'utf8'));
    } catch {
      continue; // a half-written record is not an owner
    }
    if (record.name === 'python' && typeof record.version === 'string') {
      const m = /^(\d+)\.(\d+)/.exec(record.version);
      if (m) python = `${m[1]}.${m[2]}`;
    }
    const id = [record.name, record.version, record.build].filter((x) => typeof x === 'string').join('-') || entry.name.replace(/\.json$/, '');
    const files = Array.isArray(record.files) ? record.files : [];
    const fromPaths = Array.isArray(record.paths_data?.paths) ? record.paths_data!.paths!.map((p) => p._path) : [];
    for (const f of [...files, ...fromPaths]) if (typeof f === 'string') owners.set(f, id);
  }
  return { owners, python };
}
