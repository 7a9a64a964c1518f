// Report formats as writers that emit text as artifacts finish, in order: begin, one piece per
// artifact, end. Text and JSON live in their own files; the line formats for CI live here.
import { Chalk, type ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../audit.js';
import type { MagicTable } from '../magic/table.js';
import { JsonReportWriter, ndjsonLine, type Tally } from './json.js';
import { formatArtifact, formatSummary } from './text.js';
import { printable } from './escape.js';
import { ruleFor, type Severity } from '../rules.js';

export const FORMATS = ['text', 'json', 'ndjson', 'sarif', 'junit', 'github', 'gitlab'] as const;
export type Format = (typeof FORMATS)[number];

export interface ReportWriter {
  begin(): string;
  /** `index`: the artifact's position in the run's inputs (0-based). */
  artifact(r: ArtifactResult, index: number): string;
  end(t: Tally): string;
  /** Written as each artifact finishes rather than in input order (ndjson). */
  inFinishOrder?: boolean;
}

/** ndjson: one JSON object per artifact and line, written as each finishes (resumable, streamable). */
export const ndjsonWriter: ReportWriter = {
  begin: () => '',
  artifact: (r, index) => ndjsonLine(r, index),
  end: () => '',
  inFinishOrder: true,
};

// GitHub workflow commands: data escapes %, CR, LF; properties also ':' and ','. Text from an
// artifact is made printable first: a log shows ESC, BEL or NUL as they are.
const escapeData = (s: string) => printable(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::error` / `::warning` annotations, one per finding or unreadable input, with a title. */
export const githubWriter: ReportWriter = {
  begin: () => '',
  artifact: (r) => {
    const file = escapeProperty(r.path);
    if (r.error !== null) return `::error file=${file},title=${escapeProperty('pyc-audit: cannot read')}::${escapeData(r.error)}\n`;
    let out = '';
    for (const u of r.unreadable) out += `::error file=${file},title=${escapeProperty('pyc-audit: unreadable entry')}::${escapeData(u)}\n`;
    for (const f of r.findings) {
      const command = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
      const title = escapeProperty(`pyc-audit ${f.code}: ${ruleFor(f.code).title}`);
      out += `::${command} file=${file},title=${title}::${escapeData(`${f.member}: ${f.message}`)}\n`;
    }
    for (const note of r.notes) if (/DISAGREES|owned by no package/.test(note)) out += `::warning file=${file},title=${escapeProperty('pyc-audit: note')}::${escapeData(note)}\n`;
    return out;
  },
  end: (t) => `::notice title=pyc-audit::${escapeData(formatSummary(t, { color: new Chalk({ level: 0 }) }).trim())}\n`,
};

export function textWriter(o: { color: ChalkInstance; table: MagicTable; maxFindings: number }): ReportWriter {
  return {
    begin: () => '',
    artifact: (r) => (r.error === null ? formatArtifact(r, o) : ''),
    end: (t) => (t.artifacts > 1 ? formatSummary(t, o) : ''),
  };
}

/** The writer of a format. SARIF and JUnit are loaded only when asked for (start-up time). */
export async function writerFor(format: Format, o: { color: ChalkInstance; table: MagicTable; maxFindings: number; version: string; failOn: Severity | 'never' }): Promise<ReportWriter> {
  switch (format) {
    case 'sarif': {
      const { SarifReportWriter } = await import('./sarif.js');
      const w = new SarifReportWriter(o.version);
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    case 'junit': {
      const { JunitReportWriter } = await import('./junit.js');
      const w = new JunitReportWriter(o.failOn);
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    case 'gitlab': {
      const { GitlabReportWriter } = await import('./gitlab.js');
      const w = new GitlabReportWriter();
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: () => w.end() };
    }
    case 'json': {
      const w = new JsonReportWriter(o.version);
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    case 'ndjson':
      return ndjsonWriter;
    case 'github':
      return githubWriter;
    default:
      return textWriter(o);
  }
}
