#!/usr/bin/env node
// npm test (after the build): the compiled suite under Node's test runner, with a temporary folder
// of its own. Every test that makes files makes them below os.tmpdir(); here that is one folder,
// made for this run inside the real temporary folder and removed when the run ends (also on
// Ctrl-C), so a run leaves nothing behind, and no test sees what another program left in /tmp.
// Run inside a GitHub Actions job, the suite does not write to that job's summary: the tests that
// read a summary name a file of their own, and no other test inherits the job's.
//
//   npm test                              the whole suite
//   npm test -- dist/test/cli.test.js     some files (after `npm run build`)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'test');
const given = process.argv.slice(2);
const files = given.length ? given : readdirSync(compiled).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(compiled, f));
const scratch = mkdtempSync(join(tmpdir(), 'pyc-audit-tests-'));
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: scratch, TMP: scratch, TEMP: scratch, GITHUB_STEP_SUMMARY: undefined },
});
const clean = () => rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  clean();
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
