// How a run reads its artifacts: here, on the main thread, or also on reader threads (pool.ts).
// Decoders that run as programs, and node:zlib's, are parallel by themselves; the tar walk and
// fzstd run on the thread that reads. A reader thread has a start-up cost, so threads are used
// only for enough work to repay it (docs/performance.md), and never more than the cores, whatever
// --jobs says.
import type { Reader } from '../audit.js';
import type { ReaderPool } from '../pool.js';
import { CORES } from '../sources/codecs.js';
import { readTarget, type ReadOptions } from '../sources/index.js';
import type { Target } from '../sources/targets.js';

/**
 * Compressed bytes in one run above which reader threads pay for their start-up (docs/performance.md);
 * PYC_AUDIT_THREADS_MIN_BYTES sets it (tests run the threads on small inputs with it).
 */
const THREADS_WORTH_IT = /^\d+$/.test(process.env.PYC_AUDIT_THREADS_MIN_BYTES ?? '') ? Number(process.env.PYC_AUDIT_THREADS_MIN_BYTES) : 128 << 20;

/** The reader for a run of `targets` (`total` compressed bytes), and the pool to close after it, if any. */
export async function chooseReader(targets: readonly Target[], total: number, jobs: number, options: ReadOptions): Promise<{ read: Reader; pool: ReaderPool | null }> {
  const threads = targets.length > 1 && jobs > 1 && total >= THREADS_WORTH_IT && (await allConda(targets));
  // pool.ts (node:worker_threads) loads only when threads are used: it costs start-up time.
  const pool = threads ? new (await import('../pool.js')).ReaderPool(Math.min(jobs, targets.length, CORES), options) : null;
  return { read: pool ? pool.read : (t, extra) => readTarget(t, { ...options, ...extra }), pool };
}

/**
 * Only runs of .conda packages, as their bytes say (file-kind.ts): bzip2 decoding runs as programs
 * that use the cores by themselves, and a folder, URL or stdin is read on the main thread anyway.
 */
async function allConda(targets: readonly Target[]): Promise<boolean> {
  if (!targets.every((t) => t.kind === 'file')) return false;
  const { isCondaPackage } = await import('../sources/file-kind.js');
  for (const t of targets) if (!(await isCondaPackage(t.path))) return false;
  return true;
}
