// --format junit: the JUnit XML that CI test reporters read (Jenkins, GitLab, Azure Pipelines,
// GitHub test-report actions). One testcase per artifact, named by its file (a build can exist
// as .conda and .tar.bz2; a name met twice in a class gets " (2)"); one <failure> when findings
// reach --fail-on, its message the count and codes, its body one line per cause (findings grouped as the
// text report groups them) and each code's fix once (most
// readers show one failure per testcase, and the schema of several allows one); findings below
// it in <system-out>; an unreadable artifact an <error>. The counts belong in the opening tags,
// so testcases are kept (as text) until the end.
import { fixFor } from './fixes.js';
import { basename } from 'node:path';
import type { ArtifactResult } from '../judge/artifact.js';
import { failsAt, ruleFor, type Severity } from '../judge/rules.js';
import { packageId } from '../judge/package-info.js';
import type { Tally } from './json.js';
import { describeImpact } from '../judge/checks.js';
import { xmlPrintable } from './escape.js';
import { artifactGroups, groupMessage, type FindingGroup } from './groups.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * An XML 1.0 attribute value: escaped, every control character shown as \xNN (as in the text
 * report), and what XML cannot carry at all (U+FFFE, U+FFFF, lone surrogates) as \uNNNN.
 */
export function xmlEscape(s: string): string {
  return xmlPrintable(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** XML 1.0 element text: line breaks kept, other control characters (XML cannot carry them) shown as \xNN. */
function xmlText(s: string): string {
  return s
    .split('\n')
    .map((line) => xmlEscape(line))
    .join('\n');
}

/** One line of text: a line break inside a name (a hostile member name) is shown, not obeyed. */
const xmlSafeLine = (s: string) => s.replace(/\n/g, '\\x0a');

/** A group of findings in one line: "error PYC001 580 .pyc: cause: first, second, third, … (577 more)". */
const groupLine = (g: FindingGroup) => xmlSafeLine(`${g.severity} ${g.code} ${groupMessage(g)}`);

export class JunitReportWriter {
  private readonly cases: string[] = [];
  private tests = 0;
  private failures = 0;
  private errors = 0;
  private readonly names = new Map<string, number>();

  constructor(private readonly failOn: Severity | 'never') {}

  begin(): string {
    return '';
  }

  artifact(r: ArtifactResult): string {
    const classname = `pyc-audit.${r.package.subdir ?? r.kind ?? 'input'}`;
    const id = this.uniqueName(classname, /^[a-z][a-z0-9+.-]*:\/\//i.test(r.path) ? decodeURIComponent(new URL(r.path).pathname.split('/').pop() || r.path) : basename(r.path) || r.path);
    let body = '';
    this.tests++;
    if (r.error !== null) {
      this.errors++;
      body += `      <error type="unreadable" message="${xmlEscape(r.error)}">${xmlText(`${r.path}: ${r.error}`)}</error>\n`;
    } else {
      const failing = r.findings.filter((f) => failsAt(f.severity, this.failOn));
      const groups = artifactGroups(r);
      const failingGroups = groups.filter((g) => failsAt(g.severity, this.failOn));
      const other = groups.filter((g) => !failingGroups.includes(g));
      if (failing.length) {
        this.failures++;
        const codes = [...new Set(failing.map((f) => f.code))].join(', ');
        const message = `${failing.length} finding${failing.length === 1 ? '' : 's'} at or above --fail-on ${this.failOn}: ${codes}`;
        // One line per cause (its members counted, the first named), each code's fix after its last line.
        const lines = failingGroups.flatMap((g, i) => [groupLine(g), ...(failingGroups[i + 1]?.code !== g.code ? [`  fix: ${fixFor(g.code, r)}`] : [])]);
        body += `      <failure type="${xmlEscape(failing[0]!.code)}" message="${xmlEscape(message)}">${xmlText(lines.join('\n'))}</failure>\n`;
      }
      if (r.unreadable.length) {
        this.errors++;
        body += `      <error type="incomplete" message="${xmlEscape(`${r.unreadable.length} entr${r.unreadable.length === 1 ? 'y' : 'ies'} could not be read`)}">${xmlText(r.unreadable.map(xmlSafeLine).join('\n'))}</error>\n`;
      }
      const out = [...other.map(groupLine), ...(r.impact.modules ? [`impact: ${describeImpact(r.impact)}`] : [])];
      if (out.length) body += `      <system-out>${xmlText(out.join('\n'))}</system-out>\n`;
    }
    const open = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(id)}" file="${xmlEscape(r.path)}"`;
    this.cases.push(body ? `${open}>\n${body}    </testcase>\n` : `${open}/>\n`);
    return '';
  }

  /** A testcase name not yet used in its class. */
  private uniqueName(classname: string, name: string): string {
    const key = `${classname}\0${name}`;
    const n = (this.names.get(key) ?? 0) + 1;
    this.names.set(key, n);
    return n === 1 ? name : `${name} (${n})`;
  }

  end(_t: Tally): string {
    const counts = `tests="${this.tests}" failures="${this.failures}" errors="${this.errors}" skipped="0"`;
    return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="pyc-audit" ${counts}>\n  <testsuite name="pyc-audit" ${counts}>\n${this.cases.join('')}  </testsuite>\n</testsuites>\n`;
  }
}
