import { CPYTHON_MAGICS, CPYTHON_SOURCE } from './cpython-history.js';
import { OTHER_IMPLEMENTATION_MAGICS } from './other-implementations.js';
import type { CPythonMagic, MagicEntry } from './types.js';

export function fromCPython(row: CPythonMagic): MagicEntry {
  return {
    magic: row.magic,
    implementation: 'CPython',
    version: row.version,
    alsoVersions: row.alsoVersions ?? [],
    releases: row.releases,
    firstRelease: row.firstRelease,
    final: row.final,
    firstFinal: row.firstFinal,
    current: row.current,
    commentTag: row.commentTag,
    note: row.note,
    source: [row.comment && `${row.comment}`, row.definedAt].filter(Boolean).join('; ') || CPYTHON_SOURCE.comment,
    word: row.word ?? null,
  };
}

const versionKey = (v: string): number => v.split('.').reduce((k, n) => k * 1000 + Number(n), 0);

/** Magic number -> the implementations and versions that write it. Immutable once built. */
export class MagicTable {
  readonly entries: readonly MagicEntry[];
  private readonly byMagic = new Map<number, MagicEntry[]>();

  constructor(entries: readonly MagicEntry[]) {
    this.entries = entries;
    for (const e of entries) {
      const list = this.byMagic.get(e.magic);
      if (list) list.push(e);
      else this.byMagic.set(e.magic, [e]);
    }
  }

  /** The built-in table, optionally extended (and overridden, magic by magic) by user rows. */
  static builtIn(extra: readonly MagicEntry[] = []): MagicTable {
    const base = [...CPYTHON_MAGICS.map(fromCPython), ...OTHER_IMPLEMENTATION_MAGICS];
    const overridden = new Set(extra.map((e) => `${e.implementation}\0${e.magic}`));
    return new MagicTable([
      ...base.filter((e) => !overridden.has(`${e.implementation}\0${e.magic}`)),
      ...extra,
    ]);
  }

  lookup(magic: number, implementation?: string): MagicEntry | undefined {
    const list = this.byMagic.get(magic);
    if (!list) return undefined;
    return (implementation && list.find((e) => e.implementation === implementation)) || list[0];
  }

  // Answers by version, computed once: every .pyc of an artifact asks the same question.
  private readonly finals = new Map<string, MagicEntry[]>();
  private readonly newestOf = new Map<string, MagicEntry | undefined>();

  /** Magics that final releases of `version` write (3.5: 3350 and 3351). */
  finalMagics(version: string, implementation = 'CPython'): MagicEntry[] {
    const key = `${implementation}\0${version}`;
    let found = this.finals.get(key);
    if (!found) {
      found = this.entries.filter((e) => e.implementation === implementation && e.final && e.version === version);
      this.finals.set(key, found);
    }
    return found;
  }

  /** The newest magic known for `version` (the last one in the table's order). */
  newest(version: string, implementation = 'CPython'): MagicEntry | undefined {
    const key = `${implementation}\0${version}`;
    if (this.newestOf.has(key)) return this.newestOf.get(key);
    const all = this.entries.filter((e) => e.implementation === implementation && e.version === version);
    const released = all.filter((e) => e.releases !== null);
    const found = (released.length ? released : all).at(-1);
    this.newestOf.set(key, found);
    return found;
  }

  /** Versions in the table, oldest first. */
  versions(implementation = 'CPython'): string[] {
    const set = new Set(this.entries.filter((e) => e.implementation === implementation).map((e) => e.version));
    return [...set].sort((a, b) => versionKey(a) - versionKey(b));
  }
}

