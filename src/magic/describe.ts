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
