// What a path on the command line stands for. A file is one artifact (a .pyc is judged with the
// source beside it on disk). A folder is, in order: a conda environment (conda-meta/), an
// extracted package (info/index.json), a package cache (archives and extracted folders side by
// side), a local channel or build output (platform subfolders such as linux-64/ and noarch/ that
// hold archives), a collection (subfolders that are caches or channels, the rest walked as a
// tree), or any other tree, walked for .pyc files (a __pycache__ folder with its sources beside it).
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ArtifactOrigin } from '../../channel/repodata.js';
import { redactUrls } from '../access/redact.js';
import { notRegularReason } from '../access/regular-file.js';

export interface Target {
  path: string;
  kind: 'file' | 'pyc' | 'folder' | 'env' | 'dir' | 'stdin' | 'url' | 'unreadable';
  /** kind 'unreadable': why a folder's entry named as an artifact is not read (a link, a FIFO); it is reported as an error. */
  reason?: string;
  /** A package cache's archives of the same name as this extracted folder (.conda and .tar.bz2 may both be there). */
  pairedArchives?: string[];
  /** A part of a tree or environment read on its own (see packageParts): where the whole starts, and which part. */
  part?: TreePart;
  /** In a channel run: the artifact's place in the channel (and its shard). */
  origin?: ArtifactOrigin;
  /** Its size in bytes when known before reading (repodata), for the progress line. */
  size?: number;
  /** The command-line path it came from (a folder stands for many targets). */
  input?: string;
  /** kind 'url': the URL to request, credentials and token included; `path` is it as shown (redact.ts). */
  url?: string;
}

export interface TreePart {
  /** The tree or environment the member paths are relative to. */
  root: string;
  /** The one folder to read, relative to root ("lib/python3.14/site-packages/numpy"); absent: the rest. */
  only?: string;
  /** Folders the rest leaves out (those read as parts of their own). */
  skip?: string[];
}

const ARCHIVE = /\.(conda|tar\.bz2|whl)$/;
/** conda's platform subfolders: noarch, linux-64, osx-arm64, win-64, emscripten-wasm32, … */
const PLATFORM_SUBDIR = /^(noarch|(linux|osx|win|freebsd|emscripten|wasi|zos)-[a-z0-9_]+)$/;
/**
 * Folders of a base installation (miniforge3/, anaconda3/) that are not the environment's own
 * files: the package cache, the other environments, conda-build's work area. An environment's walk
 * leaves them out; the environments under envs/ are audited as environments of their own.
 */
const NOT_ENV_FILES = ['pkgs', 'envs', 'conda-bld'];
const PYTHON_LIB = /^(python\d\.\d+t?|pypy\d\.\d+)$/;

function subdirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/**
 * A tree or environment read one installed package at a time, so memory follows the largest
 * package, not the tree: every folder in a site-packages (lib/pythonX.Y/site-packages, or the
 * tree itself when it is one) is a part, and the rest (the standard library, scripts, top-level
 * modules) another. Only the few folders down to site-packages are listed here; the parts are
 * walked when read. A tree with no site-packages is one part.
 */
function packageParts(path: string, kind: 'env' | 'dir'): Target[] {
  const sites: string[] = [];
  if (basename(resolve(path)) === 'site-packages') sites.push('');
  else for (const lib of subdirs(join(path, 'lib')).filter((d) => PYTHON_LIB.test(d))) if (isDir(join(path, 'lib', lib, 'site-packages'))) sites.push(`lib/${lib}/site-packages`);
  // A *.dist-info or *.egg-info folder is metadata, not a package of its own: it stays in the rest.
  const only = sites.flatMap((site) => subdirs(join(path, ...site.split('/').filter(Boolean))).filter((d) => d !== '__pycache__' && !/\.(dist|egg)-info$/.test(d)).map((d) => (site ? `${site}/${d}` : d)));
  const outside = kind === 'env' ? NOT_ENV_FILES.filter((d) => isDir(join(path, d))) : [];
  if (!only.length && !outside.length) return [{ path, kind }];
  return [
    { path, kind, part: { root: path, skip: [...only, ...outside] } },
    ...only.map((rel): Target => ({ path: join(path, ...rel.split('/')), kind, part: { root: path, only: rel } })),
    ...(outside.includes('envs') ? nestedEnvironments(join(path, 'envs')) : []),
  ];
}

/** The environments in a base installation's envs/ folder, each read as an environment. */
function nestedEnvironments(envs: string): Target[] {
  return subdirs(envs)
    .filter((name) => isDir(join(envs, name, 'conda-meta')))
    .flatMap((name) => packageParts(join(envs, name), 'env'));
}

/**
 * The folder as a local channel or a build's output (conda-bld/, build_artifacts/, output/): its
 * platform subfolders that hold packages, each read as a package cache. Null when it has none.
 */
function channelTargets(dir: string): Target[] | null {
  const targets = subdirs(dir)
    .filter((name) => PLATFORM_SUBDIR.test(name))
    .flatMap((name) => cacheTargets(join(dir, name)) ?? []);
  return targets.length ? targets : null;
}

/**
 * The folder as a collection (CI artifacts downloaded one folder per job, a folder of channels):
 * its subfolders that are package caches or local channels are read as such, and the rest of the
 * folder walked as a tree. Null when no subfolder is either: the folder is a tree.
 */
function collectionTargets(dir: string): Target[] | null {
  const held = subdirs(dir).map((name) => [name, cacheTargets(join(dir, name)) ?? channelTargets(join(dir, name))] as const);
  const packages = held.filter((h): h is readonly [string, Target[]] => h[1] !== null);
  if (!packages.length) return null;
  return [{ path: dir, kind: 'dir', part: { root: dir, skip: packages.map(([name]) => name) } }, ...packages.flatMap(([, targets]) => targets)];
}

/** Whether path leads to a folder; a path that cannot be followed (a loop of links) is no folder, and is reported when opened. */
function isDir(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Whether something is at path: a FIFO or link where info/index.json should be is still an extracted package, reported as unreadable. */
function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

function notAnArtifactFile(entry: Dirent): string {
  return entry.isSymbolicLink() ? 'a symbolic link, not followed in a folder (give its path to audit what it points to)' : notRegularReason(entry);
}

/**
 * The folder as a package cache: its archives and extracted package folders, one target each. An
 * archive and the folder extracted from it are one package: the folder is read (no
 * decompression), each archive of its name (.conda and .tar.bz2 alike) only compared with it.
 */
function cacheTargets(dir: string): Target[] | null {
  const archives = new Map<string, string[]>();
  const folders: string[] = [];
  const targets: Target[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isFile() && ARCHIVE.test(entry.name)) {
      const name = entry.name.replace(ARCHIVE, '');
      archives.set(name, [...(archives.get(name) ?? []), full]);
    } else if (entry.isDirectory() && exists(join(full, 'info', 'index.json'))) folders.push(entry.name);
    // Named as an artifact but no regular file: a link is not followed, a FIFO not waited on, and
    // neither is passed over in silence (a linked stale artifact in build_artifacts/ must not pass).
    else if (!entry.isDirectory() && ARCHIVE.test(entry.name)) targets.push({ path: full, kind: 'unreadable', reason: notAnArtifactFile(entry) });
  }
  if (!archives.size && !folders.length && !targets.length) return null;
  for (const name of folders) {
    const paired = archives.get(name)?.sort();
    archives.delete(name);
    targets.push({ path: join(dir, name), kind: 'folder', ...(paired ? { pairedArchives: paired } : {}) });
  }
  for (const paths of archives.values()) for (const path of paths) targets.push({ path, kind: 'file' });
  return targets.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function expandPath(path: string): Promise<Target[]> {
  if (path === '-') return [{ path, kind: 'stdin' }];
  if (/^https?:\/\//i.test(path)) return [{ path: redactUrls(path), url: path, kind: 'url' }];
  if (!isDir(path)) return [{ path, kind: path.endsWith('.pyc') ? 'pyc' : 'file' }];
  if (isDir(join(path, 'conda-meta'))) return packageParts(path, 'env');
  if (exists(join(path, 'info', 'index.json'))) return [{ path, kind: 'folder' }];
  try {
    if (basename(resolve(path)) === '__pycache__') return cacheTargets(path) ?? [{ path, kind: 'dir' }];
    return cacheTargets(path) ?? channelTargets(path) ?? collectionTargets(path) ?? packageParts(path, 'dir');
  } catch {
    return [{ path, kind: 'dir' }]; // unreadable: the folder reader says why
  }
}

/** Every target of every path, in the order given. */
export async function expandPaths(paths: string[]): Promise<Target[]> {
  return (await Promise.all(paths.map(async (input) => (await expandPath(input)).map((t) => ({ ...t, input }))))).flat();
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
  for (const p of [...new Set(candidates)]) if (isDir(p)) found.push(p);
  return found;
}
