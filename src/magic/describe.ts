// A magic number's rows in words: who writes it, and what final releases of a version write. Used
// by `pyc-audit magic` and by the verdicts; depends on the table only.
import type { MagicTable } from './table.js';
import type { MagicEntry } from './types.js';

/** Who writes a magic, in words: "3.14rc2", "3.14b3–3.14rc1", "3.14rc3 onward" (still written today). */
export function writtenBy(entry: MagicEntry): string {
  // Rows of other implementations name the implementation in their releases ("PyPy 7.3.x (3.10)").
  if (entry.implementation !== 'CPython') return entry.releases ?? `${entry.implementation} ${entry.version}`;
  if (!entry.releases) return `${entry.version} development builds (${entry.commentTag ? `${entry.commentTag}, ` : ''}never in a release)`;
  if (entry.current && entry.final) return `${entry.firstRelease} onward`;
  return entry.releases;
}

/** "3626 (3.14rc2)": a magic with who writes it. */
export function magicLabel(entry: MagicEntry | undefined, magic: number): string {
  return entry ? `${magic} (${writtenBy(entry)})` : `${magic} (unknown)`;
}

/** What final releases of a version write, in words, or why that is not known. */
export function finalExpectation(table: MagicTable, version: string, implementation: string): { magics: number[]; text: string } {
  const finals = table.finalMagics(version, implementation);
  if (finals.length) {
    const first = finals[0]!;
    const label = implementation === 'CPython' ? `${first.firstFinal ?? version}` : `${implementation} ${version}`;
    return {
      magics: finals.map((f) => f.magic),
      text: finals.length === 1 ? `${label} expects ${first.magic}` : `${version} final releases write ${finals.map((f) => `${f.magic} (${f.releases})`).join(' or ')}`,
    };
  }
  const newest = table.newest(version, implementation);
  if (newest) {
    return {
      magics: [],
      text: `${newest.magic} is the newest ${implementation === 'CPython' ? '' : `${implementation} `}${version} magic known; ${version}.0 final is not in this table`,
    };
  }
  return { magics: [], text: `no ${implementation === 'CPython' ? '' : `${implementation} `}${version} magic is known to this table` };
}

/**
 * A final magic that later final releases of its minor replaced (3350: 3.5.0–3.5.2; 3.5.3+ load only
 * 3351): the magic current builds of the minor load instead, or null when `entry` is not such a magic.
 */
export function supersededBy(table: MagicTable, entry: MagicEntry): MagicEntry | null {
  if (!entry.final || entry.current) return null;
  const current = table.finalMagics(entry.version, entry.implementation).filter((f) => f.current && f.magic !== entry.magic);
  return current.at(-1) ?? null;
}

/** The newest magic known for a minor none of whose final releases is in the table (3.15 before 3.15.0): it may not be final's. */
export function unconfirmedFinal(table: MagicTable, entry: MagicEntry): boolean {
  return !table.finalMagics(entry.version, entry.implementation).length && table.newest(entry.version, entry.implementation)?.magic === entry.magic;
}

/** "3.15" → [3, 15], for comparing minors. */
function minorKey(version: string): [number, number] {
  const [a, b] = version.split('.').map(Number);
  return [a ?? 0, b ?? 0];
}

/** <0, 0, >0 as minor `a` is older than, equal to or newer than `b`. */
export function compareMinors(a: string, b: string): number {
  const [x1, y1] = minorKey(a);
  const [x2, y2] = minorKey(b);
  return x1 !== x2 ? x1 - x2 : y1 - y2;
}

/**
 * CPython 3.x magics grow with time (3000 for 3.0a0 … 3750 where 3.17 starts) and stay below 2.x's
 * (20121–62211) and GraalPy's (21000 and up); PyPy 3 writes numbers below 3000.
 */
export const isCPython3Range = (magic: number): boolean => magic >= 3000 && magic < 20000;

/** A CPython 3 row (1.3 and 1.4 wrote 11913 and 5892: in the range, not of 3.x). */
const isCPython3Row = (e: MagicEntry): boolean => e.implementation === 'CPython' && e.version.startsWith('3.') && isCPython3Range(e.magic);

/** Where a magic the table does not know falls among CPython 3's known numbers. */
export interface Placement {
  /** The greatest known CPython 3 magic below it, and the least above it. */
  below: MagicEntry | undefined;
  above: MagicEntry | undefined;
  /** The newest minor some release in the table wrote ("3.15"), or null. */
  newestReleasedMinor: string | null;
}

export function placeMagic(table: MagicTable, magic: number): Placement {
  let below: MagicEntry | undefined;
  let above: MagicEntry | undefined;
  let newestReleasedMinor: string | null = null;
  for (const e of table.entries) {
    if (!isCPython3Row(e)) continue;
    if (e.magic < magic && (!below || e.magic > below.magic)) below = e;
    if (e.magic > magic && (!above || e.magic < above.magic)) above = e;
    if (e.releases !== null && (!newestReleasedMinor || compareMinors(e.version, newestReleasedMinor) > 0)) newestReleasedMinor = e.version;
  }
  return { below, above, newestReleasedMinor };
}

/** How to settle what a magic newer than the table is: said by findings and by `pyc-audit magic N`. */
export const SETTLE_NEWER =
  'settle it with --interpreter PATH (the target Python says its own magic), --magic-table FILE, `pyc-audit magic --update` (CPython\'s published release tags), or by auditing the channel\'s own python build';

/**
 * A CPython magic the table does not know, for a .pyc whose cache tag or package says minor
 * `minor`: is it newer than this table (a release after the table was made: never condemned), and
 * where does it fall, in words. Newer means: `minor` is at or past the newest minor any release in
 * the table wrote and no final release of it is known (once one is, from an update, --magic-table,
 * --interpreter or a channel's python, a number it does not write is rejected as before), the magic is above every known number of `minor` (and of older minors when
 * `minor` has none), and below the first known number of any later minor. A magic between known
 * numbers of older minors (3540 in a 3.12 package: 3.12 final is 3531, 3.13 starts at 3550) is not.
 */
export function newerThanTable(table: MagicTable, magic: number, minor: string): { newer: boolean; where: string } {
  const place = placeMagic(table, magic);
  const where = placementText(table, magic, place);
  if (!isCPython3Range(magic) || !place.newestReleasedMinor || compareMinors(minor, place.newestReleasedMinor) < 0) return { newer: false, where };
  if (table.finalMagics(minor).length) return { newer: false, where };
  const ofMinor = table.entries.filter((e) => isCPython3Row(e) && (e.version === minor || e.alsoVersions.includes(minor)));
  const older = table.entries.filter((e) => isCPython3Row(e) && compareMinors(e.version, minor) <= 0);
  const floor = Math.max(...(ofMinor.length ? ofMinor : older).map((e) => e.magic), 0);
  const later = table.entries.filter((e) => isCPython3Row(e) && compareMinors(e.version, minor) > 0);
  const ceiling = Math.min(...later.map((e) => e.magic), Infinity);
  return { newer: magic > floor && magic < ceiling, where };
}

/** "after 3.15's newest known 3666 (3.15b1–3.15rc1): probably 3.15 final or later". */
export function placementText(table: MagicTable, magic: number, place: Placement = placeMagic(table, magic)): string {
  if (!isCPython3Range(magic)) return 'not in the range of CPython 3 magics (3000 and up, below 2.x\'s 20121)';
  const { below, above } = place;
  if (!below) return `below every CPython 3 magic in this table (the first is ${above?.magic ?? 3000})`;
  const newestOfMinor = table.newest(below.version)?.magic === below.magic || !table.entries.some((e) => e.implementation === 'CPython' && e.version === below.version && e.magic > below.magic);
  const belowWords = `${below.version}'s ${newestOfMinor ? 'newest known ' : ''}${below.magic} (${below.releases ? writtenBy(below) : 'a development number'})`;
  if (above && above.version === below.version) return `between ${below.version}'s ${below.magic} and ${above.magic}: a ${below.version} number no release in this table wrote`;
  const aboveWords = above ? `; ${above.version} starts at ${above.magic}` : '';
  const hasFinal = table.finalMagics(below.version).length > 0;
  if (hasFinal && above) return `after ${belowWords}, before ${above.version}'s ${above.magic}: no release in this table wrote it`;
  if (hasFinal) return `after ${belowWords}: probably a Python newer than ${below.version}, which this table does not know`;
  const released = below.releases !== null;
  const guess = released ? `probably ${below.version} final or later` : `probably a later ${below.version} pre-release, or a newer Python`;
  return `after ${belowWords}: ${guess}${aboveWords}`;
}
