// A conda channel's records, whichever form its index takes (repodata.json, its .zst, or CEP-16
// shards): each record names an artifact with its name, version, build, depends and sha256.
// Selection by name globs and Python happens as the records come, so only the chosen ones are
// kept, packed and spilled past a bound (record-store.ts): memory follows neither the size of the
// channel nor that of the selection.
import picomatch from 'picomatch';
import { dependsPython, parseArtifactName } from '../judge/package-info.js';
import { mayBePython, pythonBuildMinor, PythonBuilds } from './python-builds.js';
import { RecordStore } from './record-store.js';

/** What a selector holds in memory before it spills records to disk, by default. */
export const DEFAULT_MEMORY_BYTES = 16 << 20;

/** A selected artifact: only what its audit needs, so a million of them stay small. */
export interface ChannelRecord {
  subdir: string;
  /** The artifact's file name in its subdir. */
  file: string;
  sha256: string | null;
  size: number | null;
  /** When it was built (repodata's `timestamp`, in milliseconds since 1970), or null. */
  timestamp?: number | null;
}

/** Where an audited artifact came from in a channel run; carried into every report, for merge. */
export interface ArtifactOrigin {
  channel: string;
  subdir: string;
  file: string;
  sha256: string | null;
  /** When it was built, from the channel's index (ms since 1970); absent or null when it does not say. */
  timestamp?: number | null;
  /**
   * --shard K/N (1/1 without it), how many artifacts shard K holds and how many all N hold, so a
   * merge can find gaps (a shard missing, or cut short) without knowing the channel.
   */
  shard: { index: number; count: number; size: number; total: number };
}

export interface RecordSelection {
  /** Package-name globs (picomatch); empty: every name. */
  names: readonly string[];
  /** Only builds whose depends pin this Python minor. */
  python: string | null;
  /** Also note the channel's `python` builds, whatever the selection (to learn each minor's final magic from). */
  learnPython?: boolean;
  /** --built-after / --built-before: only builds whose timestamp lies in [after, before) (ms since 1970). */
  builtAfter?: number | null;
  builtBefore?: number | null;
}

/** How many records were looked at, chosen, and why the others were not. */
export interface SelectionCounts {
  considered: number;
  selected: number;
  /** Its name matches no --name glob. */
  otherName: number;
  /** Its depends pin another Python than --python. */
  otherPython: number;
  /** Its depends pin no Python at all, with --python (a build without bytecode for any one Python). */
  noPython: number;
  /** A .tar.bz2 whose build is also a .conda (conda downloads the .conda). */
  duplicate: number;
  /** Built outside --built-after/--built-before, or without a build timestamp when a window is given. */
  outsideWindow: number;
  /** A file name that is not a conda artifact's, one that could climb out of the subdir, or a record whose fields break conda's grammar or FIELD_BYTES. */
  badName: number;
}

export function emptyCounts(): SelectionCounts {
  return { considered: 0, selected: 0, otherName: 0, otherPython: 0, noPython: 0, duplicate: 0, outsideWindow: 0, badName: 0 };
}

export function addCounts(into: SelectionCounts, more: SelectionCounts): void {
  for (const key of Object.keys(into) as (keyof SelectionCounts)[]) into[key] += more[key];
}

/** Why records were skipped, for the run's summary line: "3 other names, 1 .tar.bz2 beside its .conda". */
export function describeSkipped(c: SelectionCounts): string {
  const parts: [number, string][] = [
    [c.otherName, 'not matching --name'],
    [c.otherPython, 'for another Python'],
    [c.noPython, 'depending on no Python'],
    [c.duplicate, '.tar.bz2 beside the .conda of the same build'],
    [c.outsideWindow, 'built outside --built-after/--built-before'],
    [c.badName, 'not an artifact file name or record'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, why]) => `${n} ${why}`)
    .join(', ');
}

const SHA256 = /^[0-9a-f]{64}$/;
const ARTIFACT_FILE = /^[^/\\]+\.(conda|tar\.bz2)$/;

/** A checksum as repodata.json (hex text) or a shard (32 raw bytes) gives it; null if neither. */
function sha256Of(value: unknown): string | null {
  if (typeof value === 'string') return SHA256.test(value.toLowerCase()) ? value.toLowerCase() : null;
  if (value instanceof Uint8Array && value.length === 32) return Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex');
  return null;
}

/**
 * A record's build time in milliseconds: repodata's `timestamp` is in milliseconds (conda-build),
 * older records' in seconds (conda treats a value below year 9999 in seconds as seconds); null
 * when absent or not a plausible time.
 */
export function timestampOf(r: Record<string, unknown>): number | null {
  const t = r.timestamp;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) return null;
  const ms = t < 253_402_300_800 ? t * 1000 : t;
  return ms <= 8.64e15 ? Math.round(ms) : null;
}

const sizeOf = (r: Record<string, unknown>) => (typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0 ? r.size : null);

/** A record's text fields are bounded as member names are (conda's are a few dozen bytes). */
export const FIELD_BYTES = 4096;

/**
 * conda's grammar: name-version-build.ext, a name of letters, digits, "_", ".", "+" and "-", a
 * version and a build without "-" (a version may carry an epoch "!" and a local "+").
 */
const ARTIFACT_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*-[A-Za-z0-9_.+!]+-[A-Za-z0-9_.+]+\.(?:conda|tar\.bz2)$/;
const FIELD_GRAMMAR: Record<string, RegExp> = {
  name: /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/,
  version: /^[A-Za-z0-9_.+!*]+$/,
  build: /^[A-Za-z0-9_.+*]+$/,
  subdir: /^[A-Za-z0-9_.-]+$/,
  fn: ARTIFACT_GRAMMAR,
  url: /^[\x21-\x7e]+$/,
};

const isArtifactFile = (file: string) => file.length <= FIELD_BYTES && ARTIFACT_FILE.test(file) && ARTIFACT_GRAMMAR.test(file) && !file.startsWith('.');

/** Whether a record's fn, name, version, build, subdir and url (where given) are bounded and in conda's grammar. */
export function fieldsOk(r: Record<string, unknown>): boolean {
  for (const [key, grammar] of Object.entries(FIELD_GRAMMAR)) {
    const v = r[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length > FIELD_BYTES || Buffer.byteLength(v) > FIELD_BYTES || !grammar.test(v)) return false;
  }
  return true;
}

/** The record's package name: its own, else the one its file name gives. */
function nameOf(file: string, r: Record<string, unknown>): string {
  if (typeof r.name === 'string') return r.name;
  return parseArtifactName(file).name ?? file;
}

/** The Python minor a record's depends pin (python_abi, then python), or null. */
export function recordPython(r: Record<string, unknown>): string | null {
  return dependsPython(Array.isArray(r.depends) ? r.depends.filter((x): x is string => typeof x === 'string') : []);
}

/**
 * Takes records one at a time and keeps those to audit: matching names and Python, one per
 * subdir/name-version-build (the .conda when both formats exist, as conda itself downloads).
 * Only a chosen record's file, size, sha256 and time are kept, packed, and spilled to disk past
 * `memoryBytes` (record-store.ts), so a channel of millions of records stays within the budget.
 */
export class RecordSelector {
  readonly counts = emptyCounts();
  private readonly matches: (name: string) => boolean;
  private readonly stores = new Map<string, RecordStore>();
  /** The Python minors of the chosen records (their depends' pin; a python build's own). */
  readonly minors = new Set<string>();
  /** With learnPython: the channel's python builds, selected or not. */
  readonly pythons: PythonBuilds | null;

  constructor(
    private readonly selection: RecordSelection,
    private readonly memoryBytes = DEFAULT_MEMORY_BYTES,
  ) {
    this.matches = selection.names.length ? picomatch([...selection.names]) : () => true;
    this.pythons = selection.learnPython ? new PythonBuilds() : null;
  }

  /** Whether a package name is wanted: shards of other names need not be fetched. */
  wantsName(name: string): boolean {
    return this.matches(name);
  }

  /** Whether a shard must be read: a wanted name's, or python's when its builds are looked for. */
  wantsShard(name: string): boolean {
    return this.matches(name) || (this.pythons !== null && name === 'python');
  }

  /** A record read only to look for python builds (the python shard, --name not matching it): not counted. */
  notePython(subdir: string, file: string, value: unknown): void {
    if (!this.pythons || !isArtifactFile(file)) return;
    const r = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    if (!fieldsOk(r)) return;
    if (mayBePython(file, r)) this.pythons.offer(subdir, file, r, sha256Of(r.sha256), sizeOf(r));
  }

  offer(subdir: string, file: string, value: unknown): void {
    this.counts.considered++;
    // A file name is a path segment: nothing that could climb out of the subdir.
    if (!isArtifactFile(file)) return void this.counts.badName++;
    const r = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    // Its own fields bounded and in conda's grammar before any is used (a name, a Python pin).
    if (!fieldsOk(r)) return void this.counts.badName++;
    if (this.pythons && mayBePython(file, r)) this.pythons.offer(subdir, file, r, sha256Of(r.sha256), sizeOf(r));
    if (!this.matches(nameOf(file, r))) return void this.counts.otherName++;
    // Only when needed: a depends list parsed per record is time on a channel of 10^6 records.
    const python = this.selection.python || this.pythons ? recordPython(r) : null;
    if (this.selection.python && python !== this.selection.python) return void (python === null ? this.counts.noPython++ : this.counts.otherPython++);
    const timestamp = timestampOf(r);
    if (!inWindow(timestamp, this.selection)) return void this.counts.outsideWindow++;
    if (this.pythons) {
      const minor = python ?? pythonBuildMinor(file, r);
      if (minor) this.minors.add(minor);
    }
    let store = this.stores.get(subdir);
    if (!store) this.stores.set(subdir, (store = new RecordStore(this.memoryBytes)));
    store.add({ file, sha256: sha256Of(r.sha256), size: sizeOf(r), timestamp });
  }

  /**
   * The chosen records, sorted by subdir and file name, one per build (a .tar.bz2 beside the
   * .conda of its build is counted as a duplicate). Read once: counts.selected is set at the end.
   */
  *records(): Generator<ChannelRecord> {
    try {
      for (const subdir of [...this.stores.keys()].sort(compare)) {
        for (const r of this.stores.get(subdir)!.records(this.counts)) {
          this.counts.selected++;
          yield { subdir, ...r };
        }
      }
    } finally {
      this.close();
    }
  }

  /** Removes what was spilled to disk (records() does when it ends). */
  close(): void {
    for (const store of this.stores.values()) store.close();
    this.stores.clear();
  }
}

/** Whether a build time lies in the window asked for; a build that does not say lies in none. */
function inWindow(timestamp: number | null, s: RecordSelection): boolean {
  if (s.builtAfter == null && s.builtBefore == null) return true;
  if (timestamp === null) return false;
  return (s.builtAfter == null || timestamp >= s.builtAfter) && (s.builtBefore == null || timestamp < s.builtBefore);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
