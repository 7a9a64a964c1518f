// Report formats as writers (writer.ts) that emit text as artifacts finish, in order: begin, one
// piece per artifact, end. Text and JSON live in their own files; the line formats for CI live here.
import { appendRegularSync } from '../sources/access/regular-file.js';
import type { ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../judge/artifact.js';
import type { MagicTable } from '../magic/table.js';
import { JsonReportWriter, ndjsonLine, type Tally } from './json.js';
import { formatArtifact, formatSummary, worthListing } from './text.js';
import type { ReportWriter } from './writer.js';
import type { Severity } from '../judge/rules.js';

export const FORMATS = ['text', 'json', 'ndjson', 'sarif', 'junit', 'github', 'gitlab', 'rebuild-plan'] as const;
export type Format = (typeof FORMATS)[number];

export type { ReportWriter } from './writer.js';

/** ndjson: one JSON object per artifact and line, written as each finishes (resumable, streamable). */
export const ndjsonWriter: ReportWriter = {
  begin: () => '',
  artifact: (r, index) => ndjsonLine(r, index),
  end: () => '',
  inFinishOrder: true,
};

/** What the text report lists: `all` every artifact (few inputs, or --verbose); else those that need a look. */
export interface TextListing {
  all: boolean;
  verbose: boolean;
  interpreter: boolean;
}

/**
 * The text report: quiet when clean, loud when not. The artifacts that need a look (findings,
 * warnings, something unread), each OK one too when `listing.all`, then one summary line.
 */
export function textWriter(o: { color: ChalkInstance; table: MagicTable; maxFindings: number; listing?: TextListing }): ReportWriter {
  const listing = o.listing ?? { all: true, verbose: false, interpreter: false };
  const options = { ...o, verbose: listing.verbose, interpreter: listing.interpreter };
  let unlisted = 0;
  return {
    begin: () => '',
    artifact: (r) => {
      if (r.error !== null) return '';
      if (!listing.all && !worthListing(r)) {
        unlisted++;
        return '';
      }
      return formatArtifact(r, options);
    },
    end: (t) => (t.artifacts > 1 || unlisted ? formatSummary(t, o, unlisted) : ''),
  };
}

/** The writer of a format. SARIF, JUnit and GitHub are loaded only when asked for (start-up time). */
export async function writerFor(format: Format, o: { color: ChalkInstance; table: MagicTable; maxFindings: number; version: string; failOn: Severity | 'never'; warn?: (line: string) => void; listing?: TextListing }): Promise<ReportWriter> {
  switch (format) {
    case 'sarif': {
      const { SarifReportWriter } = await import('./sarif.js');
      const w = new SarifReportWriter(o.version, { warn: o.warn, magicTable: o.table.provenance });
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
      const w = new JsonReportWriter(o.version, o.table.provenance);
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    case 'ndjson':
      return ndjsonWriter;
    case 'rebuild-plan': {
      const { RebuildPlanWriter } = await import('./rebuild-plan.js');
      const w = new RebuildPlanWriter(o);
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    case 'github': {
      const { GithubReportWriter } = await import('./github.js');
      const w = new GithubReportWriter({ failOn: o.failOn, summaryPath: process.env.GITHUB_STEP_SUMMARY || null, append: (path, text) => appendRegularSync(path, text) });
      return { begin: () => w.begin(), artifact: (r) => w.artifact(r), end: (t) => w.end(t) };
    }
    default:
      return textWriter(o);
  }
}
