#!/usr/bin/env node
// npm run fuzz -- --count N --seed S [--save] [--timeout MS]
// Mutates the fixtures and the small corpus artifacts and audits each mutation in-process.
// Prints every failure with its seed and case number (replay: the same --seed and --count);
// --save keeps failing inputs under fixtures/fuzz-regressions/ so `npm test` replays them.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    timeout: { type: 'string', default: '10000' },
    save: { type: 'boolean', default: false },
  },
});
const { fuzz } = await import(join(root, 'dist/test/fuzz/engine.js'));
// The fixtures, and the small corpus artifacts of ../shared where this machine has them (said
// below: a seed replays the same cases only with the same seed folders).
const corpus = ['conda+conda-package-handling', 'conda+conda-index', 'conda+conda-verify', 'anaconda+anaconda-client', 'conda+conda', 'CLFML+conda_ros2_jazzy_channel'].map((d) => join(root, '..', 'shared', 'corpus', 'conda', d));
const seedDirs = [join(root, 'fixtures'), join(root, 'fixtures', 'pyc'), ...corpus.filter((d) => existsSync(d))];
console.log(`fuzz: seeds from ${seedDirs.length - 2} corpus folders of ${corpus.length}${seedDirs.length - 2 < corpus.length ? ' (the others are not on this machine)' : ''}`);
const seed = Number(values.seed);
const count = Number(values.count);
const started = Date.now();
console.log(`fuzz: seed ${seed}, ${count} cases`);
const { ran, failures, outcomes } = await fuzz({
  seed,
  count,
  timeoutMs: Number(values.timeout),
  seedDirs,
  onFailure: (f) => {
    console.log(`FAIL seed ${f.case.seed} case ${f.case.index}: ${f.case.source}: ${f.case.mutation}\n  ${f.problem.split('\n').join('\n  ')}`);
    if (values.save) {
      const dir = join(root, 'fixtures', 'fuzz-regressions');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `seed${f.case.seed}-case${f.case.index}${f.case.ext}`);
      writeFileSync(file, f.bytes);
      console.log(`  saved as ${file}`);
    }
  },
});
console.log(`fuzz: ${ran} cases in ${((Date.now() - started) / 1000).toFixed(1)} s: ${outcomes.reports} reports, ${outcomes.errors} one-line errors, ${failures.length} failures (seed ${seed})`);
process.exitCode = failures.length ? 1 : 0;
