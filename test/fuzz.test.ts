// A short fuzz run (the full harness: npm run fuzz) and the replay of every input it ever caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditArtifact } from '../src/run/audit-artifact.js';
import { MagicTable } from '../src/magic/table.js';
import { streamBytes } from '../src/sources/access/access.js';
import { readBytes } from '../src/sources/formats/read-bytes.js';
import { byteBudget } from '../src/sources/formats/tar-members.js';
import { fuzz, loadSeeds } from './fuzz/engine.js';
import { FIXTURES } from './helpers.js';

// The repository's own fixtures only, so every machine (CI's included) fuzzes the same inputs.
const seedDirs = [FIXTURES, join(FIXTURES, 'pyc')];

test('fuzz: the seeds are the repository fixtures, whatever else the machine has', () => {
  const names = loadSeeds(seedDirs).map((s) => s.name);
  const listed = seedDirs.flatMap((d) => readdirSync(d).filter((n) => /\.(conda|tar\.bz2|pyc|whl)$/.test(n)).sort());
  assert.deepEqual(names, listed);
  assert.throws(() => loadSeeds([join(FIXTURES, 'no-such-folder')]), /no-such-folder/);
});

test('fuzz: 3,000 mutated archives (fixed seed) give a report or one plain error each', async () => {
  const { ran, failures, outcomes } = await fuzz({ seed: 20261124, count: 3000, seedDirs, timeoutMs: 15_000 });
  assert.equal(ran, 3000);
  assert.deepEqual(failures.map((f) => `case ${f.case.index} (${f.case.source}: ${f.case.mutation}): ${f.problem}`), []);
  // The mutations must reach both outcomes, or they test nothing.
  assert.ok(outcomes.errors > 600, `errors ${outcomes.errors}`);
  assert.ok(outcomes.reports > 600, `reports ${outcomes.reports}`);
});

/** What one input gives: "report", or its one-line error. */
const outcome = (error: string | null) => (error === null ? 'report' : `error: ${error}`);

test('fuzz regressions: every input kept in fixtures/fuzz-regressions gives its recorded outcome, as a file and as a stream', async () => {
  const dir = join(FIXTURES, 'fuzz-regressions');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { file: string; stream: string }>;
  const inputs = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'README.md' && n !== 'expected.json').sort();
  assert.ok(inputs.length > 0, 'there are inputs to replay');
  assert.deepEqual(inputs, Object.keys(expected).sort(), 'each input has its outcome recorded in expected.json');
  const table = MagicTable.builtIn();
  for (const name of inputs) {
    const asFile = await auditArtifact(join(dir, name), { table });
    let asStream: string | null = null;
    const bytes = readFileSync(join(dir, name));
    try {
      await readBytes(
        await streamBytes(
          (async function* () {
            for (let at = 0; at < bytes.length; at += 173) yield bytes.subarray(at, at + 173);
          })(),
          name,
        ),
        { budget: byteBudget(null) },
      );
    } catch (err) {
      asStream = (err as Error).message;
    }
    assert.deepEqual({ file: outcome(asFile.error), stream: outcome(asStream) }, expected[name], name);
  }
});
