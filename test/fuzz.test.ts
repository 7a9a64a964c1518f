// A short fuzz run (the full harness: npm run fuzz) and the replay of every input it ever caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { auditArtifact } from '../src/audit.js';
import { MagicTable } from '../src/magic/table.js';
import { fuzz } from './fuzz/engine.js';
import { CORPUS, FIXTURES } from './helpers.js';

const seedDirs = [FIXTURES, join(FIXTURES, 'pyc'), join(CORPUS, 'conda', 'conda+conda-package-handling'), join(CORPUS, 'conda', 'conda+conda-index'), join(CORPUS, 'conda', 'conda+conda-verify')];

test('fuzz: 3,000 mutated archives (fixed seed) give a report or one plain error each', async () => {
  const { ran, failures, outcomes } = await fuzz({ seed: 20261124, count: 3000, seedDirs, timeoutMs: 15_000 });
  assert.equal(ran, 3000);
  assert.deepEqual(failures.map((f) => `case ${f.case.index} (${f.case.source}: ${f.case.mutation}): ${f.problem}`), []);
  // The mutations must reach both outcomes, or they test nothing.
  assert.ok(outcomes.errors > 600, `errors ${outcomes.errors}`);
  assert.ok(outcomes.reports > 600, `reports ${outcomes.reports}`);
});

test('fuzz regressions: every input the fuzzer ever caught stays handled', async (t) => {
  const dir = join(FIXTURES, 'fuzz-regressions');
  const table = MagicTable.builtIn();
  const inputs = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'README.md');
  if (!inputs.length) return t.skip('no input has been caught yet (npm run fuzz -- --save adds them)');
  for (const name of inputs) {
    const r = await auditArtifact(join(dir, name), { table });
    if (r.error !== null) {
      assert.ok(r.error.trim(), name);
      assert.doesNotMatch(r.error, /\n/, name);
    }
  }
});
