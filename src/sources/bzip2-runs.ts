// Block-parallel bzip2: a big .tar.bz2 cut into runs of whole blocks (bzip2-blocks.ts), each run
// decoded by its own `bzip2 -dc` at once, the output handed on in order.
import type { FileHandle } from 'node:fs/promises';
import { cutRuns, mapBlocks, wrapRun } from './bzip2-blocks.js';
import type { Sink } from './codecs.js';
import { bzip2ToolMessage, childProcess, LANES, slots, WRITE_FAILED } from './decoder-programs.js';

/** Decoded bytes a run that is not yet the one being read may hold before its program is paused: 16 MiB over all lanes. */
const AHEAD_BYTES = Math.min(8 << 20, Math.floor((16 << 20) / LANES));

/**
 * A big .tar.bz2 decoded by several `bzip2 -dc` at once, each on a run of whole blocks re-wrapped
 * as a stream of its own (bzip2-blocks.ts). Output reaches `sink` in order: the run being read
 * streams straight through, the runs after it hold up to AHEAD_BYTES each, then wait. A file that
 * is not one well-formed stream, or has a single run, is decoded whole.
 */
export async function decodeRuns(program: string, file: FileHandle, runBytes: number, sink: Sink, whole: (file: FileHandle, sink: Sink) => Promise<void>): Promise<void> {
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
        const p = slots.acquire().then(async (release) => {
          try {
            const d = new RunDecoder(program, await wrapRun(file, map.level, run), release);
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
    // Runs still waiting for a slot or being wrapped: stop them as they arrive.
    for (const p of started) p.then((d) => d.stop(), () => {});
  }
}

/** One `bzip2 -dc` over one re-wrapped run; holds its output until it is the run being read. */
class RunDecoder {
  private readonly child: import('node:child_process').ChildProcess;
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private sink: Sink | null = null;
  private sinkError: { error: unknown } | null = null;
  private stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(
    program: string,
    stream: Buffer,
    release: () => void,
  ) {
    this.child = childProcess().spawn(program, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise<number | null>((resolve, reject) => {
      this.child.on('error', (err) => reject(new Error(`${program}: ${err.message}`)));
      this.child.on('close', (code) => resolve(code));
    });
    this.exited.catch(() => {}).finally(release);
    this.child.stdin!.on('error', () => {});
    this.child.stdin!.end(stream);
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 4096) this.stderr += s;
    });
    const out = this.child.stdout!;
    out.on('data', (chunk: Buffer) => {
      if (this.sink) this.deliver(chunk);
      else {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        if (this.heldBytes >= AHEAD_BYTES) out.pause();
      }
    });
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
    for (const chunk of this.held.splice(0)) this.deliver(chunk);
    this.heldBytes = 0;
    const out = this.child.stdout!;
    const ended = new Promise<void>((resolve) => (out.readableEnded || out.destroyed ? resolve() : out.once('close', resolve)));
    out.resume();
    const code = await this.exited;
    await ended;
    if (code !== 0 && code !== null && !WRITE_FAILED.test(this.stderr)) throw new Error(bzip2ToolMessage(this.stderr, code));
    if (this.sinkError) throw this.sinkError.error;
    if (code !== 0) throw new Error(bzip2ToolMessage(this.stderr, code));
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}
