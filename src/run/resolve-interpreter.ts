// --interpreter PATH: run it once; its magic and version become the run's target.
import { UsageError } from './exit.js';
import type { RunFlags } from './flags.js';

export async function resolveInterpreter(flags: RunFlags): Promise<void> {
  if (!flags.interpreter || flags.target) return;
  const { interpreterTarget, InterpreterError, probeInterpreter } = await import('../magic/interpreter.js');
  let info;
  try {
    info = await probeInterpreter(flags.interpreter, flags.timeout);
  } catch (err) {
    if (err instanceof InterpreterError) throw new UsageError(`--interpreter ${flags.interpreter}: ${err.message}`);
    throw err;
  }
  if (flags.python && flags.python !== info.version) throw new UsageError(`--python ${flags.python} but --interpreter ${flags.interpreter} is ${info.release}`);
  flags.python = info.version;
  flags.target = interpreterTarget(info, flags.interpreter);
}
