// Rules defined once, severities from what CPython does, one cause one line: the README table and
// the definitions agree, `pyc-audit rule`, and the verdicts on packages built here, byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RULES } from '../src/judge/rules.js';
import { helpUri, rulesMarkdown, severityRuleMarkdown } from '../src/judge/rule-docs.js';
import { projectUrl } from '../src/version.js';
import { MagicTable } from '../src/magic/table.js';
import { supersededBy } from '../src/magic/describe.js';
import { judgePyc } from '../src/judge/verdict.js';
import { GithubReportWriter, SUMMARY_ROWS } from '../src/report/github.js';
import { addToTally, emptyTally } from '../src/report/json.js';
import { zipOf } from './archives.js';
import { FIXTURES, ROOT, fixture, run } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-rules-'));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
// The findings table and the anchors SARIF links to live in docs/rules.md.
const rulesDoc = readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8');
const between = (text: string, marker: string) => {
  const m = new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)<!-- ${marker}:end -->`).exec(text);
  assert.ok(m, `docs/rules.md has the ${marker} markers`);
  return m[1]!;
};
const json = (args: string[], env: Record<string, string | undefined> = {}) => {
  const r = run(['--format', 'json', ...args], env);
  return { ...r, doc: JSON.parse(r.stdout) };
};
type Finding = { code: string; severity: string; member: string; message: string; cause: string };

// ---- the definitions and what is generated from them ---------------------------------------

test('the README findings table and severity rule are the definitions, as `rules --format markdown` prints them', () => {
  assert.equal(between(rulesDoc, 'rules-table'), rulesMarkdown(), 'docs/rules.md table differs from src/judge/rules.ts: paste `pyc-audit rules --format markdown`');
  assert.equal(between(rulesDoc, 'severity-rule'), severityRuleMarkdown());
  const r = run(['rules', '--format', 'markdown']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, between(rulesDoc, 'rules-table'));
  // One row per code, with its default severity in the fourth column.
  const rows = between(rulesDoc, 'rules-table').split('\n').slice(2).filter(Boolean);
  assert.deepEqual(rows.map((row) => /`(PYC\d{3})`/.exec(row)![1]), RULES.map((x) => x.code));
  assert.deepEqual(rows.map((row) => row.split(' | ')[3]), RULES.map((x) => x.severity));
});

test('every rule is documented: meaning, what CPython does, an example of its own code, a fix; codes unique and in order', () => {
  const codes = RULES.map((r) => r.code);
  assert.deepEqual(codes, [...new Set(codes)].sort());
  for (const r of RULES) {
    for (const key of ['title', 'meaning', 'cpython', 'example', 'fix'] as const) assert.ok(r[key].length > 10, `${r.code} ${key}`);
    assert.ok(r.example.startsWith(`${r.code}  `), `${r.code}'s example is a finding of its own code`);
    // The severity rule: a finding that means the module is compiled again is an error.
    if (r.invalidates) assert.equal(r.severity, 'error', r.code);
  }
  // Not installed (info/) is never an error; facts are info.
  assert.deepEqual(RULES.filter((r) => !r.installed).map((r) => `${r.code} ${r.severity}`), ['PYC205 warning']);
  assert.deepEqual(RULES.filter((r) => r.severity === 'info').map((r) => r.code), ['PYC104', 'PYC106', 'PYC201', 'PYC210']);
});

test('pyc-audit rules: every code with its severity, title and a fix line; --format json is the definitions', () => {
  const r = run(['rules']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, RULES.length * 2);
  RULES.forEach((rule, i) => {
    assert.ok(lines[2 * i]!.startsWith(`${rule.code}  ${rule.severity.padEnd(7)}  ${rule.title}`), lines[2 * i]);
    assert.equal(lines[2 * i + 1], `        fix: ${rule.fix}`);
  });
  const parsed = JSON.parse(run(['rules', '--format', 'json']).stdout);
  assert.equal(parsed.length, RULES.length);
  assert.deepEqual(parsed.find((x: { code: string }) => x.code === 'PYC106'), { ...RULES.find((x) => x.code === 'PYC106') });
  assert.equal(parsed.find((x: { code: string }) => x.code === 'PYC106').severity, 'info');
});

test('pyc-audit rule CODE explains one rule; an unknown code is one error line, exit 2', () => {
  const r = run(['rule', 'pyc101']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^PYC101: source mtime differs from the \.pyc header\nDefault severity: error /);
  for (const heading of ['What it means', 'What CPython does', 'Example', 'How to fix', 'Why this severity']) assert.match(r.stdout, new RegExp(`\\n${heading}\\n {2}\\S`));
  assert.match(r.stdout, /\n {2}error {3}PYC101 {2}x\/__pycache__\/m\.cpython-313\.pyc {2}header says/);
  assert.match(r.stdout, /--invalidation-mode\s+checked-hash/);
  const bad = run(['rule', 'PYC999']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'pyc-audit: error: PYC999 is not a finding code (pyc-audit rules lists them)\n');
});

test('SARIF rules carry the help (text and Markdown); a helpUri only where package.json says where the project lives', () => {
  const doc = JSON.parse(run(['--format', 'sarif', fixture('example-py314rc2.conda')]).stdout);
  const rules = doc.runs[0].tool.driver.rules;
  assert.equal(rules.length, RULES.length);
  const repository = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).repository;
  const home = projectUrl(repository);
  for (const [i, r] of RULES.entries()) {
    assert.equal(rules[i].help.text, `${r.meaning} What CPython does: ${r.cpython} Fix: ${r.fix}`);
    assert.match(rules[i].help.markdown, new RegExp(`\\*\\*How to fix:\\*\\* ${r.fix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // No link to a page that does not exist: none until the project's address is set.
    assert.equal(rules[i].helpUri, home ? helpUri(r, home, doc.runs[0].tool.driver.version) : undefined);
    const anchor = /#(pyc\d{3})$/.exec(helpUri(r, 'https://github.com/o/pyc-audit', '1.0.0'))![1];
    assert.ok(rulesDoc.includes(`<a id="${anchor}"></a>`), `${r.code}: docs/rules.md has the anchor ${anchor}`);
  }
  assert.equal(doc.runs[0].tool.driver.informationUri, home ?? undefined);
  assert.equal(helpUri(RULES[0]!, 'https://github.com/o/pyc-audit', '1.2.3'), `https://github.com/o/pyc-audit/blob/v1.2.3/docs/rules.md#${RULES[0]!.code.toLowerCase()}`);
});

test('the project address is read from the forms package.json `repository` takes', () => {
  for (const [given, url] of [
    ['github:o/pyc-audit', 'https://github.com/o/pyc-audit'],
    ['o/pyc-audit', 'https://github.com/o/pyc-audit'],
    [{ type: 'git', url: 'git+https://github.com/o/pyc-audit.git' }, 'https://github.com/o/pyc-audit'],
    ['https://gitlab.example/group/pyc-audit', 'https://gitlab.example/group/pyc-audit'],
    [undefined, null],
    [{ type: 'git' }, null],
    ['ssh://git@host/x.git', null],
  ] as const) assert.equal(projectUrl(given as Parameters<typeof projectUrl>[0]), url, JSON.stringify(given));
});

test('magic/ depends on nothing above it', () => {
  const dir = join(ROOT, 'src', 'magic');
  // Only the file-reading utility below it; never the verdict, checks, reports or the CLI.
  for (const f of readdirSync(dir)) assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), /from '\.\.\/(?!sources\/access\/regular-file\.js')/, f);
});

// ---- packages built here --------------------------------------------------------------------

/** A .pyc header: 16 bytes (3.7+: flags, mtime, size), or 12 (3.3–3.6: mtime, size), then a body. */
function pyc(magic: number, mtime: number, size: number, era: 16 | 12 = 16): Buffer {
  const h = Buffer.alloc(era);
  h.writeUInt16LE(magic, 0);
  h.write('\r\n', 2, 'latin1');
  if (era === 16) {
    h.writeUInt32LE(mtime, 8);
    h.writeUInt32LE(size, 12);
  } else {
    h.writeUInt32LE(mtime, 4);
    h.writeUInt32LE(size, 8);
  }
  return Buffer.concat([h, Buffer.from('e30000000000000000', 'hex')]);
}

/** An extracted conda package: info/index.json and files (path -> bytes, or [bytes, mtime]). */
function condaFolder(name: string, pythonMinor: string | null, files: Record<string, Buffer | [Buffer, number]>): string {
  const dir = join(tmp(), name);
  const [n, version, build] = name.split('-');
  const depends = pythonMinor ? [`python_abi ${pythonMinor}.* *_cp${pythonMinor.replace('.', '')}`] : [];
  mkdirSync(join(dir, 'info'), { recursive: true });
  writeFileSync(join(dir, 'info', 'index.json'), JSON.stringify({ name: n, version, build, subdir: 'linux-64', depends }));
  for (const [path, value] of Object.entries(files)) {
    const [bytes, mtime] = Array.isArray(value) ? value : [value, null];
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
    if (mtime !== null) utimesSync(join(dir, path), mtime, mtime);
  }
  return dir;
}

const SOURCE = Buffer.from('x = 1\n');
const T = 1700000000;
/** A module and its consistent __pycache__ .pyc under site-packages. */
const module = (minor: string, name: string, magic: number, era: 16 | 12 = 16): Record<string, [Buffer, number]> => ({
  [`lib/python${minor}/site-packages/pkg/${name}.py`]: [SOURCE, T],
  [`lib/python${minor}/site-packages/pkg/__pycache__/${name}.cpython-${minor.replace('.', '')}.pyc`]: [pyc(magic, T, SOURCE.length, era), T],
});

test('the newest pre-release magic of a minor with no final known: UNCONFIRMED and a PYC007 warning, never plain OK', () => {
  const table = tmp();
  const file = join(table, 'table.json');
  writeFileSync(file, JSON.stringify([{ magic: 3990, version: '3.99', releases: '3.99a1', final: false }, { magic: 3995, version: '3.99', releases: '3.99b1–3.99rc1', final: false }]));
  const dir = condaFolder('future-1.0-py399_0', '3.99', { ...module('3.99', 'm', 3995) });
  const r = json(['--magic-table', file, dir]);
  assert.equal(r.code, 0, 'a warning does not fail the default --fail-on error');
  const a = r.doc.artifacts[0];
  assert.equal(a.status, 'unconfirmed');
  assert.deepEqual(a.findings.map((f: Finding) => [f.code, f.severity, f.message]), [['PYC007', 'warning', "3.99 final's magic is not in this table; 3995 is 3.99b1–3.99rc1"]]);
  assert.deepEqual(a.impact, { modules: 0, sourceBytes: 0 });
  const text = run(['--magic-table', file, dir]);
  assert.match(text.stdout, /^UNCONFIRMED {4}\S+future-1\.0-py399_0 {2}1 pyc {2}3995 \(3\.99b1–3\.99rc1\) ×1 .* {2}1 warning\n/);
  assert.match(text.stdout, /\n {10}fix: check again against the target itself \(--interpreter PATH\)/);
  assert.equal(run(['--magic-table', file, '--fail-on', 'warning', dir]).code, 1);
  // The older pre-release magic of that minor is stale.
  assert.equal(json(['--magic-table', file, condaFolder('future-1.0-py399_1', '3.99', module('3.99', 'm', 3990))]).doc.artifacts[0].status, 'stale');
});

test('the built-in table: the newest magic of every minor without a final is unconfirmed', () => {
  const table = MagicTable.builtIn();
  const minors = [...new Set(table.entries.filter((e) => e.implementation === 'CPython').map((e) => e.version))].filter((v) => !table.finalMagics(v).length);
  for (const v of minors) {
    const newest = table.newest(v)!;
    const head = pyc(newest.magic, T, 6);
    const verdict = judgePyc({ path: `lib/python${v}/site-packages/__pycache__/m.cpython-${v.replace('.', '')}.pyc`, size: head.length, head: head.subarray(0, 16) }, { version: v, implementation: 'CPython' }, table);
    assert.equal(verdict.status, 'unconfirmed', `${v}: ${newest.magic}`);
    assert.match(verdict.message, new RegExp(`^${v.replace('.', '\\.')} final's magic is not in this table; ${newest.magic} is `));
  }
});

test('a minor whose final releases span two magics: bytecode of the older is SUPERSEDED (PYC006), in 3.5 and wherever the table has such a split', () => {
  const old = json([condaFolder('pkg-1.0-py35_0', '3.5', module('3.5', 'm', 3350, 12))]).doc.artifacts[0];
  assert.equal(old.status, 'superseded');
  assert.deepEqual(old.findings.map((f: Finding) => [f.code, f.severity, f.message]), [['PYC006', 'warning', 'written by 3.5b3–3.5.2 (3350); 3.5.3rc1 and later load only 3351'.replace('3.5.3rc1', '3.5.3')]]);
  const current = json([condaFolder('pkg-1.0-py35_1', '3.5', module('3.5', 'm', 3351, 12))]).doc.artifacts[0];
  assert.equal(current.status, 'ok');
  assert.deepEqual(current.findings, []);
  // Every split in the table: each final magic that is not its minor's current one.
  const table = MagicTable.builtIn();
  const superseded = table.entries.filter((e) => e.final && !e.current && table.finalMagics(e.version, e.implementation).some((f) => f.current));
  assert.ok(superseded.some((e) => e.magic === 3350));
  for (const e of superseded) {
    const later = supersededBy(table, e)!;
    assert.ok(later.final && later.current && later.version === e.version, `${e.version} ${e.magic} → ${later.magic}`);
  }
  assert.equal(supersededBy(table, superseded.find((e) => e.magic === 3350)!)!.magic, 3351);
  // (Python 0.9–1.2 wrote a whole word, not magic + \r\n: their headers are another test's.)
  for (const e of superseded.filter((x) => Number(x.version.split('.')[0]) >= 2)) {
    // The header of its era: 8 bytes before 3.3, 12 to 3.6, 16 from 3.7.
    const [major, minor] = e.version.split('.').map(Number) as [number, number];
    const head = pyc(e.magic, T, 6, major > 3 || (major === 3 && minor >= 7) ? 16 : 12).subarray(0, major === 3 && minor >= 3 ? 16 : 8);
    assert.equal(judgePyc({ path: 'm.pyc', size: head.length, head }, { version: e.version, implementation: e.implementation as 'CPython' | 'PyPy' }, table).status, 'superseded', `${e.version}: ${e.magic}`);
  }
});

test('an error about a .pyc outside every import location (bin/, the prefix root) is a warning, out of the impact', () => {
  const stale = pyc(3626, T, SOURCE.length); // 3.14rc2
  const dir = condaFolder('tool-1.0-py314_0', '3.14', {
    'bin/tool.py': [SOURCE, T],
    'bin/__pycache__/tool.cpython-314.pyc': [stale, T],
    'setup_helper.pyc': [stale, T],
    'lib/python3.14/site-packages/pkg/m.py': [SOURCE, T],
    'lib/python3.14/site-packages/pkg/__pycache__/m.cpython-314.pyc': [stale, T],
  });
  const a = json([dir]).doc.artifacts[0];
  assert.deepEqual(a.findings.map((f: Finding) => `${f.severity} ${f.code} ${f.member}`), [
    'error PYC001 lib/python3.14/site-packages/pkg/__pycache__/m.cpython-314.pyc',
    'warning PYC001 setup_helper.pyc',
    'info PYC210 bin/__pycache__/tool.cpython-314.pyc',
  ]);
  assert.deepEqual(a.impact, { modules: 1, sourceBytes: SOURCE.length });
  // A wheel's .data/scripts/ is not imported either; its packages are.
  const whl = wheel('tool-1.0-py3-none-any.whl', { 'tool-1.0.data/scripts/run.pyc': stale, 'tool/__pycache__/m.cpython-314.pyc': stale, 'tool/m.py': SOURCE }, T);
  const w = json(['--python', '3.14', whl]).doc.artifacts[0];
  assert.deepEqual(w.findings.map((f: Finding) => `${f.severity} ${f.code} ${f.member}`), ['error PYC001 tool/__pycache__/m.cpython-314.pyc', 'warning PYC001 tool-1.0.data/scripts/run.pyc']);
});

test('bytecode under info/ is PYC205 alone: it decides neither the status, the impact nor --list-stale', () => {
  const dir = condaFolder('clean-1.0-py314_0', '3.14', {
    ...module('3.14', 'm', 3627),
    'info/recipe/parent/__pycache__/build.cpython-32.pyc': pyc(3180, T, 6, 12),
    'info/test/__pycache__/run_test.cpython-314.pyc': pyc(3626, T, 6),
  });
  const r = json([dir]);
  assert.equal(r.code, 0);
  const a = r.doc.artifacts[0];
  assert.equal(a.status, 'ok', 'the 3.2 and 3.14rc2 bytecode under info/ is never installed');
  assert.deepEqual(a.findings.map((f: Finding) => `${f.code} ${f.severity}`), ['PYC205 warning', 'PYC205 warning']);
  assert.deepEqual(a.impact, { modules: 0, sourceBytes: 0 });
  // The status column follows the worst reported finding (the PYC205 warnings); the .pyc status stays ok.
  assert.match(run([dir]).stdout, /^WARNING {8}/);
  const strict = run(['--list-stale', '--fail-on', 'warning', dir]);
  assert.equal(strict.code, 1, 'the warnings fail --fail-on warning');
  assert.equal(strict.stdout, '', 'but nothing conda installs needs a rebuild');
});

/** A wheel (a zip of stored members, each with the DOS time of `mtime`), with its dist-info/WHEEL. */
function wheel(name: string, files: Record<string, Buffer>, mtime: number): string {
  const d = new Date(mtime * 1000);
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const members = { ...files, [`${name.split('-').slice(0, 2).join('-')}.dist-info/WHEEL`]: Buffer.from('Wheel-Version: 1.0\n') };
  const path = join(tmp(), name);
  writeFileSync(path, zipOf(members, { time, date }));
  return path;
}

test('wheels: a timestamp .pyc whose header mtime is before 1980 never matches an installed file (PYC107, error)', () => {
  const files = (mtime: number) => ({ 'zeroed/__init__.py': SOURCE, 'zeroed/__pycache__/__init__.cpython-312.pyc': pyc(3531, mtime, SOURCE.length) });
  const zero = json([wheel('zeroed-1.0-py3-none-any.whl', files(0), T)]);
  assert.equal(zero.code, 1);
  const a = zero.doc.artifacts[0];
  assert.equal(a.kind, 'whl');
  assert.deepEqual(a.findings.map((f: Finding) => [f.code, f.severity]), [['PYC107', 'error']]);
  assert.match(a.findings[0].message, /^header says the source was modified at 0 \(1970-01-01T00:00:00Z\): before 1980/);
  assert.deepEqual(a.impact, { modules: 1, sourceBytes: SOURCE.length });
  // Any time a zip can hold: not compared (local time, no zone), so nothing said.
  assert.deepEqual(json([wheel('zeroed-1.0-py3-none-any.whl', files(T - 3600), T)]).doc.artifacts[0].findings, []);
  // A conda package compares its members' times exactly instead: PYC101, not PYC107.
  const conda = json([condaFolder('zeroed-1.0-py312_0', '3.12', { 'lib/python3.12/site-packages/zeroed/__init__.py': [SOURCE, T], 'lib/python3.12/site-packages/zeroed/__pycache__/__init__.cpython-312.pyc': [pyc(3531, 0, SOURCE.length), T] })]);
  assert.deepEqual(conda.doc.artifacts[0].findings.map((f: Finding) => f.code), ['PYC101']);
});

test('one cause, one line: every .py with one mtime and the headers their compile times is one PYC101 line with the count; JSON keeps each', () => {
  const files: Record<string, [Buffer, number]> = {};
  const normalised = Date.UTC(2023, 0, 1) / 1000;
  for (let i = 0; i < 5; i++) {
    files[`lib/python3.14/site-packages/pkg/m${i}.py`] = [SOURCE, normalised];
    files[`lib/python3.14/site-packages/pkg/__pycache__/m${i}.cpython-314.pyc`] = [pyc(3627, T + i, SOURCE.length), normalised];
  }
  const dir = condaFolder('repro-1.0-py314_0', '3.14', files);
  const a = json([dir]).doc.artifacts[0];
  assert.equal(a.findings.length, 5);
  const cause = 'every .py has mtime 2023-01-01T00:00:00Z, the headers their compile time';
  for (const f of a.findings as Finding[]) {
    assert.equal(f.code, 'PYC101');
    assert.equal(f.cause, cause);
    assert.match(f.message, /^header says the source was modified at 170000000\d /);
  }
  const text = run([dir]).stdout.split('\n');
  const lines = text.filter((l) => /^ {2}(error|warning|info) /.test(l));
  assert.deepEqual(lines, [`  error   PYC101  5 .pyc  ${cause} (e.g. lib/python3.14/site-packages/pkg/__pycache__/m0.cpython-314.pyc)`]);
  assert.equal(text.filter((l) => l.startsWith('          fix: ')).length, 1);
  // An extracted package folder: the fix for the input at hand is to extract it again.
  assert.match(text.join('\n'), /\n {10}fix: here: extract the package again/);
  // Sources with their own mtimes: each mismatch is its own cause, its own line.
  files['lib/python3.14/site-packages/pkg/m0.py'] = [SOURCE, normalised + 60];
  const mixed = run([condaFolder('repro-1.0-py314_1', '3.14', files)]).stdout;
  assert.equal(mixed.split('\n').filter((l) => /^ {2}error {3}PYC101 /.test(l)).length, 5);
});

test('--max-findings limits the lines of findings, one per cause, and says how many more', () => {
  const pkg = fixture('checks-1.0-py313_0.conda');
  const findingLines = (out: string) => out.split('\n').filter((l) => /^ {2}(error|warning|info) {1,3}PYC/.test(l));
  const all = run(['--max-findings', '0', pkg]).stdout;
  const total = findingLines(all).length;
  assert.ok(total >= 8, all);
  assert.doesNotMatch(all, /… and/);
  const two = run(['--max-findings', '2', pkg]).stdout;
  assert.deepEqual(findingLines(two), findingLines(all).slice(0, 2));
  const findings: number = json([pkg]).doc.artifacts[0].findings.length;
  const shown = findingLines(two).length;
  assert.match(two, new RegExp(`\\n {2}… and ${findings - shown} more: .* \\(--max-findings 0 lists all\\)\\n$`));
  assert.equal(findingLines(run(['--max-findings', '1', pkg]).stdout).length, 1);
});

test('text: every artifact line starts with its status in one column', () => {
  const files = ['example-1.0-py314_0.conda', 'example-py314rc2.conda', 'mixed-1.0-py314_0.conda', 'legacy-1.0-py27_0.tar.bz2', 'noarchpyc-1.0-pyh_0.conda'].map((f) => fixture(f));
  const lines = run(files).stdout.split('\n').filter((l) => /^[A-Z]/.test(l) && l.includes(FIXTURES));
  assert.equal(lines.length, files.length);
  assert.deepEqual(lines.map((l) => l.indexOf(FIXTURES)), lines.map(() => 15));
  assert.deepEqual(lines.map((l) => l.slice(0, 15).trim()), ['OK', 'STALE', 'TAG MISMATCH', 'MISSING', 'WARNING']);
});

// ---- GitHub at volume -------------------------------------------------------------------------

test('github: at most 10 annotations of each level, worst first; the rest in the job summary, appended', () => {
  const inputs = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).sort().map((f) => fixture(f));
  const summary = join(tmp(), 'summary.md');
  writeFileSync(summary, 'an earlier step wrote this\n');
  const r = run(['--format', 'github', ...inputs], { GITHUB_STEP_SUMMARY: summary });
  assert.equal(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  const levels = lines.map((l) => /^::(error|warning|notice) /.exec(l)![1]);
  assert.equal(levels.filter((l) => l === 'error').length, 10);
  assert.ok(levels.filter((l) => l === 'warning').length <= 10);
  assert.ok(levels.filter((l) => l === 'notice').length <= 10);
  assert.deepEqual(levels, [...levels].sort((a, b) => ['error', 'warning', 'notice'].indexOf(a!) - ['error', 'warning', 'notice'].indexOf(b!)), 'errors first, then warnings, then notices');
  const groups = json(inputs).doc.artifacts.reduce((n: number, a: { findings: Finding[] }) => n + new Set(a.findings.map((f) => `${f.code}\0${f.severity}\0${f.cause}`)).size, 0);
  const annotated = lines.length - 1;
  assert.match(lines.at(-1)!, new RegExp(`^::notice title=pyc-audit::24 artifacts, .*; ${groups - annotated} more groups of findings not annotated \\(GitHub shows 10 of each level per step\\): see the job summary$`));
  const md = readFileSync(summary, 'utf8');
  assert.ok(md.startsWith('an earlier step wrote this\n## pyc-audit\n'), 'appended, not overwritten');
  assert.match(md, /\n\| artifact \| status \| errors \| warnings \| info \| findings by code \|\n/);
  assert.match(md, /\n\| mixed\\-1\\\.0\\-py314\\_0 \| TAG MISMATCH \| 1 \| 1 \| 0 \| PYC003 ×1, PYC203 ×1 \|\n/);
  const rebuild = /### To rebuild \(\d+, --fail-on error\)\n\n```\n([\s\S]*?)```/.exec(md)![1]!;
  assert.deepEqual([...new Set(rebuild.trim().split('\n'))].sort(), [...new Set(run(['--list-stale', ...inputs]).stdout.trim().split('\n'))].sort());
  // Without $GITHUB_STEP_SUMMARY: the notice says how many were left out, and no file is written.
  const plain = run(['--format', 'github', ...inputs], { GITHUB_STEP_SUMMARY: undefined });
  assert.match(plain.stdout.trimEnd().split('\n').at(-1)!, /more groups of findings not annotated \(GitHub shows 10 of each level per step\)$/);
});

test('github: a job summary that cannot be written is a warning, and the annotations still come', () => {
  const r = run(['--format', 'github', fixture('example-py314rc2.conda')], { GITHUB_STEP_SUMMARY: join(tmp(), 'no-such-dir', 'summary.md') });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^::error file=.*PYC001/m);
  assert.match(r.stdout, /^::warning title=pyc-audit%3A job summary::could not write .*summary\.md: no such file$/m);
});

test("the README quick start shows the tool's actual output", () => {
  const shown = /audits a bundled package built with 3\.14rc2:\n\n```\n([\s\S]*?)```/.exec(readme);
  assert.ok(shown, 'README has the quick-start output');
  const r = run([fixture('example-py314rc2.conda')]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.replaceAll(`${ROOT}/`, ''), shown[1]);
});

test('github: what is kept until the end is bounded, however many artifacts fail', () => {
  const appended: string[] = [];
  const w = new GithubReportWriter({ failOn: 'error', summaryPath: 'summary.md', append: (_path, text) => appended.push(text) });
  const n = SUMMARY_ROWS * 3;
  const tally = emptyTally('error');
  for (let i = 0; i < n; i++) {
    const findings = Array.from({ length: 1 + (i % 7) }, (_, k) => ({ code: 'PYC001', severity: 'error' as const, member: `lib/python3.14/m${k}.pyc`, message: 'written by 3.14rc2; 3.14.0 expects 3627', cause: 'written by 3.14rc2; 3.14.0 expects 3627' }));
    const r = { path: `p${i}.conda`, kind: 'conda' as const, package: { name: `p${i}`, version: '1.0', build: 'py314_0', subdir: null, noarch: null, depends: [] }, expected: null, error: null, pyc: [], status: 'stale' as const, notes: [], unreadable: [], findings, impact: { modules: 0, sourceBytes: 0 } };
    assert.equal(w.artifact(r), '');
    addToTally(tally, r);
  }
  const out = w.end(tally).trimEnd().split('\n');
  assert.equal(out.filter((l) => l.startsWith('::error ')).length, 10);
  // The heaviest groups (7 files) are the ones annotated.
  assert.ok(out.filter((l) => l.startsWith('::error ')).every((l) => l.includes('PYC001 (7×)')));
  assert.match(out.at(-1)!, new RegExp(`; ${n - 10} more groups of findings not annotated`));
  const md = appended.join('');
  assert.equal(md.split('\n').filter((l) => /^\| p\d+\\-1\\\.0\\-py314\\_0 \|/.test(l)).length, SUMMARY_ROWS);
  assert.match(md, new RegExp(`… and ${n - SUMMARY_ROWS} more artifacts with findings`));
  assert.match(md, new RegExp(`### To rebuild \\(${n}, --fail-on error\\)`));
  assert.match(md, new RegExp(`… and ${n - SUMMARY_ROWS} more \\(--list-stale lists all\\)`));
});

test('one cause, one line: a whole package of another minor is one PYC002 line with the count', () => {
  const files: Record<string, [Buffer, number]> = {};
  for (const m of ['a', 'b', 'c']) {
    files[`lib/python2.7/site-packages/pkg/${m}.py`] = [SOURCE, T];
    files[`lib/python2.7/site-packages/pkg/${m}.pyc`] = [pyc(3531, T, SOURCE.length), T];
  }
  const dir = condaFolder('other-1.0-py27_0', '2.7', files);
  const a = json([dir]).doc.artifacts[0];
  assert.equal(a.status, 'wrong-version');
  assert.deepEqual(a.findings.map((f: Finding) => f.code), ['PYC002', 'PYC002', 'PYC002']);
  assert.deepEqual(a.impact, { modules: 3, sourceBytes: 3 * SOURCE.length });
  const lines = run([dir]).stdout.split('\n').filter((l) => /^ {2}(error|warning|info) /.test(l));
  assert.deepEqual(lines, ['  error   PYC002  3 .pyc  CPython 3.12 bytecode (3531, written by 3.12b1 onward); 2.7 expects 62211 (e.g. lib/python2.7/site-packages/pkg/a.pyc)']);
});
