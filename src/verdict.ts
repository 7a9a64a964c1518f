// Expected version + decoded header + magic table -> a status for one .pyc. Pure.
import { decodeHeader, headerSizeFor, hex, type PycHeader } from './header.js';
import type { MagicTable } from './magic/table.js';
import type { MagicEntry } from './magic/types.js';
import { cacheTag, type Expected } from './package-info.js';

export type PycStatus = 'ok' | 'stale' | 'wrong-version' | 'tag-mismatch' | 'unknown-magic' | 'invalid';

/** Worst first: an artifact takes the status of its worst .pyc. */
export const STATUS_ORDER: readonly PycStatus[] = ['invalid', 'unknown-magic', 'tag-mismatch', 'wrong-version', 'stale', 'ok'];

export interface PycVerdict {
  member: string;
  size: number;
  magic: number | null;
  headerHex: string;
  header: PycHeader | null;
  implementation: string | null;
  version: string | null;
  releases: string | null;
  status: PycStatus;
  message: string;
  /** In an environment: the package that installed the file (null: none did). */
  owner?: string | null;
}

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

export function judgePyc(
  member: { path: string; size: number; head: Buffer },
  expected: Pick<Expected, 'version' | 'implementation'>,
  table: MagicTable,
): PycVerdict {
  const headerHex = hex(member.head);
  const base = { member: member.path, size: member.size, headerHex };
  const rawMagic = member.head.length >= 2 ? member.head.readUInt16LE(0) : null;
  const entry = rawMagic === null ? undefined : table.lookup(rawMagic, expected.implementation);
  const decoded = decodeHeader(member.head, rawMagic === null ? undefined : headerSizeFor(rawMagic, entry?.version, entry?.implementation));
  const described = {
    implementation: entry?.implementation ?? null,
    version: entry?.version ?? null,
    releases: entry?.releases ?? null,
  };
  if (!decoded.ok) {
    return { ...base, magic: decoded.magic, header: null, ...described, status: 'invalid', message: decoded.reason };
  }
  const { header } = decoded;
  const magic = header.magic;
  if (!entry) {
    return { ...base, magic, header, ...described, status: 'unknown-magic', message: `magic ${magic} is not in the table (newer than this release of pyc-audit? see --magic-table)` };
  }
  const said = writtenBy(entry);
  const tag = cacheTag(member.path);
  if (tag && (tag.version !== entry.version || tag.implementation !== entry.implementation) && !entry.alsoVersions.includes(tag.version)) {
    return { ...base, magic, header, ...described, status: 'tag-mismatch', message: `cache tag ${tag.tag} but ${entry.implementation} ${entry.version} bytecode (${magic}, written by ${said})` };
  }
  const version = expected.version ?? entry.version;
  const implementation = expected.version ? expected.implementation : entry.implementation;
  // 39171 is 1.1's and 1.2's: a magic written by releases of several minors belongs to each.
  if ((entry.version !== version && !entry.alsoVersions.includes(version)) || entry.implementation !== implementation) {
    const want = finalExpectation(table, version, implementation);
    return { ...base, magic, header, ...described, status: 'wrong-version', message: `${entry.implementation} ${entry.version} bytecode (${magic}, written by ${said}); ${want.text}` };
  }
  const want = finalExpectation(table, version, implementation);
  if (want.magics.includes(magic)) {
    return { ...base, magic, header, ...described, status: 'ok', message: `written by ${said}` };
  }
  if (!want.magics.length) {
    const newest = table.newest(version, implementation);
    if (newest?.magic === magic) {
      return { ...base, magic, header, ...described, status: 'ok', message: `written by ${said}; ${want.text}` };
    }
  }
  return { ...base, magic, header, ...described, status: 'stale', message: `written by ${said}; ${want.text}` };
}

export function worstStatus(statuses: Iterable<PycStatus>): PycStatus {
  let worst = STATUS_ORDER.length - 1;
  for (const s of statuses) worst = Math.min(worst, STATUS_ORDER.indexOf(s));
  return STATUS_ORDER[worst]!;
}
