// --output, checked before anything is read or written: where each report goes, and that no
// output is one of the inputs.
import { stat } from '../sources/access/stat-file.js';
import type { Format } from '../report/formats.js';
import { fileKey, planOutputs, type OutputPlan } from '../report/output.js';
import { OutputError } from '../report/reporter.js';
import { UsageError } from './exit.js';

/** `files`: the inputs that are files (an output may not be one of them). */
export async function checkOutputs(flags: { output?: string[]; format: Format }, files: string[]): Promise<OutputPlan> {
  const keys = async () => new Set((await Promise.all(files.map((f) => stat(f).then(fileKey, () => null)))).filter((k): k is string => k !== null));
  try {
    return await planOutputs(flags.output ?? [], flags.format, keys);
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
}
