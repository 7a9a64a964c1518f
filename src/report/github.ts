// --format github: workflow commands (::error/::warning/::notice) for GitHub Actions, sized for
// what GitHub shows. A step shows at most 10 error, 10 warning and 10 notice annotations (and a job
// 50), so findings are grouped by artifact and cause, the groups sorted worst first (severity, then
// how many files), and at most ANNOTATIONS_PER_LEVEL of each level annotated; the last notice is
// the run's summary and says how many groups were not annotated. The whole picture goes to the job
// summary: with $GITHUB_STEP_SUMMARY set, a Markdown section (per artifact, counts per code, the
// rebuild list) is appended to that file, as GitHub expects of every step. What is kept until the
// end is bounded (the annotations shown, SUMMARY_ROWS rows and names), whatever the run's size.
import { fixFor } from './fixes.js';
import { Chalk } from 'chalk';
import type { ArtifactResult } from '../judge/artifact.js';
import { packageId } from '../judge/package-info.js';
import { ruleFor, severityRank, type Severity } from '../judge/rules.js';
import { markdownText, printable } from './escape.js';
import { describeFileError } from '../sources/access/regular-file.js';
import { describeGroup, groupFindings } from './groups.js';
import { rebuildIds } from './list-stale.js';
import type { Tally } from './json.js';
import { formatSummary, statusLabel } from './text.js';

/** GitHub's per-step limit for each of error, warning and notice annotations. */
export const ANNOTATIONS_PER_LEVEL = 10;
/** Rows of the summary's tables; the job summary of a step holds at most 1 MiB. */
export const SUMMARY_ROWS = 500;

// GitHub workflow commands: data escapes %, CR, LF; properties also ':' and ','. Text from an
// artifact is made printable first: a log shows ESC, BEL or NUL as they are.
const escapeData = (s: string) => printable(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

type Level = 'error' | 'warning' | 'notice';
const LEVEL: Record<Severity, Level> = { error: 'error', warning: 'warning', info: 'notice' };

interface Annotation {
  level: Level;
  /** How many files it stands for: more first among equals. */
  weight: number;
  file: string;
  title: string;
  /** Lines of the message: each made printable, then joined by an escaped line break. */
  message: string | string[];
}

interface ArtifactRow {
  name: string;
  status: string;
  counts: Record<Severity, number>;
  codes: Map<string, number>;
}

/** Artifact text in the job summary's Markdown: shown as text, never as HTML, a link or a cell break (escape.ts). */
const cellText = (s: string) => markdownText(s);

export interface GithubOptions {
  failOn: Severity | 'never';
  /** $GITHUB_STEP_SUMMARY, or null. */
  summaryPath: string | null;
  /** Appends text to a file (the edge that does I/O); throws on failure. */
  append: (path: string, text: string) => void;
}

/** Keeps the `limit` first items by `compare` (a bounded buffer: memory does not grow with the run). */
class Worst<T> {
  private items: T[] = [];
  private cut = 0;
  constructor(private readonly limit: number, private readonly compare: (a: T, b: T) => number) {}
  add(item: T): void {
    this.items.push(item);
    // Trimmed in batches: one sort per `limit` items.
    if (this.items.length >= 2 * this.limit) this.trim();
  }
  private trim(): void {
    this.items.sort(this.compare);
    if (this.items.length > this.limit) {
      this.cut += this.items.length - this.limit;
      this.items.length = this.limit;
    }
  }
  /** The kept items, in order. */
  get kept(): readonly T[] {
    this.trim();
    return this.items;
  }
  /** How many were left out. */
  get dropped(): number {
    this.trim();
    return this.cut;
  }
}

const byWeight = (a: Annotation, b: Annotation) => b.weight - a.weight;
const byCounts = (a: ArtifactRow, b: ArtifactRow) => b.counts.error - a.counts.error || b.counts.warning - a.counts.warning || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class GithubReportWriter {
  // Per level, the heaviest annotations (one notice is kept for the summary).
  private readonly annotations: Record<Level, Worst<Annotation>> = {
    error: new Worst(ANNOTATIONS_PER_LEVEL, byWeight),
    warning: new Worst(ANNOTATIONS_PER_LEVEL, byWeight),
    notice: new Worst(ANNOTATIONS_PER_LEVEL - 1, byWeight),
  };
  private readonly rows = new Worst<ArtifactRow>(SUMMARY_ROWS, byCounts);
  /** What to rebuild: ids listed (at most SUMMARY_ROWS), by recipe URL ('' for builds that record none). */
  private readonly rebuild = new Map<string, { commits: Set<string>; ids: Set<string> }>();
  private rebuildCount = 0;
  private moreToRebuild = 0;

  constructor(private readonly o: GithubOptions) {}

  begin(): string {
    return '';
  }

  artifact(r: ArtifactResult): string {
    const file = r.path;
    const name = packageId(r.package) ?? r.path;
    if (r.error !== null) {
      this.annotate({ level: 'error', weight: Infinity, file, title: 'pyc-audit: cannot read', message: r.error });
      this.rows.add({ name, status: 'ERROR', counts: { error: 0, warning: 0, info: 0 }, codes: new Map() });
      return '';
    }
    if (r.unreadable.length) {
      this.annotate({ level: 'error', weight: Infinity, file, title: 'pyc-audit: unreadable entries', message: `${r.unreadable.length} could not be read: ${r.unreadable.slice(0, 3).join('; ')}${r.unreadable.length > 3 ? '; …' : ''}` });
    }
    for (const g of groupFindings(r.findings)) {
      const { subject, text } = describeGroup(g);
      const n = g.findings.length;
      this.annotate({ level: LEVEL[g.severity], weight: n, file, title: `pyc-audit ${g.code}${n > 1 ? ` (${n}×)` : ''}: ${ruleFor(g.code).title}`, message: [`${subject}: ${text}`, `fix: ${fixFor(g.code, r)}`] });
    }
    for (const note of r.notes) if (note.level === 'warning') this.annotate({ level: 'warning', weight: 1, file, title: 'pyc-audit: note', message: note.text });
    if (r.findings.length || r.unreadable.length) {
      const counts = { error: 0, warning: 0, info: 0 };
      const codes = new Map<string, number>();
      for (const f of r.findings) {
        counts[f.severity]++;
        codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
      }
      // The status as the text report's column says it: the worst reported finding.
      this.rows.add({ name, status: statusLabel(r).text, counts, codes });
    }
    // The rebuild list is --list-stale's: conda builds, installed packages of an environment, wheels.
    // Grouped by the recipe that built it (info/about.json), as --list-stale --by recipe.
    const recipe = r.recipe?.url ?? '';
    for (const { id } of rebuildIds(r, this.o.failOn).ids) {
      const group = this.rebuild.get(recipe) ?? { commits: new Set<string>(), ids: new Set<string>() };
      if (group.ids.has(id)) continue;
      if (this.rebuildCount >= SUMMARY_ROWS) {
        this.moreToRebuild++;
        continue;
      }
      group.ids.add(id);
      if (r.recipe?.sha) group.commits.add(r.recipe.sha);
      this.rebuild.set(recipe, group);
      this.rebuildCount++;
    }
    return '';
  }

  private annotate(a: Annotation): void {
    this.annotations[a.level].add(a);
  }

  end(t: Tally): string {
    let out = '';
    let left = 0;
    for (const level of ['error', 'warning', 'notice'] as const) {
      const worst = this.annotations[level];
      left += worst.dropped;
      for (const a of worst.kept) out += `::${a.level} file=${escapeProperty(a.file)},title=${escapeProperty(a.title)}::${(Array.isArray(a.message) ? a.message : [a.message]).map(escapeData).join('%0A')}\n`;
    }
    // The summary line alone (a channel run's build windows follow it in the text report).
    let summary = formatSummary(t, { color: new Chalk({ level: 0 }) }).split('\n')[0]!.trim();
    if (left) summary += `; ${left} more ${left === 1 ? 'group' : 'groups'} of findings not annotated (GitHub shows ${ANNOTATIONS_PER_LEVEL} of each level per step)${this.o.summaryPath ? ': see the job summary' : ''}`;
    if (this.o.summaryPath) {
      try {
        this.o.append(this.o.summaryPath, this.markdown(summary));
      } catch (err) {
        out += `::warning title=${escapeProperty('pyc-audit: job summary')}::${escapeData(`could not write ${this.o.summaryPath}: ${describeFileError(err)}`)}\n`;
      }
    }
    return `${out}::notice title=pyc-audit::${escapeData(summary)}\n`;
  }

  /** The job summary: the totals, a row per artifact with findings (worst first), the rebuild list. */
  markdown(summary: string): string {
    const rows = this.rows.kept;
    let md = `## pyc-audit\n\n${cellText(summary)}\n\n`;
    if (rows.length) {
      md += '| artifact | status | errors | warnings | info | findings by code |\n|---|---|---:|---:|---:|---|\n';
      for (const r of rows) {
        const codes = [...r.codes].sort((a, b) => severityRank(ruleFor(a[0]).severity) - severityRank(ruleFor(b[0]).severity) || (a[0] < b[0] ? -1 : 1)).map(([code, n]) => `${code} ×${n}`).join(', ');
        md += `| ${cellText(r.name)} | ${r.status} | ${r.counts.error} | ${r.counts.warning} | ${r.counts.info} | ${codes} |\n`;
      }
      if (this.rows.dropped) md += `\n… and ${this.rows.dropped} more artifacts with findings (the json format lists all).\n`;
    }
    if (this.rebuildCount) {
      // By recipe (its commits, then its builds), then the builds that record none, a line each.
      const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      const groups = [...this.rebuild].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : byText(a, b)));
      const text = groups
        .flatMap(([url, g]) => (url ? [`${printable(url)} ${g.commits.size ? [...g.commits].sort(byText).join(',') : '-'}: ${[...g.ids].map(printable).join(' ')}`] : [...g.ids].map(printable)))
        .join('\n');
      // A fence longer than any run of backticks in the names, so none can close it.
      const fence = '`'.repeat(Math.max(3, ...(text.match(/`+/g) ?? []).map((run) => run.length + 1)));
      md += `\n### To rebuild (${this.rebuildCount + this.moreToRebuild}, --fail-on ${this.o.failOn})\n\n${fence}\n${text}\n${fence}\n`;
      if (this.moreToRebuild) md += `\n… and ${this.moreToRebuild} more (--list-stale lists all).\n`;
    }
    return `${md}\n`;
  }
}
