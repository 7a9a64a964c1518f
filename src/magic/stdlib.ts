// The magic an interpreter writes, learned without running it: a conda `python` package (or an
// environment's python) carries its standard library's bytecode, compiled by that interpreter
// at build time: lib/python3.15/__pycache__/os.cpython-315.pyc holds the magic 3.15 loads. Pure.
import type { TargetMagic } from './table.js';

/** A .pyc as the readers collect it: its path in the artifact and its first bytes. */
export interface PycHead {
  path: string;
  head: Buffer;
}

export interface StdlibMagic {
  magic: number;
  implementation: 'CPython' | 'PyPy';
  /** Minor version, "3.15". */
  version: string;
  /** How many stdlib .pyc say so, and one of them, for the record. */
  count: number;
  example: string;
}

// The standard library's own __pycache__ (not site-packages below it), with a cache tag of the
// same minor: lib/python3.15/__pycache__/x.cpython-315.pyc, lib/python3.14t/… (free-threaded),
// Lib/__pycache__/x.cpython-315.pyc (Windows), lib/pypy3.9/__pycache__/x.pypy39.pyc.
const STDLIB = /(?:^|\/)(?:lib\/python(\d)\.(\d{1,2})t?|Lib)\/__pycache__\/[^/]+\.cpython-(\d)(\d{1,2})t?(?:\.opt-\d)?\.pyc$/;
const PYPY_STDLIB = /(?:^|\/)lib\/pypy(\d)\.(\d{1,2})\/__pycache__\/[^/]+\.pypy(\d)(\d{1,2})(?:\.opt-\d)?\.pyc$/;

function stdlibVersion(path: string): { version: string; implementation: 'CPython' | 'PyPy' } | null {
  let m = STDLIB.exec(path);
  if (m) {
    if (m[1] !== undefined && (m[1] !== m[3] || m[2] !== m[4])) return null;
    return { version: `${m[3]}.${Number(m[4])}`, implementation: 'CPython' };
  }
  m = PYPY_STDLIB.exec(path);
  if (m && m[1] === m[3] && m[2] === m[4]) return { version: `${m[1]}.${Number(m[2])}`, implementation: 'PyPy' };
  return null;
}

/**
 * The magic the standard library's bytecode carries: the most common one among the stdlib .pyc
 * of the most represented minor, or null when there are none (a python package built without
 * bytecode, an environment whose python is not conda's).
 */
export function stdlibMagic(pyc: Iterable<PycHead>): StdlibMagic | null {
  const counts = new Map<string, { version: string; implementation: 'CPython' | 'PyPy'; magic: number; count: number; example: string }>();
  const perVersion = new Map<string, number>();
  for (const p of pyc) {
    if (p.head.length < 4 || p.head[2] !== 0x0d || p.head[3] !== 0x0a) continue;
    const where = stdlibVersion(p.path);
    if (!where) continue;
    const magic = p.head.readUInt16LE(0);
    const key = `${where.implementation}\0${where.version}\0${magic}`;
    const c = counts.get(key);
    if (c) c.count++;
    else counts.set(key, { ...where, magic, count: 1, example: p.path });
    const vkey = `${where.implementation}\0${where.version}`;
    perVersion.set(vkey, (perVersion.get(vkey) ?? 0) + 1);
  }
  let best: StdlibMagic | null = null;
  let bestVersionCount = 0;
  for (const c of counts.values()) {
    const n = perVersion.get(`${c.implementation}\0${c.version}`)!;
    if (!best || n > bestVersionCount || (n === bestVersionCount && c.count > best.count)) {
      best = c;
      bestVersionCount = n;
    }
  }
  return best;
}

/** The table row a learned magic becomes: the expected final magic of its minor. */
export function stdlibTarget(learned: StdlibMagic, from: string): TargetMagic {
  return {
    magic: learned.magic,
    implementation: learned.implementation,
    version: learned.version,
    releases: `${learned.implementation === 'CPython' ? '' : `${learned.implementation} `}${learned.version} (${from})`,
    source: `${from}: ${learned.count} standard-library .pyc, e.g. ${learned.example}`,
  };
}

/** A conda `python` package: python-3.15.0-h1234_0_cpython.conda (not python-dateutil-…). */
export function isPythonPackageName(fileName: string): boolean {
  return /^python-\d+\.\d+[^-]*-[^-]+(?:\.conda|\.tar\.bz2)?$/.test(fileName);
}
