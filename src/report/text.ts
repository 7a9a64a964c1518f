// The default report: one line per artifact, its findings indented under it.
import type { ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../audit.js';
import type { Tally } from './json.js';
import type { MagicTable } from '../magic/table.js';
import { describeClue } from '../package-info.js';
import { magicLabel, type PycStatus } from '../verdict.js';

export interface TextOptions {
  color: ChalkInstance;
  table: MagicTable;
  /** Findings listed per artifact before "… and N more"; 0 lists all. */
  maxFindings: number;
}

const LABEL: Record<PycStatus, string> = {
  ok: 'OK',
  stale: 'STALE',
  'wrong-version': 'WRONG VERSION',
  'tag-mismatch': 'TAG MISMATCH',
  'unknown-magic': 'UNKNOWN MAGIC',
  invalid: 'INVALID',
};

/** Control characters in names (a hostile archive's member names) are shown escaped, never raw. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function paint(c: ChalkInstance, status: PycStatus | null, text: string): string {
  if (status === null) return c.dim(text);
  if (status === 'ok') return c.green(text);
  if (status === 'stale') return c.yellow(text);
  return c.red(text);
}

export function formatArtifact(r: ArtifactResult, o: TextOptions): string {
  const c = o.color;
  const name = printable(r.path);
  if (r.error !== null) return `${c.bold(name)}  ${c.red('ERROR')}  ${printable(r.error)}\n`;
  const counts = new Map<number | null, number>();
  for (const p of r.pyc) counts.set(p.magic, (counts.get(p.magic) ?? 0) + 1);
  const magics = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => (m === null ? `no magic ×${n}` : `${magicLabel(o.table.lookup(m, r.expected?.implementation), m)} ×${n}`))
    .join(', ');
  const expected = r.expected?.version
    ? `expects ${r.expected.implementation === 'CPython' ? '' : `${r.expected.implementation} `}${r.expected.version} (${describeClue({ from: r.expected.from!, version: r.expected.version }).replace(/ says .*/, '')})`
    : 'expected Python unknown';
  const verdict = r.status === null ? 'NO PYC' : LABEL[r.status];
  const parts = [c.bold(name), `${r.pyc.length} pyc`];
  if (magics) parts.push(magics);
  parts.push(expected, paint(c, r.status, verdict));
  let out = `${parts.join('  ')}\n`;
  if (r.expected?.conflict) out += `  ${c.yellow('note')}  ${printable(r.expected.conflict)}\n`;
  for (const note of r.notes) out += `  ${/DISAGREES|owned by no package/.test(note) ? c.yellow('note') : c.dim('note')}  ${printable(note)}\n`;
  const findings = r.pyc.filter((p) => p.status !== 'ok');
  const shown = o.maxFindings > 0 ? findings.slice(0, o.maxFindings) : findings;
  for (const f of shown) {
    const owner = f.owner === undefined ? '' : `  [${f.owner === null ? 'no package' : printable(f.owner)}]`;
    out += `  ${paint(c, f.status, f.status)}  ${printable(f.member)}${owner}  ${printable(f.message)}\n`;
  }
  if (shown.length < findings.length) {
    out += `  … and ${findings.length - shown.length} more (--max-findings 0 lists all)\n`;
  }
  return out;
}

export function formatSummary(t: Tally, o: Pick<TextOptions, 'color'>): string {
  const c = o.color;
  const s = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const line = `${s(t.artifacts, 'artifact')}, ${t.pyc} pyc: ${s(t.findings, 'finding')} in ${s(t.withFindings, 'artifact')}${t.errors ? `, ${t.errors} could not be read` : ''}`;
  return `${t.errors ? c.red(line) : t.findings ? c.yellow(line) : c.green(line)}\n`;
}
