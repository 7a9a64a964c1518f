// The records a channel run selects, held within a memory bound however many the channel lists.
// Each is packed into one line of text; past `memoryBytes` of lines the batch is sorted and spilled
// to a private temporary folder (0700, removed by close(), on exit and on a signal:
// remove-on-exit.ts). Reading merges the spilled runs and the batch in file-name order and keeps
// one artifact per build: the .conda when both formats are listed, the first listing of a file
// listed twice. So a channel of millions of records, or an endless repodata.json up to its cap,
// costs disk for the spilled lines, not memory. A folder left by a run killed outright is removed
// by the next run that spills.
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, host } from '../run/copies-dir.js';
import { forget, removeOnExit } from '../run/remove-on-exit.js';

/** A selected record: what its audit needs. */
export interface StoredRecord {
  file: string;
  sha256: string | null;
  size: number | null;
  timestamp: number | null;
}

/** Runs merged into one when this many are spilled, so a read never holds more files open. */
const FAN_IN = 32;
const READ_CHUNK = 64 << 10;

// A line: file, offer number (15 digits), sha256, size, timestamp, tab-separated. A file name in
// conda's grammar (repodata.ts checks it before a record is offered) has no tab and no newline,
// and a tab sorts before every character it has: lines sort as their (file, offer) pairs do.
// The line is copied out into a string of its own: the parts are slices and concatenations of
// the decoded document's text, and would keep all of it alive.
function pack(r: StoredRecord, seq: number): string {
  const line = `${r.file}\t${String(seq).padStart(15, '0')}\t${r.sha256 ?? ''}\t${r.size ?? ''}\t${r.timestamp ?? ''}`;
  return Buffer.from(line, 'latin1').toString('latin1');
}
function unpack(line: string): { record: StoredRecord; seq: number } {
  const [file, seq, sha256, size, timestamp] = line.split('\t') as [string, string, string, string, string];
  return { record: { file, sha256: sha256 || null, size: size ? Number(size) : null, timestamp: timestamp ? Number(timestamp) : null }, seq: Number(seq) };
}
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** name-version-build: the build a file is one format of. */
const buildOf = (file: string) => (file.endsWith('.conda') ? file.slice(0, -6) : file.slice(0, -8));

/** Lines of a spilled run, read a chunk at a time. */
class RunReader {
  private fd: number;
  private buffered = '';
  private lines: string[] = [];
  private at = 0;
  private ended = false;
  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }
  next(): string | null {
    while (this.at >= this.lines.length) {
      if (this.ended) return null;
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      const n = readSync(this.fd, chunk, 0, READ_CHUNK, null);
      if (n === 0) {
        this.ended = true;
        this.lines = this.buffered ? [this.buffered] : [];
        this.buffered = '';
      } else {
        const text = this.buffered + chunk.toString('latin1', 0, n);
        const cut = text.lastIndexOf('\n');
        this.lines = cut < 0 ? [] : text.slice(0, cut).split('\n');
        this.buffered = text.slice(cut + 1);
      }
      this.at = 0;
    }
    return this.lines[this.at++]!;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Lines from sorted sources merged in order. */
function* merge(sources: (() => string | null)[]): Generator<string> {
  const heads = sources.map((next) => next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h == null) continue;
      if (best < 0 || h < heads[best]!) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = sources[best]!();
  }
}

const PREFIX = 'pyc-audit-records-';

/**
 * Spill folders that runs killed outright (SIGKILL, an out-of-memory abort) left in `parent`: this
 * user's, of this host, whose process is gone. Nothing else is touched, nor followed through a link.
 */
function removeStaleFolders(parent: string): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const mine = new RegExp(`^${PREFIX}${host().replace(/\./g, '\\.')}-(\\d{1,10})-[A-Za-z0-9]{6}$`);
  for (const name of names) {
    const m = mine.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      const stats = lstatSync(join(parent, name));
      if (stats.isDirectory() && (uid === null || stats.uid === uid)) rmSync(join(parent, name), { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

export class RecordStore {
  /** Records offered. */
  offered = 0;
  private batch: string[] = [];
  private batchBytes = 0;
  private runs: string[] = [];
  private dir: string | null = null;
  private spilledBytes = 0;

  /** `memoryBytes`: the lines held before a batch is spilled; `parent`: where the spill folder is made. */
  constructor(
    private readonly memoryBytes: number,
    private readonly parent = tmpdir(),
  ) {}

  /** Bytes written to disk so far (runs merged count again). */
  get spilled(): number {
    return this.spilledBytes;
  }

  add(record: StoredRecord): void {
    const line = pack(record, this.offered++);
    this.batch.push(line);
    this.batchBytes += line.length + 24; // a flat one-byte string's header, and its slot
    if (this.batchBytes < this.memoryBytes) return;
    try {
      this.spill();
    } catch (err) {
      // A full disk or an unwritable TMPDIR: said as such, not as a fault of the document being read.
      const e = err as NodeJS.ErrnoException;
      throw new Error(`cannot spill the selected records to ${this.dir ?? this.parent} (the temporary folder: TMPDIR): ${e.code ?? e.message}`);
    }
  }

  private folder(): string {
    if (this.dir === null) {
      removeStaleFolders(this.parent);
      this.dir = mkdtempSync(join(this.parent, `${PREFIX}${host()}-${process.pid}-`));
      removeOnExit(this.dir, 'folder');
    }
    return this.dir;
  }

  private write(lines: Iterable<string>): string {
    const path = join(this.folder(), `run-${this.runs.length}-${this.spilledBytes}`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      let pending: string[] = [];
      let size = 0;
      const flush = () => {
        const bytes = Buffer.from(pending.join(''), 'latin1');
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
        this.spilledBytes += bytes.length;
        pending = [];
        size = 0;
      };
      for (const line of lines) {
        pending.push(line, '\n');
        size += line.length + 1;
        if (size >= READ_CHUNK * 4) flush();
      }
      flush();
    } finally {
      closeSync(fd);
    }
    return path;
  }

  private sortedBatch(): string[] {
    return this.batch.sort(); // code-unit order: by file, then offer
  }

  private spill(): void {
    this.runs.push(this.write(this.sortedBatch()));
    this.batch = [];
    this.batchBytes = 0;
    if (this.runs.length >= FAN_IN) {
      // The runs so far, merged into one: they are all older than what comes next.
      const readers = this.runs.map((p) => new RunReader(p));
      let merged: string;
      try {
        merged = this.write(merge(readers.map((r) => () => r.next())));
      } finally {
        for (const r of readers) r.close();
      }
      for (const p of this.runs) rmSync(p, { force: true });
      this.runs = [merged];
    }
  }

  /**
   * The records kept, sorted by file name, one per build: a .tar.bz2 whose build is also listed as
   * a .conda is left out and counted in `duplicates` (the first read, as conda downloads the
   * .conda), and of a file listed twice the first listing is kept. Read once.
   */
  *records(counts: { duplicate: number }): Generator<StoredRecord> {
    const readers = this.runs.map((p) => new RunReader(p));
    const batch = this.sortedBatch();
    let at = 0;
    const sources = [...readers.map((r) => () => r.next()), () => (at < batch.length ? batch[at++]! : null)];
    // Builds whose .conda was read and whose .tar.bz2 is not passed yet: the first offer of the .conda.
    // A .conda and the .tar.bz2 of its build sort apart only by files that begin with the build and
    // a dot, so these are few (a build per dot in the file name at most).
    const condas = new Map<string, number>();
    let file = '';
    let conda: number | undefined;
    try {
      for (const line of merge(sources)) {
        const { record, seq } = unpack(line);
        if (record.file === file) {
          // The same file again: its first listing stands; a .tar.bz2 copy after the .conda counts as one more.
          if (conda !== undefined && seq > conda) counts.duplicate++;
          continue;
        }
        file = record.file;
        for (const build of condas.keys()) if (compare(`${build}.tar.bz2`, file) < 0) condas.delete(build);
        const build = buildOf(file);
        if (file.endsWith('.conda')) {
          conda = undefined;
          condas.set(build, seq); // its first listing: lines of one file come in offer order
          yield record;
          continue;
        }
        conda = condas.get(build);
        if (conda === undefined) {
          yield record;
          continue;
        }
        // As the offers came: a .tar.bz2 listed before its .conda was replaced by it (one
        // duplicate); each listed after it was one more.
        counts.duplicate++;
      }
    } finally {
      for (const r of readers) r.close();
      this.batch = [];
      this.close();
    }
  }

  /** Removes what was spilled. */
  close(): void {
    if (this.dir !== null) {
      rmSync(this.dir, { recursive: true, force: true });
      forget(this.dir);
    }
    this.dir = null;
    this.runs = [];
  }
}
