// Mutation fuzzing of the readers: real and generated archives, damaged in ways a stranger's
// upload or a broken download damages them, must each give a report or one plain error — never
// an exception that escapes, an unhandled rejection, a stack trace or a hang.
//
// Used by `npm run fuzz -- --count N --seed S [--save]` (scripts/fuzz.mjs) and by a short run in
// `npm test`. Deterministic for a seed: the same seed replays the same inputs.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { basename, extname, join } from 'node:path';
import { auditArtifact } from '../../src/run/audit-artifact.js';
import { MagicTable } from '../../src/magic/table.js';
import { MemberCollector } from '../../src/sources/formats/tar-members.js';
import { streamBytes } from '../../src/sources/access/access.js';
import { readBytes } from '../../src/sources/formats/read-bytes.js';
import { byteBudget } from '../../src/sources/formats/tar-members.js';
import { TarError, TarWalker } from '../../src/sources/formats/tar-walker.js';
import { emptyEntries } from '../../src/sources/types.js';

/** The keep policy of an audit's tar walk. */
const auditKeep = () => new MemberCollector(emptyEntries('tar')).keep;

export interface FuzzCase {
  index: number;
  seed: number;
  source: string;
  mutation: string;
  bytes: Buffer;
  /** The extension the mutated file is given: .conda, .tar.bz2, .pyc, or .tar (walker only). */
  ext: string;
  /** Read as a stream that cannot seek (stdin, a download), in small chunks, not as a file. */
  viaStream?: boolean;
}

export interface FuzzFailure {
  case: Omit<FuzzCase, 'bytes'>;
  problem: string;
  bytes: Buffer;
}

/** mulberry32: small, fast, and enough for choosing mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Seed {
  name: string;
  bytes: Buffer;
  ext: string;
}

const extOf = (name: string) => (name.endsWith('.tar.bz2') ? '.tar.bz2' : extname(name));

/** The inputs mutations start from, folder by folder, each in name order (a missing folder throws). */
export function loadSeeds(dirs: string[], maxBytes = 256 << 10): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of dirs) {
    // A missing folder is an error, not fewer seeds: the same seed must replay the same inputs.
    const names = readdirSync(dir);
    for (const name of names.sort()) {
      const path = join(dir, name);
      const ext = extOf(name);
      if (!['.conda', '.tar.bz2', '.pyc', '.whl'].includes(ext)) continue;
      if (!statSync(path).isFile() || statSync(path).size > maxBytes) continue;
      seeds.push({ name: basename(path), bytes: readFileSync(path), ext });
    }
  }
  return seeds;
}

/** Offsets where the structure of a file changes: zip records, the start of each stored member. */
function boundaries(b: Buffer): number[] {
  const out = new Set<number>([0, 1, 2, 3, 4, 10, 16, b.length - 22, b.length - 1]);
  for (const sig of [0x04034b50, 0x02014b50, 0x06054b50]) {
    const needle = Buffer.alloc(4);
    needle.writeUInt32LE(sig);
    for (let at = b.indexOf(needle); at >= 0; at = b.indexOf(needle, at + 1)) {
      out.add(at);
      if (sig === 0x04034b50 && at + 30 <= b.length) out.add(at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28));
    }
  }
  for (const magic of ['(\xb5/\xfd', 'BZh', '1AY&SY']) {
    const needle = Buffer.from(magic, 'latin1');
    for (let at = b.indexOf(needle); at >= 0; at = b.indexOf(needle, at + 1)) out.add(at);
  }
  return [...out].filter((x) => x >= 0 && x < b.length).sort((x, y) => x - y);
}

type Mutator = (b: Buffer, rnd: () => number) => [Buffer, string];
const pick = <T>(xs: T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (n: number, rnd: () => number) => Math.floor(rnd() * n);

const MUTATORS: Mutator[] = [
  (b, rnd) => {
    const c = Buffer.from(b);
    const n = 1 + int(8, rnd);
    for (let i = 0; i < n; i++) {
      const at = int(c.length, rnd);
      c[at] = c[at]! ^ (1 << int(8, rnd));
    }
    return [c, `flip ${n} bits`];
  },
  (b, rnd) => {
    const at = pick(boundaries(b), rnd) + int(3, rnd) - 1;
    const cut = Math.max(0, Math.min(b.length - 1, at));
    return [b.subarray(0, cut), `truncate at ${cut} of ${b.length} (a structural boundary)`];
  },
  (b, rnd) => {
    const cut = int(b.length, rnd);
    return [b.subarray(0, cut), `truncate at ${cut} of ${b.length}`];
  },
  (b, rnd) => {
    const c = Buffer.from(b);
    const at = int(c.length, rnd);
    const len = 1 + int(64, rnd);
    const fill = pick([0x00, 0xff, -1], rnd);
    for (let i = at; i < Math.min(c.length, at + len); i++) c[i] = fill === -1 ? int(256, rnd) : fill;
    return [c, `overwrite ${len} bytes at ${at} with ${fill === -1 ? 'random bytes' : `0x${fill.toString(16)}`}`];
  },
  (b, rnd) => {
    // Tamper with a zip size or offset field: local header sizes (18, 22), central directory
    // sizes (20, 24) and local-header offset (42), end-of-directory counts and offset.
    const c = Buffer.from(b);
    const fields: [number, number][] = [[0x04034b50, 18], [0x04034b50, 22], [0x04034b50, 26], [0x02014b50, 20], [0x02014b50, 24], [0x02014b50, 42], [0x06054b50, 10], [0x06054b50, 12], [0x06054b50, 16]];
    const [sig, off] = pick(fields, rnd);
    const needle = Buffer.alloc(4);
    needle.writeUInt32LE(sig);
    const at = c.indexOf(needle);
    if (at < 0 || at + off + 4 > c.length) return [c, 'no zip field to tamper with'];
    const value = pick([0, 1, 0xffffffff, 0x7fffffff, c.readUInt32LE(at + off) + 1 + int(1000, rnd), int(c.length, rnd)], rnd);
    if (off === 26 || off === 10) c.writeUInt16LE(value & 0xffff, at + off);
    else c.writeUInt32LE(value >>> 0, at + off);
    return [c, `zip record 0x${sig.toString(16)} field +${off} := ${value >>> 0}`];
  },
  (b, rnd) => {
    // Damage inside a compressed stream (past the zstd/bzip2 header, before its end).
    const starts = boundaries(b).filter((x) => x > 0);
    const start = starts.length ? pick(starts, rnd) : 0;
    const c = Buffer.from(b);
    const at = Math.min(c.length - 1, start + 8 + int(Math.max(1, c.length - start - 8), rnd));
    const len = 1 + int(16, rnd);
    for (let i = at; i < Math.min(c.length, at + len); i++) c[i] = int(256, rnd);
    return [c, `corrupt ${len} bytes at ${at} inside a compressed stream`];
  },
  (b, rnd) => {
    const at = int(b.length, rnd);
    const extra = Buffer.alloc(1 + int(600, rnd));
    for (let i = 0; i < extra.length; i++) extra[i] = int(256, rnd);
    return [Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]), `insert ${extra.length} random bytes at ${at}`];
  },
  (b, rnd) => {
    const at = int(b.length, rnd);
    const len = 1 + int(512, rnd);
    return [Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]), `delete ${len} bytes at ${at}`];
  },
];

/** A skippable zstd frame (magic 0x184D2A5?) of `size` bytes of content, of which `keep` are there (fewer: cut short). */
export function skippableFrame(size: number, keep = size, nibble = 0): Buffer {
  const b = Buffer.alloc(8 + Math.min(keep, size), 0x5a);
  b.writeUInt32LE((0x184d2a50 | (nibble & 15)) >>> 0, 0);
  b.writeUInt32LE(size, 4);
  return b;
}

/**
 * Inserts `insert` at `offset` into the data of a stored zip member (`member`: its local header's
 * offset), keeping the zip right: the sizes and CRC in its local and central headers, the offsets
 * of the members after it and of the central directory. Null where the zip is not that simple.
 */
export function spliceStoredMember(zip: Buffer, member: number, offset: number, insert: Buffer): Buffer | null {
  if (zip.readUInt32LE(member) !== 0x04034b50 || zip.readUInt16LE(member + 8) !== 0 || zip.readUInt16LE(member + 6) & 8) return null;
  const size = zip.readUInt32LE(member + 18);
  const dataAt = member + 30 + zip.readUInt16LE(member + 26) + zip.readUInt16LE(member + 28);
  if (dataAt + size > zip.length || offset > size) return null;
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) return null;
  const data = Buffer.concat([zip.subarray(dataAt, dataAt + offset), insert, zip.subarray(dataAt + offset, dataAt + size)]);
  const out = Buffer.concat([zip.subarray(0, dataAt + offset), insert, zip.subarray(dataAt + offset)]);
  const grow = insert.length;
  const crc = crc32(data);
  out.writeUInt32LE(crc, member + 14);
  out.writeUInt32LE(data.length, member + 18);
  out.writeUInt32LE(data.length, member + 22);
  const cdAt = zip.readUInt32LE(eocd + 16) + (zip.readUInt32LE(eocd + 16) > member ? grow : 0);
  out.writeUInt32LE(cdAt, eocd + grow + 16);
  for (let at = cdAt; at + 46 <= out.length && out.readUInt32LE(at) === 0x02014b50; at += 46 + out.readUInt16LE(at + 28) + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32)) {
    const local = out.readUInt32LE(at + 42);
    if (local === member) {
      out.writeUInt32LE(crc, at + 16);
      out.writeUInt32LE(data.length, at + 20);
      out.writeUInt32LE(data.length, at + 24);
    } else if (local > member) out.writeUInt32LE(local + grow, at + 42);
  }
  return out;
}

/** The stored zstd members of a zip: local header offset, data size, name. */
function zstdMembers(zip: Buffer): { at: number; size: number }[] {
  const out: { at: number; size: number }[] = [];
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04])); at >= 0 && at + 30 <= zip.length; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), at + 4)) {
    const nameLength = zip.readUInt16LE(at + 26);
    const name = zip.toString('latin1', at + 30, at + 30 + nameLength);
    if (name.endsWith('.tar.zst') && zip.readUInt16LE(at + 8) === 0) out.push({ at, size: zip.readUInt32LE(at + 18) });
  }
  return out;
}

/**
 * Skippable zstd frames, whole or cut short, at the start or end of a .conda's zstd member (the
 * zip kept right, so the decoders see them): every decoder must give the same verdict.
 */
const SKIPPABLE_MUTATOR: Mutator = (b, rnd) => {
  const members = zstdMembers(b);
  if (!members.length) return [b, 'no zstd member for a skippable frame'];
  const m = pick(members, rnd);
  const size = pick([0, 4, 1 + int(300, rnd), 1 << 16], rnd);
  const cut = rnd() < 0.5;
  const whole = skippableFrame(size, size, int(16, rnd));
  const frame = cut ? whole.subarray(0, 1 + int(whole.length - 1, rnd)) : whole;
  const atEnd = cut || rnd() < 0.5;
  const out = spliceStoredMember(b, m.at, atEnd ? m.size : 0, frame);
  if (!out) return [b, 'zip too unusual for a skippable frame'];
  return [out, `${cut ? 'truncated ' : ''}skippable frame (${frame.length} of ${8 + size} bytes) at the ${atEnd ? 'end' : 'start'} of the zstd member at ${m.at}`];
};

/** Mutations of plain tar bytes, for the walker: damaged headers, lying sizes, bad checksums. */
const TAR_MUTATORS: Mutator[] = [
  ...MUTATORS.slice(0, 4),
  (b, rnd) => {
    const c = Buffer.from(b);
    const headers: number[] = [];
    for (let at = 0; at + 512 <= c.length; at += 512) if (c.toString('latin1', at + 257, at + 262) === 'ustar') headers.push(at);
    if (!headers.length) return [c, 'no tar header'];
    const h = pick(headers, rnd);
    const what = int(4, rnd);
    if (what === 0) c.write(pick(['77777777777', '00000000000', '1'.repeat(11), 'zzzzzzzzzzz'], rnd), h + 124, 'latin1');
    else if (what === 1) c.write(String(int(99999999, rnd)).padStart(6, '0'), h + 148, 'latin1');
    else if (what === 2) c[h + 156] = pick([0x78, 0x4c, 0x67, 0x35, 0x32, 0x00, 0xff], rnd);
    else c[h + 124] = 0x80 | int(128, rnd);
    return [c, `tar header at ${h}: ${['size field', 'checksum', 'type flag', 'base-256 size'][what]}`];
  },
];

export function* cases(seeds: Seed[], tars: Seed[], seed: number, count: number): Generator<FuzzCase> {
  const rnd = prng(seed);
  for (let index = 0; index < count; index++) {
    const useTar = tars.length > 0 && rnd() < 0.25;
    const source = pick(useTar ? tars : seeds, rnd);
    let bytes = source.bytes;
    const steps: string[] = [];
    const rounds = 1 + (rnd() < 0.3 ? int(3, rnd) : 0);
    for (let r = 0; r < rounds; r++) {
      // One case in ten of a .conda: a skippable zstd frame, whole or cut short (zip kept right).
      const mutator = !useTar && source.ext === '.conda' && rnd() < 0.1 ? SKIPPABLE_MUTATOR : pick(useTar ? TAR_MUTATORS : MUTATORS, rnd);
      const [next, what] = mutator(bytes, rnd);
      bytes = next;
      steps.push(what);
    }
    const viaStream = !useTar && rnd() < 0.25;
    yield { index, seed, source: source.name, mutation: steps.join('; ') + (viaStream ? ' (read as a stream)' : ''), bytes, ext: source.ext, viaStream };
  }
}

export interface Outcomes {
  reports: number;
  errors: number;
}

/** Runs one case; returns what is wrong, or null. Counts what the reader answered in `seen`. */
export async function check(c: FuzzCase, dir: string, table: MagicTable, timeoutMs: number, seen: Outcomes = { reports: 0, errors: 0 }): Promise<string | null> {
  if (c.ext === '.tar') {
    try {
      const w = new TarWalker(auditKeep(), () => {});
      w.write(c.bytes);
      w.end();
    } catch (err) {
      if (!(err instanceof TarError)) return `the tar walker threw ${(err as Error).name}: ${(err as Error).message}`;
      seen.errors++;
      return null;
    }
    seen.reports++;
    return null;
  }
  if (c.viaStream) return checkStream(c, timeoutMs, seen);
  const path = join(dir, `case-${c.index}${c.ext}`);
  writeFileSync(path, c.bytes);
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      auditArtifact(path, { table }),
      new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), timeoutMs);
      }),
    ]);
    if (result === 'hang') return `no answer within ${timeoutMs} ms`;
    if (result.error === null) seen.reports++;
    else seen.errors++;
    if (result.error !== null) {
      if (!result.error.trim()) return 'an empty error message';
      if (/\n/.test(result.error)) return `a multi-line error: ${JSON.stringify(result.error.slice(0, 300))}`;
      if (/\bat .+:\d+:\d+\)?$/m.test(result.error)) return `a stack trace in the error: ${result.error.slice(0, 300)}`;
      if (/Cannot read properties|is not a function|undefined|\[object /.test(result.error)) return `an internal error leaked: ${result.error}`;
    }
    return null;
  } catch (err) {
    return `auditArtifact rejected: ${(err as Error).stack ?? err}`;
  } finally {
    clearTimeout(timer);
    rmSync(path, { force: true });
  }
}

function badMessage(message: string): string | null {
  if (!message.trim()) return 'an empty error message';
  if (/\n/.test(message)) return `a multi-line error: ${JSON.stringify(message.slice(0, 300))}`;
  if (/Cannot read properties|is not a function|undefined|\[object /.test(message)) return `an internal error leaked: ${message}`;
  return null;
}

async function checkStream(c: FuzzCase, timeoutMs: number, seen: Outcomes): Promise<string | null> {
  const bytes = c.bytes;
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += 173) yield bytes.subarray(at, at + 173);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      streamBytes(chunks(), `stdin${c.ext}`).then((bytes) => readBytes(bytes, { budget: byteBudget(null) })).then(() => 'ok' as const),
      new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), timeoutMs);
      }),
    ]);
    if (result === 'hang') return `no answer within ${timeoutMs} ms (as a stream)`;
    seen.reports++;
    return null;
  } catch (err) {
    seen.errors++;
    if (!(err instanceof Error)) return `rejected with a non-Error: ${String(err)}`;
    return badMessage(err.message);
  } finally {
    clearTimeout(timer);
  }
}

/** Plain tars to mutate: the fixtures' .tar.bz2, decompressed by the tool's own reader path. */
export async function loadTarSeeds(seeds: Seed[]): Promise<Seed[]> {
  const { bzip2 } = await import('../../src/sources/codecs/codecs.js');
  const out: Seed[] = [];
  for (const s of seeds.filter((x) => x.ext === '.tar.bz2').slice(0, 6)) {
    const chunks: Buffer[] = [];
    try {
      await bzip2().decode((async function* () { yield s.bytes; })(), (c) => chunks.push(Buffer.from(c)));
      out.push({ name: s.name.replace(/\.bz2$/, ''), bytes: Buffer.concat(chunks), ext: '.tar' });
    } catch {
      // a corpus file the decoder rejects is no seed
    }
  }
  return out;
}

export async function fuzz(options: { seed: number; count: number; seedDirs: string[]; timeoutMs?: number; onFailure?: (f: FuzzFailure) => void }): Promise<{ ran: number; failures: FuzzFailure[]; outcomes: Outcomes }> {
  const outcomes: Outcomes = { reports: 0, errors: 0 };
  const table = MagicTable.builtIn();
  const seeds = loadSeeds(options.seedDirs);
  if (!seeds.length) throw new Error(`no seed inputs in ${options.seedDirs.join(', ')}`);
  const tars = await loadTarSeeds(seeds);
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-fuzz-'));
  const failures: FuzzFailure[] = [];
  let current: FuzzCase | null = null;
  // Anything that escapes the reader's promise lands here, charged to the case being run.
  const escaped = (err: unknown) => {
    const c = current;
    const meta = c ? { index: c.index, seed: c.seed, source: c.source, mutation: c.mutation, ext: c.ext } : { index: -1, seed: options.seed, source: '?', mutation: '?', ext: '' };
    const f = { case: meta, problem: `escaped: ${(err as Error)?.stack ?? err}`, bytes: c?.bytes ?? Buffer.alloc(0) };
    failures.push(f);
    options.onFailure?.(f);
  };
  process.on('uncaughtException', escaped);
  process.on('unhandledRejection', escaped);
  let ran = 0;
  try {
    for (const c of cases(seeds, tars, options.seed, options.count)) {
      current = c;
      const problem = await check(c, dir, table, options.timeoutMs ?? 10_000, outcomes);
      ran++;
      if (problem) {
        const { bytes, ...meta } = c;
        const f = { case: meta, problem, bytes };
        failures.push(f);
        options.onFailure?.(f);
      }
    }
    // Give late errors of the last case a turn of the event loop to surface.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('uncaughtException', escaped);
    process.off('unhandledRejection', escaped);
    rmSync(dir, { recursive: true, force: true });
  }
  return { ran, failures, outcomes };
}
