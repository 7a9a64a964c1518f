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
 * Whether a .py is an importable module that CPython would compile: under lib/pythonX.Y/ (site-
 * packages included) or Windows' Lib/, and not metadata (info/), a script or data elsewhere.
 */
export function isImportableSource(path: string): boolean {
  return /^(lib\/python\d\.\d+t?\/|Lib\/)/.test(path) && !/(^|\/)__pycache__\//.test(path);
}
