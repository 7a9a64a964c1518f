// How many artifacts are decoded at once, and on how many threads: bounded by the cores and by a
// memory budget, whatever --jobs says. --jobs still sets how many audits run at once (downloads
// wait on the network, not on a core); only their reading of local files takes turns here.
import pLimit from 'p-limit';
import type { Reader } from './audit-artifact.js';
import { CORES } from './cores.js';
import type { ReaderPool } from './pool.js';
import { readTarget, type ReadOptions } from '../sources/index.js';

const count = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : fallback;
};

/**
 * The peak RSS a run plans for, in MB (PYC_AUDIT_MEMORY_MB sets another): what decides how many
 * reader threads start, and how many artifacts the main thread decodes at once.
 */
export const MEMORY_MB = count('PYC_AUDIT_MEMORY_MB', 100);
/**
 * Downloads in flight at once by default (--downloads sets another): a download waits on the
 * network, not on a core, so this is not --jobs. Each holds up to a 64 KiB tail and the member it
 * is reading (its decoding takes turns with the others on the main thread), about 4 MB at most:
 * the memory budget bounds them, 4 to 32.
 */
export const DOWNLOADS = Math.max(4, Math.min(32, Math.floor(MEMORY_MB / 4)));

/**
 * Costs in MB, measured on Node 24 with the 4 big `.conda` of the bench corpus (docs/performance.md):
 * a run reading one large artifact at a time; each more artifact decoded at once on the main thread;
 * each reader thread (its own V8 isolate and modules, and the artifact it reads).
 */
const ONE_READ_MB = 80;
const MORE_READ_MB = 16;
const THREAD_MB = 20;

/**
 * Compressed bytes in one run above which reader threads pay for their start-up (docs/performance.md);
 * PYC_AUDIT_THREADS_MIN_BYTES sets it (tests run the threads on small inputs with it).
 */
export const THREADS_WORTH_IT = count('PYC_AUDIT_THREADS_MIN_BYTES', 128 << 20);

export interface ReadPlan {
  /** Local artifacts the main thread decodes at once (interleaved by the event loop). */
  readsOnMain: number;
  /** Reader threads beside the main thread (0: none is started). */
  threads: number;
}

/**
 * The plan for `artifacts` inputs of `totalBytes` compressed bytes: never more threads than cores
 * (less one: the main thread reads too) or than `jobs`, and no more than the memory budget holds.
 * Threads only for runs of `.conda` (`allConda`) big enough to repay their start; bzip2 decodes in
 * programs that use the cores by themselves.
 */
/** Whether a run has the artifacts, the jobs and the bytes for reader threads to be worth considering. */
export function mightUseThreads(p: { jobs: number; artifacts: number; totalBytes: number; threadsMinBytes?: number }): boolean {
  return p.artifacts > 1 && p.jobs > 1 && p.totalBytes >= (p.threadsMinBytes ?? THREADS_WORTH_IT);
}

export function planReads(p: { jobs: number; artifacts: number; totalBytes: number; allConda: boolean; cores?: number; memoryMb?: number; threadsMinBytes?: number }): ReadPlan {
  const cores = p.cores ?? CORES;
  const memory = p.memoryMb ?? MEMORY_MB;
  const spare = Math.max(0, memory - ONE_READ_MB);
  const readsOnMain = Math.max(1, Math.min(p.jobs, cores, 1 + Math.floor(spare / MORE_READ_MB)));
  const wanted = p.allConda && mightUseThreads(p);
  const threads = wanted ? Math.max(0, Math.min(p.jobs - 1, p.artifacts - 1, cores - 1, Math.floor(spare / THREAD_MB))) : 0;
  return { readsOnMain, threads };
}

/**
 * The reader that carries out `plan`: reader threads beside the main thread when it has them (close
 * the pool at the end), else reads on the main thread, local files `readsOnMain` at a time.
 */
export async function readersFor(plan: ReadPlan, options: ReadOptions): Promise<{ read: Reader; pool: ReaderPool | null }> {
  if (plan.threads > 0) {
    // pool.ts (node:worker_threads) loads only when threads are used: it costs start-up time.
    const pool = new (await import('./pool.js')).ReaderPool(plan.threads + 1, options);
    return { read: pool.read, pool };
  }
  const local = pLimit(plan.readsOnMain);
  const read: Reader = (t, extra) => {
    const o = { ...options, ...extra };
    return t.kind === 'file' ? local(() => readTarget(t, o)) : readTarget(t, o);
  };
  return { read, pool: null };
}
