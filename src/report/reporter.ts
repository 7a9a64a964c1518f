// One run's output: results go in as each artifact finishes, the chosen reports go to stdout and
// to --output files (each written whole or not at all), --list-stale to stdout, one error line
// per unreadable input to stderr, and a tally decides the exit status. Shared by audit, channel
// and merge. Reports print in the order the inputs were given (each artifact as soon as it and
// all before it are done); ndjson is written in the order artifacts finish, each line carrying
// its input's index, so a slow first input holds nothing back and a killed run keeps every
// finished line.
import { Chalk, type ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../judge/artifact.js';
import type { MagicTable } from '../magic/table.js';
import type { Severity } from '../judge/rules.js';
import { addToTally, emptyTally, type Tally } from './json.js';
import { writerFor, type Format, type ReportWriter } from './formats.js';
import { listStaleWriter, recipeListWriter } from './list-stale.js';
import { formatSummary, printable } from './text.js';
import { OutputError, OutputFile, type OutputPlan } from './output.js';

export { OutputError };

export interface ReportFlags {
  format: Format;
  /** --output values: FILE and FORMAT=FILE (see output.ts). */
  output?: string[];
  listStale?: boolean;
  /** --by: what --list-stale lists, one line each: artifacts (the default), or the recipes that built them. */
  by?: 'artifact' | 'recipe';
  maxFindings: number;
  failOn: Severity | 'never';
  /** Append to the ndjson --output: the results it already holds are added with add(r, i, true). */
  resume?: boolean;
  /** Text: list every artifact and how it was read. */
  verbose?: boolean;
  /** Text: list only what needs a look, however few the inputs (and no progress line). */
  quiet?: boolean;
  /** The target came from --interpreter. */
  interpreter?: string;
}

/** Up to this many inputs, the text report lists every artifact (OK ones too). */
export const LIST_ALL_UP_TO = 10;

export interface ReportIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/** Only the closing summary line of the text report (beside --output). */
function summaryWriter(o: { color: ChalkInstance; table?: MagicTable }): ReportWriter {
  return { begin: () => '', artifact: () => '', end: (t) => formatSummary(t, o) };
}

interface Sink {
  write(text: string): void;
}


/** The ndjson file --resume continues: the one ndjson file output. */
export function resumeTarget(plan: OutputPlan): OutputPlan['files'][number] {
  const ndjson = plan.files.filter((f) => f.format === 'ndjson');
  if (ndjson.length !== 1) throw new OutputError('--resume needs --format ndjson and --output FILE (or --output ndjson=FILE): the report to continue');
  return ndjson[0]!;
}

/** A report and where it goes. */
interface WriterEntry {
  writer: ReportWriter;
  sink: Sink;
  resumed?: boolean;
}

export class Reporter {
  readonly tally: Tally;
  private readonly writers: WriterEntry[] = [];
  private readonly files: OutputFile[] = [];
  /** Results waiting for an earlier input to finish, by input index. */
  private readonly waiting = new Map<number, { r: ArtifactResult; inOutput: boolean } | null>();
  private next = 0;
  private inOrder = false;

  private constructor(
    failOn: Severity | 'never',
    private readonly errColor: ChalkInstance,
    /** Writes a line to stderr without tearing a progress line. */
    private readonly warnLine: (line: string) => void,
  ) {
    this.tally = emptyTally(failOn);
  }

  /** Opens every --output (already checked by planOutputs) and writes every report's opening. */
  static async open(
    flags: ReportFlags,
    plan: OutputPlan,
    io: ReportIo,
    o: {
      color: ChalkInstance;
      errColor: ChalkInstance;
      table: MagicTable;
      version: string;
      warn?: (line: string) => void;
      /** Around each write to stdout: clear a progress line on the terminal, then draw it again. */
      aroundStdout?: { pause(): void; resume(): void };
      /** How many artifacts the run has, when known (the text report lists every one when few). */
      inputs?: number;
    },
  ): Promise<Reporter> {
    const warn = o.warn ?? ((line: string) => io.stderr.write(line));
    const reporter = new Reporter(flags.failOn, o.errColor, warn);
    const around = o.aroundStdout && io.stdout.isTTY ? o.aroundStdout : null;
    const stdout: Sink = {
      write: (text) => {
        if (!text) return;
        around?.pause();
        io.stdout.write(text);
        around?.resume();
      },
    };
    const listing = { all: !!flags.verbose || (!flags.quiet && (o.inputs === undefined || o.inputs <= LIST_ALL_UP_TO)), verbose: !!flags.verbose, interpreter: !!flags.interpreter };
    const options = (color: ChalkInstance) => ({ color, table: o.table, maxFindings: flags.maxFindings, version: o.version, failOn: flags.failOn, warn, listing });
    try {
      for (const f of plan.files) {
        const appending = !!flags.resume && f.format === 'ndjson';
        const file = await OutputFile.open(f.path, f.target, appending ? 'append' : f.mode, (line) => warn(`${o.errColor.red('pyc-audit: error:')} ${line}\n`), f.existing);
        reporter.files.push(file);
        reporter.writers.push({ writer: await writerFor(f.format, options(new Chalk({ level: 0 }))), sink: file, resumed: appending });
      }
    } catch (err) {
      for (const file of reporter.files) file.abort();
      throw err;
    }
    // stdout: the rebuild list with --list-stale; else the report, or its summary line when a
    // plain --output FILE takes the report.
    if (flags.listStale) reporter.writers.push({ writer: flags.by === 'recipe' ? recipeListWriter(flags.failOn, warn) : listStaleWriter(flags.failOn, warn), sink: stdout });
    else if (plan.stdoutFormat) reporter.writers.push({ writer: await writerFor(plan.stdoutFormat, options(o.color)), sink: stdout });
    else reporter.writers.push({ writer: summaryWriter({ color: o.color, table: o.table }), sink: stdout });
    reporter.inOrder = reporter.writers.some((w) => !w.writer.inFinishOrder);
    for (const { writer, sink } of reporter.writers) sink.write(writer.begin());
    return reporter;
  }

  /**
   * A finished artifact, `index` its position among the inputs (each index once, any order).
   * `inOutput`: a result --resume found in the ndjson output already; it counts, and is not written there again.
   */
  add(r: ArtifactResult, index: number, inOutput = false): void {
    const texts: [WriterEntry, string][] = [];
    for (const w of this.writers) if (w.writer.inFinishOrder && !(inOutput && w.resumed)) r = this.render(w, r, index, texts);
    for (const [w, text] of texts) w.sink.write(text);
    if (!this.inOrder) return this.settle(r, index, inOutput);
    this.waiting.set(index, { r, inOutput });
    this.flush();
  }

  /** An input that is no artifact (an empty part of a tree): nothing is reported or counted for it. */
  skip(index: number): void {
    if (!this.inOrder) return;
    this.waiting.set(index, null);
    this.flush();
  }

  private flush(): void {
    for (let w = this.waiting.get(this.next); w !== undefined; w = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      if (w) this.settle(w.r, this.next, w.inOutput);
      this.next++;
    }
  }

  /** In input order: the tally, the error lines, and the reports written in order. */
  private settle(r: ArtifactResult, index: number, inOutput: boolean): void {
    const texts: [WriterEntry, string][] = [];
    for (const w of this.writers) if (!w.writer.inFinishOrder && !(inOutput && w.resumed)) r = this.render(w, r, index, texts);
    addToTally(this.tally, r);
    const red = this.errColor.red('pyc-audit: error:');
    if (r.error !== null) this.warnLine(`${red} ${printable(r.path)}: ${printable(r.error)}\n`);
    if (r.unreadable.length) {
      const more = r.unreadable.length > 3 ? `, and ${r.unreadable.length - 3} more` : '';
      this.warnLine(`${red} ${printable(r.path)}: ${r.unreadable.length} entr${r.unreadable.length === 1 ? 'y' : 'ies'} could not be read: ${r.unreadable.slice(0, 3).map(printable).join('; ')}${more}\n`);
    }
    for (const [w, text] of texts) w.sink.write(text);
  }

  /**
   * One writer's text for a result, added to `texts`. A result too large to write (a string past
   * V8's limit) becomes that artifact's error, in every report, never the run's end: the result
   * to carry on with is returned (and texts already made are made again for it).
   */
  private render(w: WriterEntry, r: ArtifactResult, index: number, texts: [WriterEntry, string][]): ArtifactResult {
    try {
      texts.push([w, w.writer.artifact(r, index)]);
      return r;
    } catch (err) {
      const failed: ArtifactResult = { ...r, error: `its result could not be written: ${(err as Error).message}`, pyc: [], status: null, notes: [], unreadable: [], findings: [] };
      for (const t of texts) t[1] = t[0].writer.artifact(failed, index);
      texts.push([w, w.writer.artifact(failed, index)]);
      return failed;
    }
  }

  /**
   * Writes every report's end and puts each --output file in place; returns the exit status the
   * results call for, or 2 when a report could not be written (said on stderr as it happened).
   */
  async close(): Promise<number> {
    for (const [index, w] of [...this.waiting].sort((a, b) => a[0] - b[0])) if (w) this.settle(w.r, index, w.inOutput);
    this.waiting.clear();
    for (const { writer, sink } of this.writers) sink.write(writer.end(this.tally));
    const errors = await Promise.all(this.files.map((f) => f.close()));
    if (errors.some((e) => e !== null)) return 2;
    if (this.tally.errors || this.tally.incomplete) return 2;
    return this.tally.failing ? 1 : 0;
  }

  /** The run is given up (an exception): every --output is left as it was. */
  abort(): void {
    for (const f of this.files) f.abort();
  }
}
