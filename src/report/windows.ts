// When the failing bytecode of a channel was built: per magic number found in failing .pyc, how
// many artifacts carry it and the first and last build time of those (repodata's timestamps). An
// incident such as 3.14.0rc3's magic change then has its window, and a second audit can be
// limited to it (channel --built-after/--built-before). Pure.
import type { ArtifactResult } from '../judge/artifact.js';
import { failsAt, ruleFor, type Severity } from '../judge/rules.js';

export interface MagicWindow {
  magic: number;
  /** Failing artifacts with a build time that carry this magic in a failing .pyc. */
  artifacts: number;
  /** Build times, ms since 1970. */
  first: number;
  last: number;
}

/** The findings that fail an artifact at `failOn` by what conda installs (as --list-stale counts them). */
export function failingFindings(r: ArtifactResult, failOn: Severity | 'never') {
  return r.findings.filter((f) => ruleFor(f.code).installed && failsAt(f.severity, failOn));
}

/** The magic numbers of the .pyc those findings are about, each once. */
export function failingMagics(r: ArtifactResult, failOn: Severity | 'never'): number[] {
  const failing = new Set(failingFindings(r, failOn).map((f) => f.member));
  return [...new Set(r.pyc.filter((p) => failing.has(p.member) && p.magic !== null).map((p) => p.magic!))];
}

/** Adds one result to the windows, keyed by magic (only failing artifacts with a build time count). */
export function addToWindows(windows: Map<number, MagicWindow>, r: ArtifactResult, failOn: Severity | 'never'): void {
  const built = r.origin?.timestamp;
  if (built == null) return;
  for (const magic of failingMagics(r, failOn)) {
    const w = windows.get(magic);
    if (!w) windows.set(magic, { magic, artifacts: 1, first: built, last: built });
    else {
      w.artifacts++;
      w.first = Math.min(w.first, built);
      w.last = Math.max(w.last, built);
    }
  }
}

/** The windows, by magic. */
export function sortedWindows(windows: ReadonlyMap<number, MagicWindow>): MagicWindow[] {
  return [...windows.values()].sort((a, b) => a.magic - b.magic);
}

/** The windows as reports write them (the JSON summary, the rebuild plan). */
export function windowsJson(windows: ReadonlyMap<number, MagicWindow>) {
  return sortedWindows(windows).map((w) => ({ magic: w.magic, artifacts: w.artifacts, firstBuilt: new Date(w.first).toISOString(), lastBuilt: new Date(w.last).toISOString() }));
}

const day = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** "magic 3626 (3.14rc2) in 45 failing artifacts, built 2025-08-14T… to 2025-09-18T…", a line each. */
export function windowLines(windows: ReadonlyMap<number, MagicWindow>, label: (magic: number) => string): string[] {
  return sortedWindows(windows).map((w) => `magic ${label(w.magic)} in ${w.artifacts} failing artifact${w.artifacts === 1 ? '' : 's'}, built ${w.artifacts === 1 ? day(w.first) : `${day(w.first)} to ${day(w.last)}`} (--built-after/--built-before select them)`);
}
