// Where CPython looks for a module's bytecode, and which source a .pyc belongs to. Pure.
//
//   PEP 3147 (3.2+)  pkg/__pycache__/mod.cpython-314.pyc, mod.cpython-314.opt-1.pyc, mod.pypy310.pyc
//                    used only when pkg/mod.py exists; a sourceless one is never loaded
//   legacy           pkg/mod.pyc beside pkg/mod.py: Python 2 and 3.0-3.1 load it; 3.2+ ignore it
//                    when the source exists and load it as a sourceless module when it does not

// The name is matched lazily so that an .opt-N suffix is not taken for the tag, and a name with
// dots (a launch file, audio_vad.launch.cpython-312.pyc) still leaves the last segment as the tag.
const PEP3147 = /^(.*\/)?__pycache__\/([^/]+?)\.([^./]+?)(\.opt-\d+)?\.pyc$/;

export interface PycLocation {
  /** The .py this .pyc is compiled from, by name. */
  source: string;
  /** In a __pycache__ folder (PEP 3147) or beside its source (legacy). */
  layout: 'pep3147' | 'legacy';
  /** "cpython-314" for PEP 3147 names; null for legacy ones. */
  tag: string | null;
  /** 0 for a plain .pyc, 1 or 2 for .opt-1/.opt-2 (python -O/-OO). */
  optimization: number;
}

export function pycLocation(path: string): PycLocation {
  const m = PEP3147.exec(path);
  if (m) return { source: `${m[1] ?? ''}${m[2]}.py`, layout: 'pep3147', tag: m[3]!, optimization: m[4] ? Number(m[4].slice(5)) : 0 };
  return { source: path.replace(/\.pyc$/, '.py'), layout: 'legacy', tag: null, optimization: 0 };
}

/** The cache tag a Python writes: cpython-314, pypy310. */
export function cacheTagFor(version: string, implementation: string): string {
  const [major, minor] = version.split('.');
  return implementation === 'PyPy' ? `pypy${major}${minor}` : `cpython-${major}${minor}`;
}

/** Whether a Python loads a legacy-location .pyc while its source sits beside it (2.x and 3.0-3.1). */
export function usesLegacyLayout(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major! < 3 || (major === 3 && minor! < 2);
}

/**
 * Where an installed Python imports from, in a conda package or prefix: lib/pythonX.Y/ (the standard
 * library, lib-dynload and site-packages; X.Yt for free-threaded builds), lib/pypyX.Y/ (PyPy's
 * standard library), Lib/ (Windows builds: the standard library and Lib/site-packages), and
 * site-packages/ at the top (noarch: python packages, placed in site-packages at install).
 */
const CONDA_IMPORT_ROOTS = /^(lib\/python\d\.\d+t?\/|lib\/pypy\d\.\d+\/|Lib\/|site-packages\/)/;

/** A wheel installs everything into site-packages except its .data/ scripts, data and headers. */
const WHEEL_NOT_IMPORTED = /^[^/]+\.data\/(scripts|data|headers)\//;

/**
 * Whether a member sits where import reads bytecode. Outside (bin/, the prefix root, share/, a
 * wheel's .data/scripts/), a .pyc is at most run by path (python x.pyc), never found by import.
 * Conda packages, prefixes and wheels have a known layout; any other tree, tarball or loose file
 * is taken as importable wherever a member is.
 */
export function inImportLocation(path: string, kind: string): boolean {
  if (kind === 'conda' || kind === 'tar.bz2' || kind === 'folder' || kind === 'env') return CONDA_IMPORT_ROOTS.test(path);
  if (kind === 'whl') return !WHEEL_NOT_IMPORTED.test(path);
  return true;
}

/**
 * Whether a .py is an importable module that CPython would compile: in an import location of a
 * conda prefix (above), and not metadata (info/), a script or data elsewhere.
 */
export function isImportableSource(path: string): boolean {
  return CONDA_IMPORT_ROOTS.test(path) && !path.startsWith('site-packages/') && !/(^|\/)__pycache__\//.test(path);
}
