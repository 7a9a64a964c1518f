// A channel's own `python` builds, as its index lists them, and the one to learn each minor's
// final magic from: the newest final release of that minor (3.15.0, never 3.15.0rc1), a .conda
// before a .tar.bz2 of the same version (only its pkg tarball need be read). Records are offered
// one at a time, in any order (shards come concurrently), and the choice does not depend on the
// order. Memory is one record per minor. Pure.
import { parseArtifactName } from '../judge/package-info.js';

export interface PythonBuild {
  subdir: string;
  file: string;
  sha256: string | null;
  size: number | null;
  /** The release, "3.15.0". */
  version: string;
  /** Its minor, "3.15". */
  minor: string;
}

/** A minor the channel has no final python build of, and its newest pre-release build if any. */
export interface MissingPython {
  minor: string;
  prerelease: string | null;
}

const FINAL = /^(\d+)\.(\d+)\.(\d+)$/;
const PRERELEASE = /^(\d+)\.(\d+)(?:\.(\d+))?(a|b|rc|c)(\d+)$/;
const PHASE: Record<string, number> = { a: 0, b: 1, c: 2, rc: 2 };
/** Builds of the `python` name that are not CPython (conda-forge's PyPy and GraalPy variants). */
const OTHER_IMPLEMENTATION = /pypy|graalpy/i;

interface Ranked<T> {
  value: T;
  rank: (number | string)[];
}

/** Whether rank a sorts before rank b (numbers compared as numbers, strings as strings). */
function higher(a: (number | string)[], b: (number | string)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

/** A quick look first: every record of a channel passes here, and few are python's. */
export const mayBePython = (file: string, r: Record<string, unknown>) => (typeof r.name === 'string' ? r.name === 'python' : file.startsWith('python-'));

/** The python minor of a python build record ("3.15" for python 3.15.0), or null for another package. */
export function pythonBuildMinor(file: string, r: Record<string, unknown>): string | null {
  if (!mayBePython(file, r)) return null;
  const parsed = parseArtifactName(file);
  if ((text(r.name) ?? parsed.name) !== 'python') return null;
  const m = /^(\d+)\.(\d+)/.exec(text(r.version) ?? parsed.version ?? '');
  return m ? `${m[1]}.${Number(m[2])}` : null;
}

export class PythonBuilds {
  private readonly finals = new Map<string, Ranked<PythonBuild>>();
  private readonly prereleases = new Map<string, Ranked<string>>();

  /** A record of the channel (any name; only CPython `python` builds are kept), with its checksum and size as read. */
  offer(subdir: string, file: string, r: Record<string, unknown>, sha256: string | null, size: number | null): void {
    if (!mayBePython(file, r)) return;
    const parsed = parseArtifactName(file);
    if ((text(r.name) ?? parsed.name) !== 'python') return;
    const version = text(r.version) ?? parsed.version ?? '';
    const build = text(r.build) ?? parsed.build ?? '';
    if (OTHER_IMPLEMENTATION.test(build)) return;
    // Ties (the same release in two subdirs, or two builds of it) go to a fixed choice.
    const buildNumber = typeof r.build_number === 'number' && Number.isSafeInteger(r.build_number) ? r.build_number : 0;
    const tie = [file.endsWith('.conda') ? 1 : 0, buildNumber, subdir, file];
    const final = FINAL.exec(version);
    if (final) {
      const minor = `${final[1]}.${Number(final[2])}`;
      this.keep(this.finals, minor, { value: { subdir, file, sha256, size, version, minor }, rank: [Number(final[3]), ...tie] });
      return;
    }
    const pre = PRERELEASE.exec(version);
    if (pre) this.keep(this.prereleases, `${pre[1]}.${Number(pre[2])}`, { value: file, rank: [Number(pre[3] ?? 0), PHASE[pre[4]!]!, Number(pre[5]), ...tie] });
  }

  private keep<T>(into: Map<string, Ranked<T>>, minor: string, candidate: Ranked<T>): void {
    const have = into.get(minor);
    if (!have || higher(candidate.rank, have.rank)) into.set(minor, candidate);
  }

  /** Takes in another subdir's builds. */
  merge(other: PythonBuilds): void {
    for (const [minor, c] of other.finals) this.keep(this.finals, minor, c);
    for (const [minor, c] of other.prereleases) this.keep(this.prereleases, minor, c);
  }

  /** For the minors asked for (sorted): the build to learn each from, and those the channel has no final of. */
  choose(minors: Iterable<string>): { builds: PythonBuild[]; missing: MissingPython[] } {
    const builds: PythonBuild[] = [];
    const missing: MissingPython[] = [];
    for (const minor of [...new Set(minors)].sort(byVersion)) {
      const found = this.finals.get(minor);
      if (found) builds.push(found.value);
      else missing.push({ minor, prerelease: this.prereleases.get(minor)?.value ?? null });
    }
    return { builds, missing };
  }
}

/** "3.9" before "3.10". */
export function byVersion(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0]! - y[0]! || x[1]! - y[1]!;
}
