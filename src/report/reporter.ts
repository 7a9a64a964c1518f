// One run's output: results go in (in the order given), the chosen report goes to stdout or
// --output, --list-stale to stdout, one error line per unreadable input to stderr, and a tally
// decides the exit status. Shared by audit, channel and merge.
import { createWriteStream } from 'node:fs';
import { Chalk, type ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../audit.js';
import type { MagicTable } from '../magic/table.js';
import type { Severity } from '../rules.js';
import { addToTally, emptyTally, type Tally } from './json.js';
import { listStaleWriter, writerFor, type Format, type ReportWriter } from './formats.js';
import { formatSummary, printable } from './text.js';

export interface ReportFlags {
  format: Format;
  output?: string;
  listStale?: boolean;
  maxFindings: number;
  failOn: Severity | 'never';
  /** Append to --output (ndjson): the results it already holds are added with add(r, true). */
  resume?: boolean;
}

export interface ReportIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A problem with --output (a bad path), as opposed to a problem with an input. */
export class OutputError extends Error {}

/** Only the closing summary line of the text report (beside --output). */
function summaryWriter(o: { color: ChalkInstance }): ReportWriter {
  return { begin: () => '', artifact: () => '', end: (t) => formatSummary(t, o) };
}

async function openOutput(path: string, append: boolean): Promise<NodeJS.WritableStream> {
  const stream = createWriteStream(path, { flags: append ? 'a' : 'w' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(new OutputError(`--output ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
  });
  return stream;
}

function closeOutput(stream: NodeJS.WritableStream, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', (err: Error) => reject(new OutputError(`--output ${path}: ${err.message}`)));
    stream.end(() => resolve());
  });
}

export class Reporter {
  readonly tally: Tally;
  private writers: [ReportWriter, NodeJS.WritableStream][] = [];
  private reportStream: NodeJS.WritableStream | null = null;
  private report: ReportWriter | null = null;

  private constructor(
    private readonly flags: ReportFlags,
    private readonly io: ReportIo,
    private readonly errColor: ChalkInstance,
    /** Writes a line to stderr without tearing a progress line. */
    private readonly warnLine: (line: string) => void,
  ) {
    this.tally = emptyTally(flags.failOn);
  }

  /** Opens --output (if any) and writes every report's opening. */
  static async open(
    flags: ReportFlags,
    io: ReportIo,
    o: { color: ChalkInstance; errColor: ChalkInstance; table: MagicTable; version: string; warn?: (line: string) => void },
  ): Promise<Reporter> {
    const reporter = new Reporter(flags, io, o.errColor, o.warn ?? ((line) => io.stderr.write(line)));
    // The report goes to stdout, or to --output while the text summary still comes here;
    // --list-stale puts the rebuild list on stdout instead.
    const reportStream = flags.output ? await openOutput(flags.output, !!flags.resume) : io.stdout;
    reporter.reportStream = flags.output ? reportStream : null;
    const report = await writerFor(flags.format, { color: flags.output ? new Chalk({ level: 0 }) : o.color, table: o.table, maxFindings: flags.maxFindings, version: o.version, failOn: flags.failOn });
    if (flags.listStale) reporter.writers.push([listStaleWriter(flags.failOn), io.stdout]);
    if (flags.output || !flags.listStale) reporter.writers.push([report, reportStream]);
    reporter.report = report;
    if (flags.output && !flags.listStale) reporter.writers.push([summaryWriter({ color: o.color }), io.stdout]);
    for (const [w, out] of reporter.writers) out.write(w.begin());
    return reporter;
  }

  /** `inOutput`: a result --resume found in --output already; it counts, and is not written again. */
  add(r: ArtifactResult, inOutput = false): void {
    addToTally(this.tally, r);
    const red = this.errColor.red('pyc-audit: error:');
    if (r.error !== null) this.warnLine(`${red} ${printable(r.path)}: ${printable(r.error)}\n`);
    if (r.unreadable.length) {
      const more = r.unreadable.length > 3 ? `, and ${r.unreadable.length - 3} more` : '';
      this.warnLine(`${red} ${printable(r.path)}: ${r.unreadable.length} entr${r.unreadable.length === 1 ? 'y' : 'ies'} could not be read: ${r.unreadable.slice(0, 3).map(printable).join('; ')}${more}\n`);
    }
    for (const [w, out] of this.writers) if (!(inOutput && w === this.report)) out.write(w.artifact(r));
  }

  /** Writes every report's end, closes --output, and returns the exit status the results call for. */
  async close(): Promise<number> {
    for (const [w, out] of this.writers) out.write(w.end(this.tally));
    if (this.reportStream && this.flags.output) await closeOutput(this.reportStream, this.flags.output);
    if (this.tally.errors || this.tally.incomplete) return 2;
    return this.tally.failing ? 1 : 0;
  }
}
