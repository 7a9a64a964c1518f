// What a path on the command line stands for. A file is one artifact. A folder is, in order:
// a conda environment (conda-meta/), an extracted package (info/index.json), a package cache
// (archives and extracted folders side by side), or any other tree, walked for .pyc files.
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactOrigin } from '../channel/repodata.js';

export interface Target {
  path: string;
  kind: 'file' | 'folder' | 'env' | 'dir' | 'stdin' | 'url';
  /** A package cache's archive of the same name as this extracted folder. */
  pairedArchive?: string;
  /** In a channel run: the artifact's place in the channel (and its shard). */
  origin?: ArtifactOrigin;
  /** Its size in bytes when known before reading (repodata), for the progress line. */
  size?: number;
}

const ARCHIVE = /\.(conda|tar\.bz2|whl)$/;

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The folder as a package cache: its archives and extracted package folders, one target each. */
async function cacheTargets(dir: string): Promise<Target[] | null> {
  const archives = new Map<string, string>();
  const folders: string[] = [];
  const handle = await opendir(dir);
  for await (const entry of handle) {
    const full = join(dir, entry.name);
    if (entry.isFile() && ARCHIVE.test(entry.name)) archives.set(entry.name.replace(ARCHIVE, ''), full);
    else if (entry.isDirectory() && (await isFile(join(full, 'info', 'index.json')))) folders.push(entry.name);
  }
  if (!archives.size && !folders.length) return null;
  const targets: Target[] = [];
  // An archive and the folder extracted from it are one package: the folder is read (no
  // decompression), the archive only compared with it.
  for (const name of folders) {
    const archive = archives.get(name);
    archives.delete(name);
    targets.push({ path: join(dir, name), kind: 'folder', ...(archive ? { pairedArchive: archive } : {}) });
  }
  for (const path of archives.values()) targets.push({ path, kind: 'file' });
  return targets.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function expandPath(path: string): Promise<Target[]> {
  if (path === '-') return [{ path, kind: 'stdin' }];
  if (/^https?:\/\//i.test(path)) return [{ path, kind: 'url' }];
  if (!(await isDir(path))) return [{ path, kind: 'file' }];
  if (await isDir(join(path, 'conda-meta'))) return [{ path, kind: 'env' }];
  if (await isFile(join(path, 'info', 'index.json'))) return [{ path, kind: 'folder' }];
  try {
    return (await cacheTargets(path)) ?? [{ path, kind: 'dir' }];
  } catch {
    return [{ path, kind: 'dir' }]; // unreadable: the folder reader says why
  }
}

/** Every target of every path, in the order given. */
export async function expandPaths(paths: string[]): Promise<Target[]> {
  return (await Promise.all(paths.map(expandPath))).flat();
}

/** The package caches conda, mamba, micromamba and pixi use on this machine, that exist. */
export async function findPackageCaches(env: NodeJS.ProcessEnv = process.env, home = env.HOME ?? env.USERPROFILE ?? ''): Promise<string[]> {
  const candidates = [
    ...(env.CONDA_PKGS_DIRS ? env.CONDA_PKGS_DIRS.split(/[,:;]/) : []),
    env.MAMBA_ROOT_PREFIX && join(env.MAMBA_ROOT_PREFIX, 'pkgs'),
    env.CONDA_PREFIX && join(env.CONDA_PREFIX, 'pkgs'),
    ...['miniforge3', 'mambaforge', 'miniconda3', 'anaconda3', 'micromamba', '.conda'].map((d) => join(home, d, 'pkgs')),
    env.PIXI_CACHE_DIR && join(env.PIXI_CACHE_DIR, 'pkgs'),
    env.RATTLER_CACHE_DIR && join(env.RATTLER_CACHE_DIR, 'pkgs'),
    join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'rattler', 'cache', 'pkgs'),
    join(home, 'Library', 'Caches', 'rattler', 'cache', 'pkgs'),
  ].filter((p): p is string => !!p);
  const found: string[] = [];
  for (const p of [...new Set(candidates)]) if (await isDir(p)) found.push(p);
  return found;
}
