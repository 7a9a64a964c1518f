// How a run reads its artifacts: here, on the main thread, or also on reader threads (pool.ts).
// Decoders that run as programs, and node:zlib's, are parallel by themselves; the tar walk and
// fzstd run on the thread that reads. A reader thread has a start-up cost, so threads are used
// only for enough work to repay it (docs/performance.md), and never more than the cores, whatever
// --jobs says.
import type { Reader } from '../audit.js';
import { ReaderPool } from '../pool.js';
import { CORES } from '../sources/codecs.js';
import { readTarget, type ReadOptions } from '../sources/index.js';
import type { Target } from '../sources/targets.js';

/**
 * Compressed bytes in one run above which reader threads pay for their start-up (docs/performance.md);
 * PYC_AUDIT_THREADS_MIN_BYTES sets it (tests run the threads on small inputs with it).
 */
const THREADS_WORTH_IT = /^\d+$/.test(process.env.PYC_AUDIT_THREADS_MIN_BYTES ?? '') ? Number(process.env.PYC_AUDIT_THREADS_MIN_BYTES) : 128 << 20;

/** The reader for a run of `targets` (`total` compressed bytes), and the pool to close after it, if any. */
export function chooseReader(targets: readonly Target[], total: number, jobs: number, options: ReadOptions): { read: Reader; pool: ReaderPool | null } {
  // Only .conda runs: bzip2 decoding runs as programs that use the cores by themselves.
  const allConda = targets.every((t) => t.kind === 'file' && t.path.endsWith('.conda'));
  const pool = allConda && targets.length > 1 && jobs > 1 && total >= THREADS_WORTH_IT ? new ReaderPool(Math.min(jobs, targets.length, CORES), options) : null;
  return { read: pool ? pool.read : (t, extra) => readTarget(t, { ...options, ...extra }), pool };
}
