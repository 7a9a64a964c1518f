// Decoder programs on PATH (zstd, lbzip2, pbzip2, bzip2): whether one is there, how many run at
// once, and one run of a program from input (or an open file's descriptor) to a sink, with its
// verdict on the data in plain words.
import { createRequire } from 'node:module';
import { CORES } from '../../run/cores.js';
import type { Readable } from 'node:stream';
import { StopRead, type Sink } from './types.js';

const require = createRequire(import.meta.url);
// Loaded when a program is first run: every module costs start-up time.
export const childProcess = () => require('node:child_process') as typeof import('node:child_process');

const found = new Map<string, boolean>();
/** Whether a program runs here (looked up once per process). */
export function onPath(program: string): boolean {
  let ok = found.get(program);
  if (ok === undefined) {
    ok = childProcess().spawnSync(program, ['--help'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
    found.set(program, ok);
  }
  return ok;
}

/** A program and its arguments. */
export interface Command {
  command: string;
  args: string[];
}

/**
 * The command that runs `program args` with its standard output written in large pieces, when
 * coreutils' `stdbuf` is here and works. bzip2 writes through stdio, whose buffer on a pipe is
 * 4 KiB; Node, waiting for the next chunk, wakes for each one and hands it on as a chunk of its own
 * (tens of thousands of reads, callbacks and Buffers per artifact). With a 1 MiB stdio buffer the
 * program writes 1 MiB at a time, read 64 KiB at a time (docs/performance.md: the bzip2 profile).
 */
export function largeWrites(program: string, args: string[]): Command {
  if (stdbufWorks === undefined) {
    const r = childProcess().spawnSync('stdbuf', ['-o1M', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    // A stdbuf whose library cannot be preloaded says so on stderr (at every run): not used then.
    stdbufWorks = r.error === undefined && r.status === 0 && r.stderr.length === 0;
  }
  return stdbufWorks ? { command: 'stdbuf', args: ['-o1M', program, ...args] } : { command: program, args };
}
let stdbufWorks: boolean | undefined;

/**
 * Runs of one artifact decoded at once: one per core, at most 4. Each holds a piece of its
 * re-wrapped input and its output ahead of the reader in this process: on a machine of many cores,
 * a lane per core would hold hundreds of MB for one file.
 */
export const LANES = Math.min(CORES, 4);
/** At most LANES decoder programs run at once (one per core, at most 4: each holds buffers here); the rest wait their turn, first come first served. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          const nextWaiter = this.waiting.shift();
          if (nextWaiter) nextWaiter();
          else this.free++;
        });
      };
      if (this.free > 0) {
        this.free--;
        grant();
      } else this.waiting.push(grant);
    });
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await f();
    } finally {
      release();
    }
  }
}
export const slots = new Slots(LANES);

/** A lock: calls run one after another. */
export function oneAtATime(): <T>(f: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (f) => {
    const run = tail.then(f, f);
    tail = run.catch(() => {});
    return run;
  };
}

/** What a decoder program says when the reader of its output went away. */
export const WRITE_FAILED = /write error|broken pipe|connection reset|EPIPE|cannot write/i;

/**
 * Runs a decoder program, feeding it `input`, or giving it an open file's descriptor (at offset 0)
 * to read by itself.
 */
export async function runProgram(program: string, args: string[], input: AsyncIterable<Buffer> | number, sink: Sink, describe: (stderr: string, code: number | null) => string): Promise<void> {
    const child = childProcess().spawn(program, args, { stdio: [typeof input === 'number' ? input : 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`${program}: ${err.message}`)));
      child.on('close', (code) => resolve(code));
    });
    exited.catch(() => {});
    const stdin = child.stdin;
    // EPIPE when the decoder stops reading bad input: 'drain' then never comes, so a write that
    // waits for it also gives up when the pipe closes.
    stdin?.on('error', () => {});
    const pipeClosed = stdin ? new Promise<void>((r) => stdin.once('close', r)) : Promise.resolve();
    const feed = (async () => {
      if (typeof input === 'number' || !stdin) return;
      try {
        for await (const chunk of input) {
          if (stdin.destroyed) break;
          if (!stdin.write(chunk)) await Promise.race([new Promise((r) => stdin.once('drain', r)), pipeClosed]);
        }
      } finally {
        stdin.end();
      }
    })();
    feed.catch(() => {});
    let sinkFailed = false;
    try {
      for await (const chunk of child.stdout! as Readable) {
        try {
          sink(chunk as Buffer);
        } catch (err) {
          sinkFailed = true;
          throw err;
        }
      }
      await feed;
      const code = await exited;
      if (code !== 0) throw new Error(describe(stderr, code));
    } catch (err) {
      // The decoder's own verdict on the data explains a failure better than what followed it
      // (the tar walker choking on the garbage it wrote), unless it only failed to write because
      // the sink stopped reading (--max-bytes, the end of what is needed).
      if (child.exitCode === null && !sinkFailed) child.kill();
      // A sink that needs no more output: the program's complaint about what it had not yet been
      // asked for would depend on how far it got (a race); the caller judges the rest itself.
      if (sinkFailed && err instanceof StopRead) {
        if (child.exitCode === null) child.kill();
        throw err;
      }
      const code = await Promise.race([exited.catch(() => null), new Promise<null>((r) => (setTimeout(r, 2000) as unknown as NodeJS.Timeout).unref())]);
      if (child.exitCode === null) child.kill();
      if (code !== 0 && code !== null && stderr && !WRITE_FAILED.test(stderr)) throw new Error(describe(stderr, code));
      throw err;
    }
}

/** What the `zstd` program's complaint means, in plain words. */
export function zstdToolMessage(stderr: string, code: number | null): string {
  if (/truncated|unexpected end|premature/i.test(stderr)) return 'truncated: the zstd stream ends before its frame does';
  if (/unknown header|not in zstd format|unsupported format/i.test(stderr)) return 'corrupt zstd data: not a zstd frame';
  const detail = stderr.replace(/^.*?: /, '').replace(/\s+/g, ' ').trim();
  return `corrupt zstd data${detail ? `: ${detail.slice(0, 160)}` : ` (zstd exit ${code})`}`;
}

/** What a bzip2 program's complaint means, in plain words. */
export function bzip2ToolMessage(stderr: string, code: number | null): string {
  const text = stderr.replace(/\s+/g, ' ');
  if (/ends unexpectedly|unexpected end|premature/i.test(text)) return 'truncated bzip2 data: compressed stream ends unexpectedly';
  if (/not a bzip2 file|bad magic|not bzip2/i.test(text)) return 'not bzip2 data';
  if (/data integrity|crc/i.test(text)) return 'corrupt bzip2 data: data integrity (CRC) error';
  // lbzip2 cannot tell a cut-off stream from a damaged one: "compressed data error: bad block header magic".
  const lbzip2 = /compressed data error: ([^\n]+)/.exec(stderr);
  if (lbzip2) return `corrupt or truncated bzip2 data: ${lbzip2[1]!.trim()}`;
  return `corrupt bzip2 data (decoder exit ${code}${text.trim() ? `: ${text.trim().slice(0, 160)}` : ''})`;
}
