// Expected version + decoded header + magic table -> a status for one .pyc. Pure.
import { decodeHeader, headerSizeFor, hex, type PycHeader } from './header.js';
import { finalExpectation, newerThanTable, SETTLE_NEWER, supersededBy, unconfirmedFinal, writtenBy } from '../magic/describe.js';
import type { MagicTable } from '../magic/table.js';
import { cacheTag, type Expected } from './package-info.js';

export { finalExpectation, magicLabel, writtenBy } from '../magic/describe.js';

/**
 * What the target Python does with a .pyc's magic. `superseded`: a final release of the target minor
 * wrote it, but current builds of that minor load another (3350 in a 3.5 package); `unconfirmed`: the
 * newest magic known for a minor whose final release is not in the table (may or may not be final's).
 */
export type PycStatus = 'ok' | 'unconfirmed' | 'superseded' | 'stale' | 'wrong-version' | 'tag-mismatch' | 'unknown-magic' | 'invalid';

/** Worst first: an artifact takes the status of its worst .pyc. */
export const STATUS_ORDER: readonly PycStatus[] = ['invalid', 'unknown-magic', 'tag-mismatch', 'wrong-version', 'stale', 'superseded', 'unconfirmed', 'ok'];

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

export function judgePyc(
  member: { path: string; size: number; head: Buffer },
  expected: Pick<Expected, 'version' | 'implementation'>,
  table: MagicTable,
): PycVerdict {
  const headerHex = hex(member.head);
  const base = { member: member.path, size: member.size, headerHex };
  const rawMagic = member.head.length >= 2 ? member.head.readUInt16LE(0) : null;
  const tag = cacheTag(member.path);
  // A cache tag names the implementation that wrote the file: PyPy3.8 7.3.6–7.3.9 wrote CPython's 3413 under pypy38.
  const entry = rawMagic === null ? undefined : table.lookup(rawMagic, tag?.implementation ?? expected.implementation);
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
    // The minor the file is for: its CPython cache tag, else the package's. A magic newer than the
    // table for a minor at or past the table's newest is placed, not condemned: a release made after
    // the table (3.14.0rc3 bumped the magic after rc2) writes a number the table cannot know.
    const minor = tag ? (tag.implementation === 'CPython' ? tag.version : null) : expected.implementation === 'CPython' ? expected.version : null;
    if (minor) {
      const { newer, where } = newerThanTable(table, magic, minor);
      if (newer) {
        return { ...base, magic, header, implementation: 'CPython', version: minor, releases: null, status: 'unconfirmed', message: `magic ${magic} is newer than this table: ${where}; not judged: ${SETTLE_NEWER}` };
      }
      const want = finalExpectation(table, minor, 'CPython');
      return { ...base, magic, header, ...described, status: 'unknown-magic', message: `magic ${magic} is not in the table: ${where}${where.includes('probably') ? `; ${want.text}` : ''}` };
    }
    return { ...base, magic, header, ...described, status: 'unknown-magic', message: `magic ${magic} is not in the table (newer than this release of pyc-audit? see --magic-table)` };
  }
  const said = writtenBy(entry);
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
    const later = supersededBy(table, entry);
    if (later) {
      return { ...base, magic, header, ...described, status: 'superseded', message: `written by ${said} (${magic}); ${later.firstFinal ?? later.releases} and later load only ${later.magic}` };
    }
    return { ...base, magic, header, ...described, status: 'ok', message: `written by ${said}` };
  }
  if (unconfirmedFinal(table, entry)) {
    return { ...base, magic, header, ...described, status: 'unconfirmed', message: `${version} final's magic is not in this table; ${magic} is ${said}` };
  }
  return { ...base, magic, header, ...described, status: 'stale', message: `written by ${said}; ${want.text}` };
}

export function worstStatus(statuses: Iterable<PycStatus>): PycStatus {
  let worst = STATUS_ORDER.length - 1;
  for (const s of statuses) worst = Math.min(worst, STATUS_ORDER.indexOf(s));
  return STATUS_ORDER[worst]!;
}
