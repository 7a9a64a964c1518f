// The documentation stays true: the YAML in docs/ parses and shards the way the text says, every
// pyc-audit option the docs and README use exists, every link between them leads somewhere, the
// options reference is what the commands define, and the README stays a five-minute read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli.js';
import { optionsMarkdown } from '../src/commands/reference.js';
import { projectUrl } from '../src/version.js';
import { ROOT, run } from './helpers.js';

const docFiles = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
const readDoc = (f: string) => readFileSync(join(ROOT, f), 'utf8');

const doc = readFileSync(join(ROOT, 'docs', 'channel-audits.md'), 'utf8');
const blocks = (lang: string, text: string) => [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

test('docs/channel-audits.md: the GitHub Actions matrix covers shards 1..N', () => {
  const [gha] = blocks('yaml', doc).map((y) => parse(y));
  const n = Number(gha.env.SHARDS);
  assert.deepEqual(gha.jobs.shard.strategy.matrix.shard, Array.from({ length: n }, (_, i) => i + 1));
  assert.deepEqual(gha.jobs.merge.needs, 'shard');
});

test('docs/channel-audits.md: the Kubernetes Job is Indexed, one pod per shard', () => {
  const job = blocks('yaml', doc).map((y) => parse(y))[1];
  assert.equal(job.kind, 'Job');
  assert.equal(job.spec.completionMode, 'Indexed');
  const shards = Number(job.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'SHARDS').value);
  assert.equal(job.spec.completions, shards);
  assert.equal(job.spec.parallelism, shards);
  assert.match(job.spec.template.spec.containers[0].args[0], /--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SHARDS"/);
});

test('every pyc-audit option used in the docs and the README exists', () => {
  const help = [[], ['audit'], ['channel'], ['merge'], ['magic'], ['rules']].map((c) => run([...c, '--help']).stdout).join('\n');
  const texts = docFiles.map(readDoc);
  const used = new Set<string>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!/pyc-audit/.test(line) && !/^(\s+|\| `)--/.test(line)) continue;
      for (const m of line.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)) used.add(m[0]);
    }
  }
  const known = new Set([...help.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]));
  // Options of other programs quoted next to pyc-audit in the docs.
  const foreign = new Set(['--global', '--omit', '--ignore-scripts', '--loglevel', '--yes', '--invalidation-mode', '--no-audit', '--no-fund', '--test', '--test-reporter', '--max-semi-space-size', '--save', '--count', '--seed', '--output-folder', '--tool', '--cache-sim', '--cpu-prof', '--import']);
  const unknown = [...used].filter((o) => !known.has(o) && !foreign.has(o));
  assert.deepEqual(unknown, []);
});

test('the README is a five-minute read: at most 300 lines, with the quick start and the exit codes', () => {
  const readme = readDoc('README.md');
  assert.ok(readme.split('\n').length <= 300, `README.md is ${readme.split('\n').length} lines`);
  for (const heading of ['## Quick start', '## Install', '## Exit status', '## Documentation']) assert.ok(readme.includes(`\n${heading}\n`), heading);
});

/** GitHub's anchor of a Markdown heading. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

test('every relative link in the README and docs/ leads to a file that exists, and to a heading or anchor in it', () => {
  const broken: string[] = [];
  for (const file of docFiles) {
    const text = readDoc(file).replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? join(dirname(file), path) : file;
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${file}: ${link} (no ${target})`);
        continue;
      }
      if (!anchor || !target.endsWith('.md')) continue;
      const targetText = readDoc(relative(ROOT, join(ROOT, target)));
      const anchors = new Set([...targetText.matchAll(/^#+ (.+)$/gm)].map((h) => anchorOf(h[1]!)));
      for (const a of targetText.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(a[1]!);
      if (!anchors.has(anchor)) broken.push(`${file}: ${link} (no #${anchor} in ${target})`);
    }
  }
  assert.deepEqual(broken, []);
});

test('docs/options.md is what the command definitions say (npm run docs rewrites it)', () => {
  const discard = { write: () => true };
  const generated = optionsMarkdown(buildProgram({ stdout: discard, stderr: discard } as never, () => {}));
  const text = readDoc(join('docs', 'options.md'));
  const m = /<!-- options:begin \(npm run docs\) -->\n([\s\S]*)<!-- options:end -->/.exec(text);
  assert.ok(m, 'docs/options.md has its markers');
  assert.equal(m[1], generated, 'docs/options.md is out of date: npm run docs');
  // Every option of every command is there.
  for (const cmd of buildProgram({ stdout: discard, stderr: discard } as never, () => {}).commands) {
    for (const o of cmd.options) if (o.long !== '--help') assert.ok(generated.includes(`\`${o.flags}\``), `${cmd.name()} ${o.flags}`);
  }
});

test("the docs' `uses:` lines name the repository package.json gives (OWNER/pyc-audit while it gives none)", () => {
  const repository = JSON.parse(readDoc('package.json')).repository;
  const home = projectUrl(repository);
  const expected = home && /^https:\/\/github\.com\/([\w.-]+\/[\w.-]+)$/.exec(home)?.[1];
  const named = docFiles.flatMap((f) => [...readDoc(f).matchAll(/uses: ([\w.-]+\/pyc-audit)@/g)].map((m) => `${f}: ${m[1]}`));
  assert.ok(named.length >= 2, named.join(', '));
  for (const line of named) assert.ok(line.endsWith(`: ${expected ?? 'OWNER/pyc-audit'}`), line);
});
