// --format sarif: SARIF 2.1.0 (OASIS), the format code-scanning services read. One run; each
// finding is a result located at its member, which is a nested artifact of the conda artifact
// (run.artifacts[].parentIndex, as SARIF describes files inside an archive). Unreadable inputs are
// tool execution notifications. Written as artifacts finish; `artifacts` and `invocations` close it.
//
// For code-scanning services (GitHub), which locate a result by its artifactLocation in the
// repository: an artifact inside the working directory is a path relative to the base id
// %SRCROOT% (run.originalUriBaseIds: the working directory), so results uploaded from a build
// folder resolve; each result is located at its artifact, the member named in its message and as
// a related location (the nested artifact). partialFingerprints (fingerprint.ts) keep an alert
// the same alert across runs.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Fingerprints } from './fingerprint.js';
import { projectPath } from './gitlab.js';
import type { ArtifactResult } from '../judge/artifact.js';
import { RULES, ruleFor, type Severity } from '../judge/rules.js';
import { helpUri, sarifHelp } from '../judge/rule-docs.js';
import { packageId } from '../judge/package-info.js';
import type { Tally } from './json.js';
import { projectUrl, VERSION } from '../version.js';

const PROJECT_URL = projectUrl();

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** An artifact path or URL as a URI reference: URLs as they are, absolute paths as file: URLs. */
export function toUri(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return path.split('/').map(encodeURIComponent).join('/');
}

function ruleJson(code: string) {
  const r = ruleFor(code);
  return {
    id: r.code,
    name: r.title.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^./, (c) => c.toUpperCase()),
    shortDescription: { text: r.title },
    fullDescription: { text: r.meaning },
    help: sarifHelp(r),
    // A link only where the project says where it lives (package.json `repository`).
    ...(PROJECT_URL ? { helpUri: helpUri(r, PROJECT_URL, VERSION) } : {}),
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: { compiledAtFirstImport: r.invalidates },
  };
}

export const SRCROOT = '%SRCROOT%';

/** An artifact's location: relative to %SRCROOT% when inside the working directory. */
function artifactLocation(path: string): { uri: string; uriBaseId?: string } {
  const rel = projectPath(path);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rel) || isAbsolute(rel)) return { uri: toUri(rel) };
  return { uri: toUri(rel), uriBaseId: SRCROOT };
}

export class SarifReportWriter {
  private first = true;
  private readonly fingerprints = new Fingerprints();
  private readonly artifacts: { location: { uri: string; uriBaseId?: string }; parentIndex?: number; roles?: string[] }[] = [];
  private readonly notifications: object[] = [];

  /** `magicTable`: where the run's magic table comes from, as the run's properties say. */
  constructor(private readonly toolVersion: string, private readonly magicTable?: object) {}

  begin(): string {
    const driver = { name: 'pyc-audit', version: this.toolVersion, semanticVersion: this.toolVersion, ...(PROJECT_URL ? { informationUri: PROJECT_URL } : {}), rules: RULES.map((r) => ruleJson(r.code)) };
    const head = JSON.stringify({ tool: { driver }, ...(this.magicTable ? { properties: { magicTable: this.magicTable } } : {}) }, null, 2).slice(0, -2).replace(/\n/g, '\n    ');
    const base = JSON.stringify({ [SRCROOT]: { uri: pathToFileURL(`${process.cwd().replace(/\/$/, '')}/`).href, description: { text: 'The working directory pyc-audit ran in' } } });
    return `{\n  "$schema": "${SARIF_SCHEMA}",\n  "version": "2.1.0",\n  "runs": [\n    ${head},\n      "originalUriBaseIds": ${base},\n      "results": [`;
  }

  artifact(r: ArtifactResult): string {
    const location = artifactLocation(r.path);
    if (r.error !== null) {
      this.notifications.push({ level: 'error', message: { text: `${r.path}: ${r.error}` }, locations: [{ physicalLocation: { artifactLocation: location } }] });
      return '';
    }
    for (const u of r.unreadable) {
      this.notifications.push({ level: 'error', message: { text: `${r.path}: could not read ${u}` }, locations: [{ physicalLocation: { artifactLocation: location } }] });
    }
    if (!r.findings.length) return '';
    const parentIndex = this.artifacts.push({ location, roles: ['analysisTarget'] }) - 1;
    const members = new Map<string, number>();
    let out = '';
    for (const f of r.findings) {
      let index = members.get(f.member);
      if (index === undefined) {
        index = this.artifacts.push({ location: { uri: toUri(f.member) }, parentIndex }) - 1;
        members.set(f.member, index);
      }
      const result = {
        ruleId: f.code,
        ruleIndex: RULES.findIndex((x) => x.code === f.code),
        level: LEVEL[f.severity],
        message: { text: `${f.member}: ${f.message}` },
        locations: [
          {
            physicalLocation: { artifactLocation: { ...location, index: parentIndex } },
            logicalLocations: [{ fullyQualifiedName: `${r.path}!${f.member}` }],
          },
        ],
        relatedLocations: [{ id: 1, message: { text: 'the member, inside the artifact' }, physicalLocation: { artifactLocation: { uri: toUri(f.member), index } } }],
        partialFingerprints: { 'pycAuditFinding/v1': this.fingerprints.of(r, f.member, f.code) },
        properties: { artifact: r.path, member: f.member, ...(packageId(r.package) ? { package: packageId(r.package) } : {}) },
      };
      out += `${this.first ? '' : ','}\n        ${JSON.stringify(result)}`;
      this.first = false;
    }
    return out;
  }

  end(t: Tally): string {
    const invocation = { executionSuccessful: t.errors === 0 && t.incomplete === 0, toolExecutionNotifications: this.notifications };
    const tail = (key: string, value: unknown) => `"${key}": ${JSON.stringify(value, null, 2).replace(/\n/g, '\n      ')}`;
    return `${this.first ? '' : '\n      '}],\n      ${tail('artifacts', this.artifacts)},\n      ${tail('invocations', [invocation])}\n    }\n  ]\n}\n`;
  }
}
