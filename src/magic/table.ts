import { CPYTHON_MAGICS, CPYTHON_SOURCE } from './cpython-history.js';
import { OTHER_IMPLEMENTATION_MAGICS } from './other-implementations.js';
import type { CPythonMagic, MagicEntry, TableProvenance } from './types.js';

export function fromCPython(row: CPythonMagic): MagicEntry {
  return {
    magic: row.magic,
    implementation: 'CPython',
    version: row.version,
    alsoVersions: row.alsoVersions ?? [],
    releases: row.releases,
    firstRelease: row.firstRelease,
    final: row.final,
    finalFor: row.finalFor ?? (row.final ? [row.version] : []),
    firstFinal: row.firstFinal,
    current: row.current,
    commentTag: row.commentTag,
    note: row.note,
    source: [row.comment && `${row.comment}`, row.definedAt].filter(Boolean).join('; ') || CPYTHON_SOURCE.comment,
  };
}

/** A magic known to be the one a target interpreter loads (it said so, or its own stdlib bytecode does). */
export interface TargetMagic {
  magic: number;
  implementation: string;
  /** Minor version, "3.15". */
  version: string;
  /** For people: "3.15.0 (--interpreter /usr/bin/python3.15)". */
  releases: string;
  source: string;
}

/** Magic number -> the implementations and versions that write it. Immutable once built. */
export class MagicTable {
  readonly entries: readonly MagicEntry[];
  private readonly byMagic = new Map<number, MagicEntry[]>();

  /** Where the rows come from: the built-in history, an update, a --magic-table file. */
  readonly provenance: TableProvenance;

  constructor(entries: readonly MagicEntry[], provenance?: TableProvenance) {
    this.entries = entries;
    this.provenance = provenance ?? { builtIn: { newestTag: CPYTHON_SOURCE.newestTag, tagsRead: CPYTHON_SOURCE.tagsRead, source: CPYTHON_SOURCE.comment }, update: null, magicTable: null };
    for (const e of entries) {
      const list = this.byMagic.get(e.magic);
      if (list) list.push(e);
      else this.byMagic.set(e.magic, [e]);
    }
  }

  /** The built-in rows, as they are. */
  static builtInRows(): MagicEntry[] {
    return [...CPYTHON_MAGICS.map(fromCPython), ...OTHER_IMPLEMENTATION_MAGICS];
  }

  /**
   * The built-in table, optionally extended (and overridden, magic by magic) by rows of an update
   * (`magic --update`) and then by user rows (--magic-table): the last word is the user's.
   */
  static builtIn(extra: readonly MagicEntry[] = [], updated: readonly MagicEntry[] = [], provenance?: TableProvenance): MagicTable {
    const key = (e: MagicEntry) => `${e.implementation}\0${e.magic}`;
    const layers = [MagicTable.builtInRows(), [...updated], [...extra]];
    let rows: MagicEntry[] = [];
    for (const layer of layers) {
      // an overriding row keeps its place in the order (newest() takes the last of a minor)
      const replaced = new Map(layer.map((e) => [key(e), e]));
      rows = rows.map((e) => replaced.get(key(e)) ?? e);
      const placed = new Set(rows.map(key));
      rows.push(...layer.filter((e) => !placed.has(key(e))));
    }
    return new MagicTable(rows, provenance);
  }

  lookup(magic: number, implementation?: string): MagicEntry | undefined {
    const list = this.byMagic.get(magic);
    if (!list) return undefined;
    return (implementation && list.find((e) => e.implementation === implementation)) || list[0];
  }

  // Answers by version, computed once: every .pyc of an artifact asks the same question.
  private readonly finals = new Map<string, MagicEntry[]>();
  private readonly newestOf = new Map<string, MagicEntry | undefined>();

  /** Magics that final releases of `version` write (3.5: 3350 and 3351; 1.2: 39171, shared with 1.1). */
  finalMagics(version: string, implementation = 'CPython'): MagicEntry[] {
    const key = `${implementation}\0${version}`;
    let found = this.finals.get(key);
    if (!found) {
      found = this.entries.filter((e) => e.implementation === implementation && e.finalFor.includes(version));
      this.finals.set(key, found);
    }
    return found;
  }

  /**
   * The table for one known target: its magic becomes the only final magic of its version (a
   * 3.5.2 interpreter loads 3350, not 3.5.3's 3351), added as a row when the table lacks it (a
   * release newer than the table). Pure: this table is unchanged.
   */
  withTarget(target: TargetMagic): MagicTable {
    const { magic, implementation, version } = target;
    let found = false;
    const entries = this.entries.map((e) => {
      if (e.implementation !== implementation) return e;
      if (e.magic === magic) {
        found = true;
        return {
          ...e,
          final: true,
          finalFor: e.finalFor.includes(version) ? e.finalFor : [...e.finalFor, version],
          firstFinal: e.firstFinal ?? target.releases,
          alsoVersions: e.version === version || e.alsoVersions.includes(version) ? e.alsoVersions : [...e.alsoVersions, version],
          releases: e.releases ? `${e.releases}; ${target.releases}` : target.releases,
          firstRelease: e.firstRelease ?? target.releases,
          current: true,
          source: `${e.source}; ${target.source}`,
        };
      }
      return e.finalFor.includes(version) ? { ...e, finalFor: e.finalFor.filter((v) => v !== version) } : e;
    });
    if (!found) {
      entries.push({
        magic,
        implementation,
        version,
        alsoVersions: [],
        releases: target.releases,
        firstRelease: target.releases,
        final: true,
        finalFor: [version],
        firstFinal: target.releases,
        current: true,
        commentTag: null,
        note: null,
        source: target.source,
      });
    }
    return new MagicTable(entries, this.provenance);
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
}

