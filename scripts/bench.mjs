#!/usr/bin/env node
// npm run bench: pyc-audit against the Python baseline and the native floor, on the same files.
//
//   PYC_AUDIT_BENCH_CORPUS=DIR  corpus location (default: bench-corpus/ here; built if missing with
//                               ../shared/bench/make-corpus.py)
//   PYC_AUDIT_BENCH_RUNS=N      runs per command (default 5), interleaved across commands
//
// Prints a Markdown table of median wall times, ratios to the baseline and peak RSS (GNU time),
// then checks that pyc-audit and the baseline found the same magics in every artifact.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(root, '..', 'shared', 'bench');
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
// Run as users run it: the bin script itself (so its shebang's Node flags apply), with its default
// report (a line per artifact and its findings, like the baseline's line per artifact). The full
// JSON report (every .pyc, ~1 KB each) is timed once apart, on the 4 big .conda.
const ours = (list) => `${q(bin)} ${list.map(q).join(' ')} > /dev/null`;
const oursJson = (list) => `${q(bin)} --format json ${list.map(q).join(' ')} > /dev/null`;
const peer = (list) => `${peerPython} ${q(join(shared, 'peer_audit.py'))} ${list.map(q).join(' ')} > /dev/null`;
const floorConda = (list) => list.map((f) => `unzip -p ${q(f)} 'pkg-*.tar.zst' | zstd -dc | tar -t > /dev/null`).join('; ');
const floorBz2 = (tool, list) => list.map((f) => `${tool} -dc ${q(f)} | tar -t > /dev/null`).join('; ');

const workloads = [
  {
    name: 'the 4 big .conda',
    commands: [
      ['pyc-audit', ours(bigConda)],
      ['pyc-audit --format json', oursJson(bigConda)],
      peerOk && ['baseline (conda-package-streaming)', peer(bigConda)],
      have('zstd') && have('unzip') && ['unzip -p │ zstd -dc │ tar -t', floorConda(bigConda)],
    ],
  },
  {
    name: 'the 4 big .tar.bz2',
    commands: [
      ['pyc-audit', ours(bigBz2)],
      peerOk && ['baseline (conda-package-streaming)', peer(bigBz2)],
      have('bzip2') && ['bzip2 -dc │ tar -t', floorBz2('bzip2', bigBz2)],
      have('lbzip2') && ['lbzip2 -n2 -dc │ tar -t', floorBz2('lbzip2 -n2', bigBz2)],
    ],
  },
  {
    name: `pkgs/ (${pkgs.length} .conda)`,
    commands: [['pyc-audit', ours(pkgs)], peerOk && ['baseline (conda-package-streaming)', peer(pkgs)]],
  },
  {
    name: 'scipy .conda alone',
    commands: [['pyc-audit', ours(bigConda.filter((f) => f.includes('scipy')))], peerOk && ['baseline (conda-package-streaming)', peer(bigConda.filter((f) => f.includes('scipy')))]],
  },
  {
    name: 'scipy .tar.bz2 alone',
    commands: [['pyc-audit', ours(bigBz2.filter((f) => f.includes('scipy')))], peerOk && ['baseline (conda-package-streaming)', peer(bigBz2.filter((f) => f.includes('scipy')))]],
  },
  {
    name: 'the whole corpus in one run',
    commands: [['pyc-audit', ours([...bigConda, ...bigBz2, ...pkgs, ...stale])], peerOk && ['baseline (conda-package-streaming)', peer([...bigConda, ...bigBz2, ...pkgs, ...stale])]],
  },
  { name: 'pyc-audit --version', commands: [['pyc-audit', `${q(bin)} --version > /dev/null`], ['node -e 1 (Node starting, nothing else)', 'node -e 1']] },
].map((w) => ({ ...w, commands: w.commands.filter(Boolean) }));

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

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${runs} runs each, interleaved; corpus ${corpus}`);
const decoders = execFileSync('node', ['--input-type=module', '-e', `const c = await import(${JSON.stringify(join(root, 'dist/src/sources/codecs.js'))}); console.log(c.zstd().name + ', ' + c.bzip2().name)`], { encoding: 'utf8' }).trim();
console.log(`pyc-audit decoders: ${decoders}${peerOk ? '' : '\nbaseline missing: apt-get install -y python3-conda-package-streaming python3-zstandard'}\n`);
console.log('| work | command | median wall | × baseline | peak RSS |');
console.log('|---|---|---|---|---|');
for (const w of workloads) {
  const samples = w.commands.map(() => []);
  measure(w.commands[0][1]); // warm the page cache and Node's compile cache
  for (let i = 0; i < runs; i++) w.commands.forEach(([, cmd], j) => samples[j].push(measure(cmd)));
  const baseIndex = w.commands.findIndex(([label]) => label.startsWith('baseline'));
  const baseWall = baseIndex >= 0 ? median(samples[baseIndex].map((s) => s.wall)) : null;
  w.commands.forEach(([label], j) => {
    const wall = median(samples[j].map((s) => s.wall));
    const rss = Math.max(...samples[j].map((s) => s.rss));
    const ratio = baseWall ? (wall / baseWall).toFixed(2) : '—';
    console.log(`| ${w.name} | ${label} | ${wall < 1 ? `${(wall * 1000).toFixed(0)} ms` : `${wall.toFixed(2)} s`} | ${ratio} | ${Number.isFinite(rss) ? `${(rss / 1024).toFixed(0)} MB` : '—'} |`);
  });
}

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
