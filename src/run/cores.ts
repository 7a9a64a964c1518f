// How many cores the tool plans for: the machine's (os.availableParallelism), or PYC_AUDIT_CORES,
// which makes it plan for another machine (tests check a 64-core run's memory on a small one).
import { availableParallelism } from 'node:os';

function fromEnvironment(): number | null {
  const v = process.env.PYC_AUDIT_CORES;
  return v !== undefined && /^[1-9]\d{0,3}$/.test(v) ? Number(v) : null;
}

/** Decoder programs and threads run at once, whatever --jobs says: one per core. */
export const CORES = fromEnvironment() ?? Math.max(1, availableParallelism());
