// How a run reads its artifacts: here, on the main thread, or also on reader threads (pool.ts).
// Decoders that run as programs or on libuv's thread pool are parallel by themselves; the tar walk
// and fzstd run on the thread that reads. A reader thread has a start-up cost and a memory cost, so threads are used only
// for enough work to repay it, never more than the cores whatever --jobs says, and within the
// memory budget (read-plan.ts, docs/performance.md).
import type { Reader } from './audit-artifact.js';
import type { ReaderPool } from './pool.js';
import { mightUseThreads, planReads, readersFor } from './read-plan.js';
import { zstd } from '../sources/codecs/codecs.js';
import type { ReadOptions } from '../sources/index.js';
import type { Target } from '../sources/folders/targets.js';

/**
 * The reader for a run of `targets` (`total` compressed bytes), and the pool to close after it, if
 * any: threads and artifacts decoded at once as planned from the cores and the memory budget.
 */
export async function chooseReader(targets: readonly Target[], total: number, jobs: number, options: ReadOptions): Promise<{ read: Reader; pool: ReaderPool | null }> {
  // Only a run that could use threads has its files' first bytes read to tell (file-kind.ts).
  const run = { jobs, artifacts: targets.length, totalBytes: total };
  const plan = planReads({ ...run, allConda: mightUseThreads(run) && zstdOnThisThread() && (await allConda(targets)) });
  return readersFor(plan, options);
}

/**
 * Whether zstd decodes on the thread that reads (node:zlib's engine without its thread pool, or
 * fzstd): only then does a reader thread add a core. Decoded on libuv's thread pool or by `zstd`
 * programs, two artifacts already decode on two cores, and threads cost time and memory
 * (docs/performance.md).
 */
function zstdOnThisThread(): boolean {
  try {
    return !zstd().offThread;
  } catch {
    return false; // a decoder forced that this machine lacks: every read says so
  }
}

/**
 * Only runs of .conda packages, as their bytes say (file-kind.ts): bzip2 decoding runs as programs
 * that use the cores by themselves, and a folder, URL or stdin is read on the main thread anyway.
 */
async function allConda(targets: readonly Target[]): Promise<boolean> {
  if (!targets.every((t) => t.kind === 'file')) return false;
  const { isCondaPackage } = await import('../sources/formats/file-kind.js');
  for (const t of targets) if (!(await isCondaPackage(t.path))) return false;
  return true;
}
