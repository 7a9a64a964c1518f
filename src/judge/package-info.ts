// What an artifact says about itself (info/index.json, its file name, its paths), and which
// Python it targets. Pure functions over what the source readers collected.

export interface PackageInfo {
  name: string | null;
  version: string | null;
  build: string | null;
  subdir: string | null;
  noarch: string | null;
  depends: string[];
}

export type ExpectedSource = 'option' | 'env-python' | 'python_abi' | 'python' | 'build-string' | 'lib-path' | 'cache-tag';

export interface Expected {
  /** Minor version, "3.14"; null when nothing says. */
  version: string | null;
  /** GraalPy only when --interpreter says so. */
  implementation: 'CPython' | 'PyPy' | 'GraalPy';
  /** Where the version came from. */
  from: ExpectedSource | null;
  /** Every clue found, in order of authority, for reports. */
  clues: { from: ExpectedSource; version: string; implementation: 'CPython' | 'PyPy' }[];
  /** Set when the clues name different versions. */
  conflict: string | null;
}

/** A metadata file's JSON object, or null when there is no file, or it is not JSON or not an object. */
function jsonObject(bytes: Buffer | undefined): Record<string, unknown> | null {
  if (!bytes) return null;
  try {
    const data: unknown = JSON.parse(bytes.toString('utf8'));
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function parseIndexJson(bytes: Buffer | undefined): PackageInfo {
  const d = jsonObject(bytes);
  if (!d) return { name: null, version: null, build: null, subdir: null, noarch: null, depends: [] };
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
  return {
    name: str(d.name),
    version: str(d.version),
    build: str(d.build),
    subdir: str(d.subdir),
    noarch: typeof d.noarch === 'string' ? d.noarch : d.noarch === true ? 'generic' : null,
    depends: Array.isArray(d.depends) ? d.depends.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** Where a build's recipe lives and the commit built: info/about.json's extra.remote_url and extra.sha. */
export interface Recipe {
  url: string;
  sha: string | null;
}

const RECIPE_URL = /^(?:https?:\/\/|ssh:\/\/|git@)[^\s\x00-\x1f\x7f]{1,2000}$/;
const COMMIT = /^[0-9a-f]{7,64}$/i;

/**
 * The recipe of a build from info/about.json: `extra.remote_url` (a feedstock's git URL, as
 * conda-smithy's build scripts pass it with --extra-meta) and `extra.sha` (the commit built), or
 * null when it has no remote_url, or one that is not a git URL. The URL loses a trailing `.git`
 * and `/`, so the two forms of one repository are one recipe.
 */
export function parseRecipe(bytes: Buffer | undefined): Recipe | null {
  const extra = jsonObject(bytes)?.extra;
  if (!extra || typeof extra !== 'object') return null;
  const { remote_url: url, sha } = extra as Record<string, unknown>;
  if (typeof url !== 'string' || !RECIPE_URL.test(url.trim())) return null;
  return { url: url.trim().replace(/\/+$/, '').replace(/\.git$/, ''), sha: typeof sha === 'string' && COMMIT.test(sha.trim()) ? sha.trim().toLowerCase() : null };
}

/** "name-version-build", as conda names a build, or null when one of the three is not known. */
export function packageId(pkg: Pick<PackageInfo, 'name' | 'version' | 'build'>): string | null {
  return pkg.name && pkg.version && pkg.build ? `${pkg.name}-${pkg.version}-${pkg.build}` : null;
}

/** A `name-version-build` split from the right (neither version nor build holds a `-`), or null. */
export function splitPackageId(id: string): { name: string; version: string; build: string } | null {
  const m = /^(.+)-([^-]+)-([^-]+)$/.exec(id);
  return m ? { name: m[1]!, version: m[2]!, build: m[3]! } : null;
}

/** name-version-build from a file name such as numpy-2.3.1-py314h1234_0.conda. */
export function parseArtifactName(fileName: string): Pick<PackageInfo, 'name' | 'version' | 'build'> {
  const base = /\.(conda|tar\.bz2)$/.test(fileName) ? fileName.replace(/\.(conda|tar\.bz2)$/, '') : '';
  return splitPackageId(base) ?? { name: null, version: null, build: null };
}

/** Clues from `depends`: python_abi 3.14.* *_cp314, python >=3.14,<3.15.0a0, python 3.14.* *_cpython. */
function dependsClues(depends: string[]): Expected['clues'] {
  const clues: Expected['clues'] = [];
  for (const dep of depends) {
    const [name, spec = '', build = ''] = dep.trim().split(/\s+/);
    if (name === 'python_abi') {
      const m = /^(\d+)\.(\d+)(\.\*)?$/.exec(spec);
      if (m) clues.push({ from: 'python_abi', version: `${m[1]}.${m[2]}`, implementation: /pypy/.test(build) ? 'PyPy' : 'CPython' });
    } else if (name === 'python') {
      const version = pythonSpecMinor(spec);
      if (version) clues.push({ from: 'python', version, implementation: /pypy/.test(build) ? 'PyPy' : 'CPython' });
    }
    // pypy3.9 packages also depend on python_abi ... *_pypy39_pp73, which is the clue used.
  }
  // python_abi is the more precise of the two whatever order depends lists them in.
  return clues.sort((a, b) => (a.from === 'python_abi' ? 0 : 1) - (b.from === 'python_abi' ? 0 : 1));
}

/** The Python minor a build's `depends` pins (python_abi first, then python), or null: noarch and non-Python builds. */
export function dependsPython(depends: string[]): string | null {
  return dependsClues(depends)[0]?.version ?? null;
}

/** The single minor a python version spec pins: "3.14.*", "3.14", ">=3.14,<3.15.0a0", "3.14.0rc2". */
export function pythonSpecMinor(spec: string): string | null {
  let m = /^(?:==)?(\d+)\.(\d+)(?:\.[\w*]+)*$/.exec(spec);
  if (m) return `${m[1]}.${m[2]}`;
  m = /^>=(\d+)\.(\d+)(?:\.\w+)*,<(\d+)\.(\d+)/.exec(spec);
  if (m && m[1] === m[3] && Number(m[4]) === Number(m[2]) + 1) return `${m[1]}.${m[2]}`;
  return null;
}

/** py314h1234_0 -> 3.14; py27_0 -> 2.7; py_0 / pyhd8ed1ab_0 (noarch) -> null. */
export function buildStringMinor(build: string | null): string | null {
  if (!build) return null;
  const m = /(?:^|_)py(\d)(\d{1,2})(?:[a-z_]|$)/.exec(build);
  return m ? `${m[1]}.${m[2]}` : null;
}

const LIB_PYTHON = /(?:^|\/)lib\/python(\d)\.(\d{1,2})t?\//;
const PYPY_LIB = /(?:^|\/)lib\/pypy(\d)\.(\d{1,2})\//;
const CACHE_TAG = /\.(cpython|pypy)-?(\d)(\d{1,2})(?:[-.][^/]*)?\.pyc$/;

export function pathMinor(path: string): { version: string; implementation: 'CPython' | 'PyPy' } | null {
  let m = LIB_PYTHON.exec(path);
  if (m) return { version: `${m[1]}.${m[2]}`, implementation: 'CPython' };
  m = PYPY_LIB.exec(path);
  if (m) return { version: `${m[1]}.${m[2]}`, implementation: 'PyPy' };
  return null;
}

/** The cache tag a PEP 3147 file name carries: x.cpython-314.pyc -> CPython 3.14 (x.cpython-314.opt-1.pyc too). */
export function cacheTag(path: string): { version: string; implementation: 'CPython' | 'PyPy'; tag: string } | null {
  const m = CACHE_TAG.exec(path);
  if (!m) return null;
  return { version: `${m[2]}.${m[3]}`, implementation: m[1] === 'pypy' ? 'PyPy' : 'CPython', tag: `${m[1]}-${m[2]}${m[3]}` };
}

function mostCommon<T extends { version: string }>(items: T[]): T | null {
  const counts = new Map<string, { item: T; n: number }>();
  for (const item of items) {
    const c = counts.get(item.version);
    if (c) c.n++;
    else counts.set(item.version, { item, n: 1 });
  }
  let best: { item: T; n: number } | null = null;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.item ?? null;
}

/**
 * The Python an artifact targets. Authority, highest first: --python, an environment's python, python_abi, python in
 * depends, the build string, lib/pythonX.Y/ in member paths, cache tags of the .pyc members.
 */
export function inferExpected(input: {
  option?: string | null;
  /** An environment's python, from conda-meta. */
  envPython?: string | null;
  info: PackageInfo;
  pycPaths: string[];
}): Expected {
  const clues: Expected['clues'] = [];
  if (input.option) clues.push({ from: 'option', version: input.option, implementation: 'CPython' });
  if (input.envPython) clues.push({ from: 'env-python', version: input.envPython, implementation: 'CPython' });
  clues.push(...dependsClues(input.info.depends));
  const fromBuild = buildStringMinor(input.info.build);
  if (fromBuild) clues.push({ from: 'build-string', version: fromBuild, implementation: 'CPython' });
  const fromPath = mostCommon(input.pycPaths.map(pathMinor).filter((x): x is NonNullable<typeof x> => !!x));
  if (fromPath) clues.push({ from: 'lib-path', version: fromPath.version, implementation: fromPath.implementation });
  const fromTag = mostCommon(input.pycPaths.map(cacheTag).filter((x): x is NonNullable<typeof x> => !!x));
  if (fromTag) clues.push({ from: 'cache-tag', version: fromTag.version, implementation: fromTag.implementation });

  const first = clues[0];
  if (!first) return { version: null, implementation: 'CPython', from: null, clues, conflict: null };
  // PyPy is named by python_abi's build string; a later clue may say so when the first does not.
  const implementation = clues.some((c) => c.implementation === 'PyPy') ? 'PyPy' : 'CPython';
  const others = clues.filter((c) => c.version !== first.version);
  const conflict = others.length
    ? `${describeClue(first)} but ${others.map(describeClue).join(', ')}`
    : null;
  return { version: first.version, implementation, from: first.from, clues, conflict };
}

export function describeClue(c: { from: ExpectedSource; version: string }): string {
  const where: Record<ExpectedSource, string> = {
    option: '--python',
    'env-python': "the environment's python (conda-meta)",
    python_abi: 'python_abi in index.json',
    python: 'python in index.json depends',
    'build-string': 'the build string',
    'lib-path': 'lib/python paths',
    'cache-tag': 'cache tags',
  };
  // Plural subjects: "cache tags say", "lib/python paths say".
  return `${where[c.from]} ${c.from === 'cache-tag' || c.from === 'lib-path' ? 'say' : 'says'} ${c.version}`;
}
