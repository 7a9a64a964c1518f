/** One magic number as recorded from CPython's sources (see scripts/magic-history.mjs). */
export interface CPythonMagic {
  magic: number;
  /** Minor version ("3.14") the number belongs to: of the first release that wrote it, else of the comment. */
  version: string;
  /** Later minors whose releases also wrote it (3425: 3.9 final and 3.10a1). */
  alsoVersions?: string[];
  /** The pre-release tag the "Known values" comment gives ("3.14rc2"), or null when it has no entry. */
  commentTag: string | null;
  note: string | null;
  /** file:line of the comment entry. */
  comment: string | null;
  /** Releases that define it, as read at the release tags ("3.14b3–3.14rc1"); null: never released. */
  releases: string | null;
  firstRelease: string | null;
  /** The newest tag of its minor still writes it: later releases of that minor will too. */
  current: boolean;
  /** Some final (non-pre-release) version writes it. */
  final: boolean;
  firstFinal: string | null;
  /** Minors whose final releases write it, when it is more than `version` alone (39171: 1.1 and 1.2). */
  finalFor?: string[];
  /** file:line @ tag where the number was first defined in a release (or @ commit, for trunkOnly). */
  definedAt: string | null;
  /** Assigned on a branch and replaced before any release tag defined it (62001, 3240). */
  trunkOnly?: boolean;
  /** Python 0.9-1.2: the whole 4-byte word (no "\r\n"), e.g. 0x999902, as the tag defines it. */
  word?: number;
}

export type Implementation = 'CPython' | 'PyPy' | 'GraalPy' | string;

/** A row of the table as the rest of the program sees it, whatever its origin. */
export interface MagicEntry {
  magic: number;
  implementation: Implementation;
  /** Minor version, "3.14". */
  version: string;
  alsoVersions: string[];
  /** Which releases write it, for people: "3.14b3–3.14rc1". */
  releases: string | null;
  firstRelease: string | null;
  /** Written by a final release. */
  final: boolean;
  /** The minors whose final releases write it: [version] for most, [] when none does, more for 39171 (1.1, 1.2). */
  finalFor: string[];
  firstFinal: string | null;
  current: boolean;
  commentTag: string | null;
  note: string | null;
  /** Where the row comes from (file:line @ ref, or the user's table file). */
  source: string;
  /** Which table it is in, when not the built-in one alone: "update", "built-in + update", "--magic-table". */
  origin?: string;
}

/** The table's own account of where it comes from: `--version --verbose`, JSON and SARIF run properties. */
export interface TableProvenance {
  builtIn: { newestTag: string; tagsRead: number; source: string };
  update: { file: string; fetchedAt: string; tagsUrl: string; rawUrl: string; releases: number; newestTag: string | null } | null;
  magicTable: string | null;
}
