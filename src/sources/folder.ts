// Folders on disk: an extracted conda package (info/index.json), a conda environment
// (conda-meta/), or any other tree (a site-packages, a build prefix). The walk never follows a
// symbolic link (so a link loop cannot trap it), reads 16 bytes of each .pyc with a bounded number
// of files open at once, and reports an unreadable entry instead of stopping.
import { open, opendir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import { HEADER_BYTES } from '../header.js';
import { isPycPath } from './tar-members.js';
import { emptyEntries, type ArtifactEntries } from './types.js';

/** Files open at once while reading .pyc heads: far below any ulimit, enough to keep the disk busy. */
const OPEN_FILES = 32;
const METADATA_LIMIT = 4 << 20;

export interface WalkResult {
  /** Paths relative to the root, with "/" separators. */
  pyc: string[];
  unreadable: string[];
}

/** Every .pyc below `root`, without following symbolic links. */
export async function walkPyc(root: string): Promise<WalkResult> {
  const pyc: string[] = [];
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
      else if (entry.isFile() && isPycPath(entry.name)) pyc.push(rel(root, full));
    }
  }
  pyc.sort();
  return { pyc, unreadable };
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

/** Reads the .pyc heads (and the small metadata) of a folder as one artifact. */
export async function readFolder(root: string, kind: 'folder' | 'env' | 'dir'): Promise<ArtifactEntries> {
  const entries = emptyEntries(kind);
  const { pyc, unreadable } = await walkPyc(root);
  const limit = pLimit(OPEN_FILES);
  const heads = await Promise.all(
    pyc.map((p) =>
      limit(async () => {
        try {
          return { path: p, ...(await readHead(join(root, p))) };
        } catch (err) {
          unreadable.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          return null;
        }
      }),
    ),
  );
  for (const h of heads) if (h) entries.pyc.push(h);
  entries.unreadable = unreadable;
  for (const meta of ['info/index.json']) {
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
      if (size > METADATA_LIMIT) return null;
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
