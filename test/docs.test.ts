// The documentation stays true: the YAML in docs/ parses and shards the way the text says, and
// every pyc-audit option the docs and README use exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, run } from './helpers.js';

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
  const texts = [doc, readFileSync(join(ROOT, 'README.md'), 'utf8'), readFileSync(join(ROOT, 'docs', 'magic-table.md'), 'utf8')];
  const used = new Set<string>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!/pyc-audit/.test(line) && !/^(\s+|\| `)--/.test(line)) continue;
      for (const m of line.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)) used.add(m[0]);
    }
  }
  const known = new Set([...help.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]));
  // Options of other programs quoted next to pyc-audit in the docs.
  const foreign = new Set(['--global', '--omit', '--ignore-scripts', '--loglevel', '--yes', '--invalidation-mode', '--no-audit', '--no-fund', '--test', '--test-reporter', '--max-semi-space-size', '--save', '--count', '--seed']);
  const unknown = [...used].filter((o) => !known.has(o) && !foreign.has(o));
  assert.deepEqual(unknown, []);
});
