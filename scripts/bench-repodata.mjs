#!/usr/bin/env node
// npm run bench:repodata: how reading a channel's repodata.json grows with its size. For each
// size, a repodata.json of N generated records (~450 bytes each, shaped like conda-forge's) is
// written to a temporary folder, then read in a fresh process by the channel loader, selecting
// nothing (--name matching no package), selecting everything, and selecting everything but holding
// none of it (records spilled and merged back, as for another --shard's); and, for reference, parsed
// whole with JSON.parse as pyc-audit did before it streamed. Prints a Markdown table of wall time
// and peak RSS (the child's own maxRSS).
//
//   PYC_AUDIT_BENCH_SIZES=10000,100000   record counts (default 10k, 100k, 400k, 1M)
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = (process.env.PYC_AUDIT_BENCH_SIZES ?? '10000,100000,400000,1000000').split(',').map(Number);
const source = pathToFileURL(join(root, 'dist', 'src', 'channel', 'source.js')).href;

const hex = (i, n) => (i.toString(16).padStart(8, '0')).repeat(n / 8);

async function generate(dir, n) {
  mkdirSync(join(dir, 'linux-64'));
  const out = createWriteStream(join(dir, 'linux-64', 'repodata.json'));
  const write = async (s) => { if (!out.write(s)) await once(out, 'drain'); };
  await write('{"info":{"subdir":"linux-64"},"packages":{},"packages.conda":{');
  for (let i = 0; i < n; i++) {
    const minor = 9 + (i % 5);
    const record = {
      build: `py3${minor}h${hex(i, 8).slice(0, 7)}_0`, build_number: 0,
      depends: ['libgcc-ng >=12', `python >=3.${minor},<3.${minor + 1}.0a0`, `python_abi 3.${minor}.* *_cp3${minor}`, 'numpy >=1.23.5,<2.0a0'],
      license: 'BSD-3-Clause', md5: hex(i, 32), name: `pkg${Math.floor(i / 20)}`, sha256: hex(i, 64), size: 100000 + i,
      subdir: 'linux-64', timestamp: 1700000000000 + i, version: `1.${i % 20}.0`,
    };
    await write(`${i ? ',' : ''}"${record.name}-${record.version}-${record.build}.conda":${JSON.stringify(record)}`);
  }
  await write('},"removed":[],"repodata_version":1}');
  out.end();
  await once(out, 'finish');
  return statSync(join(dir, 'linux-64', 'repodata.json')).size;
}

const modes = {
  'select none': `const { loadChannel } = await import(${JSON.stringify(source)});
    const c = await loadChannel(dir, [], { timeoutSeconds: 30, selection: { names: ['no-such-package'], python: null } });
    if (c.counts.considered !== n) throw new Error('counted ' + c.counts.considered);`,
  'select all': `const { loadChannel } = await import(${JSON.stringify(source)});
    const c = await loadChannel(dir, [], { timeoutSeconds: 30, selection: { names: [], python: null } });
    if (c.records.length !== n) throw new Error('selected ' + c.records.length);`,
  'select all, keep none': `const { loadChannel } = await import(${JSON.stringify(source)});
    const c = await loadChannel(dir, [], { timeoutSeconds: 30, selection: { names: [], python: null }, keep: () => false });
    if (c.counts.selected !== n) throw new Error('selected ' + c.counts.selected);`,
  'JSON.parse whole (before)': `const { readFileSync } = await import('node:fs');
    const doc = JSON.parse(readFileSync(dir + '/linux-64/repodata.json', 'utf8'));
    if (Object.keys(doc['packages.conda']).length !== n) throw new Error('parsed');`,
};

function measure(dir, n, code) {
  const script = `const dir = ${JSON.stringify(dir)}, n = ${n}; const t = process.hrtime.bigint();
    ${code}
    console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t) / 1e6, rss: process.resourceUsage().maxRSS * 1024 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) return { failed: (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`).slice(0, 60) };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const mb = (b) => `${Math.round(b / 2 ** 20)} MB`;
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${mb(totalmem())} RAM`);
console.log(`\n| records | repodata.json | ${Object.keys(modes).map((m) => `${m}: time | peak RSS`).join(' | ')} |`);
console.log(`|---:|---:|${Object.keys(modes).map(() => '---:|---:').join('|')}|`);
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-bench-repodata-'));
  try {
    const bytes = await generate(dir, n);
    const cells = Object.values(modes).map((code) => {
      const m = measure(dir, n, code);
      return m.failed ? `failed (${m.failed}) | –` : `${(m.ms / 1000).toFixed(2)} s | ${mb(m.rss)}`;
    });
    console.log(`| ${n.toLocaleString('en')} | ${mb(bytes)} | ${cells.join(' | ')} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
