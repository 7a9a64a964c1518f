// `pyc-audit merge FILE…`: the reports of sharded runs as one report, with the gaps and overlaps
// between them said on stderr. cli.ts loads this module only for `merge`.
import { EXIT, UsageError } from '../run/exit.js';
import { MagicTable } from '../magic/table.js';
import { MergeInputError, mergeReports, readReport } from '../report/merge.js';
import { colorFor } from '../report/color.js';
import { OutputError, Reporter, type ReportFlags, type ReportIo } from '../report/reporter.js';
import { printable } from '../report/text.js';
import { checkOutputs } from '../run/check-outputs.js';
import { VERSION } from '../version.js';

export async function runMerge(files: string[], flags: ReportFlags & { color?: boolean }, io: ReportIo): Promise<number> {
  const plan = await checkOutputs(flags, files);
  const inputs = [];
  for (const file of files) {
    try {
      inputs.push({ file, results: await readReport(file) });
    } catch (err) {
      if (err instanceof MergeInputError) throw new UsageError(err.message);
      throw err;
    }
  }
  const merged = mergeReports(inputs);
  const errColor = colorFor(io.stderr as ReportIo['stdout'], flags.color);
  for (const o of merged.overlaps.slice(0, 10)) io.stderr.write(`pyc-audit: warning: overlap: ${printable(o)}\n`);
  if (merged.overlaps.length > 10) io.stderr.write(`pyc-audit: warning: overlap: and ${merged.overlaps.length - 10} more\n`);
  for (const g of merged.gaps) io.stderr.write(`${errColor.red('pyc-audit: error:')} gap: ${printable(g)}\n`);
  let reporter: Reporter;
  try {
    reporter = await Reporter.open(flags, plan, io, { color: colorFor(io.stdout, flags.color), errColor, table: MagicTable.builtIn(), version: VERSION });
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
  merged.results.forEach((r, i) => reporter.add(r, i));
  const code = await reporter.close();
  return merged.gaps.length ? EXIT.error : code;
}
