// Reader threads and decodes at once are bounded by the cores and by a memory budget, whatever
// --jobs says: a default run planned for 64 cores (PYC_AUDIT_CORES) stays under 100 MB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { planReads } from '../src/run/read-plan.js';
import { BIN } from './helpers.js';
import { condaOf, pycBytes, type Package } from './package-builder.js';

const GB = 2 ** 30;

test('the plan: threads never outnumber the cores or --jobs, and the memory budget caps both', () => {
  const big = { artifacts: 8, totalBytes: GB, allConda: true, threadsMinBytes: 128 << 20 };
  // 64 cores, default --jobs (the cores) and --jobs 100: the 100 MB budget holds one thread.
  assert.deepEqual(planReads({ ...big, jobs: 64, cores: 64, memoryMb: 100 }), { readsOnMain: 2, threads: 1 });
  assert.deepEqual(planReads({ ...big, jobs: 100, cores: 64, memoryMb: 100 }), { readsOnMain: 2, threads: 1 });
  // A larger budget: more threads, never more than the cores less the main thread, or the artifacts.
  assert.equal(planReads({ ...big, jobs: 100, cores: 64, memoryMb: 4000 }).threads, 7);
  assert.equal(planReads({ ...big, artifacts: 1000, jobs: 100, cores: 64, memoryMb: 100_000 }).threads, 63);
  assert.equal(planReads({ ...big, artifacts: 1000, jobs: 3, cores: 64, memoryMb: 100_000 }).threads, 2);
  // No thread: one core, --jobs 1, one artifact, a small run, a run that is not all .conda, a small budget.
  for (const p of [{ cores: 1 }, { jobs: 1 }, { artifacts: 1 }, { totalBytes: 1 << 20 }, { allConda: false }, { memoryMb: 90 }]) {
    assert.equal(planReads({ ...big, jobs: 64, cores: 64, memoryMb: 100, ...p }).threads, 0, JSON.stringify(p));
  }
  // The main thread decodes at least one artifact, whatever the budget.
  assert.equal(planReads({ ...big, jobs: 64, cores: 64, memoryMb: 10 }).readsOnMain, 1);
  assert.equal(planReads({ ...big, jobs: 1, cores: 64, memoryMb: 1000 }).readsOnMain, 1);
});

/** A package of `modules` modules, each a .py of 16 KiB and its .pyc: ~5 MB of tar for 300. */
function bigPackage(name: string, modules: number): Package {
  const site = 'lib/python3.13/site-packages';
  const mtime = 1_700_000_000;
  const files = [];
  for (let i = 0; i < modules; i++) {
    const source = Buffer.alloc(16 << 10, `# module ${i} of ${name}\n`);
    files.push({ path: `${site}/${name}/m${i}.py`, data: source, mtime });
    files.push({ path: `${site}/${name}/__pycache__/m${i}.cpython-313.pyc`, data: pycBytes(3571, { mtime, size: source.length }), mtime });
  }
  return { name, version: '1.0', build: 'py313_0', files, depends: ['python >=3.13,<3.14.0a0'] };
}

/** Runs the CLI in a child and reports its peak RSS (threads included) as the child saw it. */
function measured(args: string[], env: Record<string, string>) {
  // A module file, not --input-type (worker threads inherit the flags of the process).
  const script = join(mkdtempSync(join(tmpdir(), 'pyc-audit-plan-')), 'measured.mjs');
  writeFileSync(script, `process.argv = ${JSON.stringify([process.execPath, BIN, ...args])}; process.on('exit', () => process.stderr.write('maxrss ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n')); await import(${JSON.stringify(pathToFileURL(BIN).href)});`);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: undefined, ...env } });
  const rssMB = Number(/^maxrss (\d+)$/m.exec(r.stderr)?.[1]);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^maxrss \d+\n/m, ''), rssMB };
}

test('a default run planned for 64 cores, on inputs that use reader threads, costs at most one reader thread of memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-plan-'));
  const paths = Array.from({ length: 8 }, (_, i) => {
    const p = bigPackage(`pkg${i}`, 60);
    const path = join(dir, `pkg${i}-1.0-py313_0.conda`);
    writeFileSync(path, condaOf(p));
    return path;
  });
  // The threads start from 1 MiB of .conda here (8 MB in all), not the default 128 MiB.
  const env = { PYC_AUDIT_CORES: '64', PYC_AUDIT_THREADS_MIN_BYTES: String(1 << 20), PYC_AUDIT_DEBUG: 'threads', PYC_AUDIT_ZSTD: 'js' };
  const alone = measured(['--format', 'json', ...paths], { PYC_AUDIT_CORES: '64', PYC_AUDIT_DEBUG: 'threads' });
  assert.doesNotMatch(alone.stderr, /reader threads/, 'below the threshold: no threads');
  for (const extra of [[], ['--jobs', '100']]) {
    const r = measured(['--format', 'json', ...extra, ...paths], env);
    const used = /pyc-audit: debug: (\d+) artifacts read on (\d+) reader threads/.exec(r.stderr);
    assert.ok(used && Number(used[1]) > 0 && Number(used[2]) >= 1, `threads used (${extra.join(' ')}): ${r.stderr}`);
    assert.equal(r.code, alone.code, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).artifacts, JSON.parse(alone.stdout).artifacts);
    // One reader thread (what the default budget allows) costs 20–25 MB over the run without
    // threads, whichever Node; threads for 64 cores would cost hundreds.
    assert.ok(r.rssMB < alone.rssMB + 40, `peak RSS ${r.rssMB} MB with 64 cores planned ${extra.join(' ')}, ${alone.rssMB} MB without threads`);
  }
});
