// Block-parallel bzip2: a big .tar.bz2 cut into runs of whole blocks (bzip2-blocks.ts), each run
// decoded by its own `bzip2 -dc` at once, the output handed on in order.
import type { FileHandle } from 'node:fs/promises';
import { cutRuns, mapBlocks, type Run, writeRun } from './bzip2-blocks.js';
import type { Sink } from './types.js';
import { bzip2ToolMessage, childProcess, type Command, LANES, slots, WRITE_FAILED } from './decoder-programs.js';

/** Decoded bytes a run that is not yet the one being read may hold before its program is paused: 16 MiB over all lanes. */
const AHEAD_BYTES = Math.min(8 << 20, Math.floor((16 << 20) / LANES));

/**
 * Output held for a run ahead is copied into slabs kept for the next run, not kept as the chunks
 * it came in: chunks held that long outlive the young generation, and V8 frees them only at its
 * next full collection, so a run's worth of them after another piled up as garbage.
 */
const SLAB_BYTES = 1 << 20;
const spareSlabs: Buffer[] = [];
const MAX_SPARE_SLABS = Math.ceil((16 << 20) / SLAB_BYTES) + LANES;
const takeSlab = () => spareSlabs.pop() ?? Buffer.allocUnsafe(SLAB_BYTES);
const giveSlab = (slab: Buffer) => {
  if (spareSlabs.length < MAX_SPARE_SLABS) spareSlabs.push(slab);
};

/**
 * A big .tar.bz2 decoded by several `bzip2 -dc` at once, each on a run of whole blocks re-wrapped
 * as a stream of its own (bzip2-blocks.ts). Output reaches `sink` in order: the run being read
 * streams straight through, the runs after it hold up to AHEAD_BYTES each, then wait. A file that
 * is not one well-formed stream, or has a single run, is decoded whole.
 */
export async function decodeRuns(program: Command, file: FileHandle, runBytes: number, sink: Sink, whole: (file: FileHandle, sink: Sink) => Promise<void>): Promise<void> {
  const { size } = await file.stat();
  const map = size >= 2 * runBytes ? await mapBlocks(file) : null;
  const runs = map ? cutRuns(map, runBytes) : [];
  if (!map || runs.length < 2) return whole(file, sink);
  const lanes = LANES;
  const started: Promise<RunDecoder>[] = [];
  const all: RunDecoder[] = [];
  let next = 0;
  try {
    for (let head = 0; head < runs.length; head++) {
      // One run more than there are lanes: a run that finished before the one being read
      // frees its lane for the next while its output waits.
      while (next < runs.length && next <= head + lanes) {
        const run = runs[next++]!;
        const p = slots.acquire().then((release) => {
          try {
            const d = new RunDecoder(program, file, map.level, run, release);
            all.push(d);
            return d;
          } catch (err) {
            release();
            throw err;
          }
        });
        p.catch(() => {});
        started.push(p);
      }
      await (await started[head]!).readAsHead(sink);
    }
  } finally {
    for (const d of all) d.stop();
    // Runs still waiting for a slot: stop them as they arrive.
    for (const p of started) p.then((d) => d.stop(), () => {});
  }
}

/** A write to a program's input that failed because the program stopped reading: its exit says why. */
const PIPE_CLOSED = new Error('input pipe closed');

/** One `bzip2 -dc` over one re-wrapped run; holds its output until it is the run being read. */
class RunDecoder {
  private readonly child: import('node:child_process').ChildProcess;
  /** Output held until this run is read: full slabs, then the last one filled to `lastFill`. */
  private held: Buffer[] = [];
  private lastFill = 0;
  private heldBytes = 0;
  private sink: Sink | null = null;
  private sinkError: { error: unknown } | null = null;
  private inputError: { error: unknown } | null = null;
  private stopped = false;
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly fed: Promise<void>;

  constructor(program: Command, file: FileHandle, level: number, run: Run, release: () => void) {
    this.child = childProcess().spawn(program.command, program.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise<number | null>((resolve, reject) => {
      this.child.on('error', (err) => reject(new Error(`${program.command}: ${err.message}`)));
      this.child.on('close', (code) => resolve(code));
    });
    this.exited.catch(() => {}).finally(release);
    const stdin = this.child.stdin!;
    stdin.on('error', () => {});
    // The run is read from the file and written a piece at a time, as the program takes it.
    const write = (piece: Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (this.stopped || stdin.destroyed) return reject(PIPE_CLOSED);
        stdin.write(piece, (err) => (err ? reject(PIPE_CLOSED) : resolve()));
      });
    this.fed = writeRun(file, level, run, write).then(
      () => void stdin.end(),
      (error: unknown) => {
        // A file that cannot be read says so, before whatever the program makes of its cut input.
        if (error !== PIPE_CLOSED) this.inputError = { error };
        stdin.destroy();
      },
    );
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 4096) this.stderr += s;
    });
    const out = this.child.stdout!;
    out.on('data', (chunk: Buffer) => {
      if (this.sink) this.deliver(chunk);
      else if (!this.stopped) {
        this.hold(chunk);
        if (this.heldBytes >= AHEAD_BYTES) out.pause();
      }
    });
  }

  private hold(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; ) {
      if (!this.held.length || this.lastFill === SLAB_BYTES) {
        this.held.push(takeSlab());
        this.lastFill = 0;
      }
      const n = chunk.copy(this.held[this.held.length - 1]!, this.lastFill, at);
      this.lastFill += n;
      at += n;
    }
    this.heldBytes += chunk.length;
  }

  private deliver(chunk: Buffer): void {
    if (this.sinkError) return;
    try {
      this.sink!(chunk);
    } catch (error) {
      // The rest of the run is discarded as it comes, for a moment: when the data is damaged,
      // bzip2's verdict (a CRC error at the end of the block) says so better than the tar walker
      // did. A stop (--max-bytes, all that is needed read) does not wait for a whole run.
      this.sinkError = { error };
      (setTimeout(() => this.stop(), 2000) as unknown as NodeJS.Timeout).unref();
    }
  }

  /** Sends what is held, then the rest as it comes; resolves when the program has exited cleanly. */
  async readAsHead(sink: Sink): Promise<void> {
    this.sink = sink;
    const held = this.held;
    this.held = [];
    held.forEach((slab, i) => {
      this.deliver(i === held.length - 1 ? slab.subarray(0, this.lastFill) : slab);
      giveSlab(slab);
    });
    this.heldBytes = 0;
    const out = this.child.stdout!;
    const ended = new Promise<void>((resolve) => (out.readableEnded || out.destroyed ? resolve() : out.once('close', resolve)));
    out.resume();
    const code = await this.exited;
    await ended;
    // Whatever the program did not read is not written (a write waiting on it ends with an error).
    this.child.stdin!.destroy();
    await this.fed;
    if (this.inputError) throw this.inputError.error;
    if (code !== 0 && code !== null && !WRITE_FAILED.test(this.stderr)) throw new Error(bzip2ToolMessage(this.stderr, code));
    if (this.sinkError) throw this.sinkError.error;
    if (code !== 0) throw new Error(bzip2ToolMessage(this.stderr, code));
  }

  /** Ends the program (if it still runs) and gives back what it held. */
  stop(): void {
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    if (!this.sink) {
      for (const slab of this.held.splice(0)) giveSlab(slab);
      this.heldBytes = 0;
    }
  }
}
