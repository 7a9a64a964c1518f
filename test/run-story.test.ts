// What a run tells its user (issue 22 items 3, 6, 7, 8, 12; issue 27 item 7): nothing to audit is
// an error; a clean run is one line; the status column follows the worst reported finding; fix
// lines fit the input; the smaller wording points; --resume keys results by path and identity;
// --output does not follow another user's link in a sticky folder. Inputs built at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fixture, run, runAsync } from './helpers.js';
import { condaOf, pycBytes, type Package, type PackageFile } from './package-builder.js';
import { startServer } from './http-server.js';
import { describeClue } from '../src/judge/package-info.js';
import { describeImpact } from '../src/judge/checks.js';

const MTIME = 1_700_000_000;
const SOURCE = Buffer.from('x = 1\n');
const SITE = 'lib/python3.14/site-packages';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-story-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const module = (pkg: string, name: string, magic: number, tag = 'cpython-314'): PackageFile[] => [
  { path: `${SITE}/${pkg}/${name}.py`, data: SOURCE, mtime: MTIME },
  { path: `${SITE}/${pkg}/__pycache__/${name}.${tag}.pyc`, data: pycBytes(magic, { mtime: MTIME, size: SOURCE.length }), mtime: MTIME },
];
const pkg = (name: string, files: PackageFile[], version = '1.0'): Package => ({ name, version, build: 'py314_0', files, depends: ['python >=3.14,<3.15.0a0', 'python_abi 3.14.* *_cp314'] });
const write = (dir: string, p: Package): string => {
  const path = join(dir, `${p.name}-${p.version}-${p.build}.conda`);
  writeFileSync(path, condaOf(p));
  return path;
};

test('nothing to audit is one error and exit 2; a pattern matching nothing beside others is a warning', (t) => {
  const dir = tmp(t);
  const empty = join(dir, 'notacache');
  mkdirSync(empty);
  const clean = write(dir, pkg('clean', module('clean', 'm', 3627)));
  const cases: [string[], string][] = [
    [[empty], `pyc-audit: error: nothing to audit: ${empty}: no conda artifact, wheel or .pyc in it\n`],
    [[join(dir, 'build_artifacts', '*', '*.tar.bz2')], `pyc-audit: error: nothing to audit: ${join(dir, 'build_artifacts', '*', '*.tar.bz2')}: matched nothing\n`],
    [[join(dir, 'typo.conda')], `pyc-audit: error: nothing to audit: ${join(dir, 'typo.conda')}: no such file\n`],
  ];
  for (const [args, stderr] of cases) {
    const r = run(['--isolated', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, stderr);
    assert.equal(r.stdout, '');
  }
  const mixed = run(['--isolated', join(dir, '*.tar.bz2'), clean]);
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.equal(mixed.stderr, `pyc-audit: warning: ${join(dir, '*.tar.bz2')}: matched nothing\n`);
  const withEmpty = run(['--isolated', empty, clean]);
  assert.equal(withEmpty.code, 0);
  assert.equal(withEmpty.stderr, `pyc-audit: warning: ${empty}: nothing to audit in it (no conda artifact, wheel or .pyc)\n`);
  // A channel whose selection leaves nothing (a --name typo): an error naming the selection.
  const channel = join(dir, 'channel');
  mkdirSync(join(channel, 'linux-64'), { recursive: true });
  cpSync(clean, join(channel, 'linux-64', 'clean-1.0-py314_0.conda'));
  writeFileSync(join(channel, 'linux-64', 'repodata.json'), JSON.stringify({ info: { subdir: 'linux-64' }, packages: {}, 'packages.conda': { 'clean-1.0-py314_0.conda': { name: 'clean', version: '1.0', build: 'py314_0', build_number: 0, depends: ['python_abi 3.14.* *_cp314'], subdir: 'linux-64' } } }));
  assert.equal(run(['channel', '--isolated', channel]).code, 0);
  const typo = run(['channel', '--isolated', channel, '--name', 'cleen']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^pyc-audit: error: nothing to audit: .*channel: 0 of 1 artifacts selected in linux-64 .* \(check --name cleen\)\n$/m);
});

test('a channel URL that does not exist is said so, without suggesting --subdir', async (t) => {
  const server = await startServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  t.after(() => server.close());
  // Asynchronous: the server answers from this process.
  const r = await runAsync(['channel', '--isolated', `${server.base}/no-such-channel`]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /--subdir/);
  assert.match(r.stderr, /no-such-channel: not a conda channel, or not reachable: no repodata\.json in any of \d+ usual subdirs/);
});

test('quiet when clean: a clean run of many artifacts is one line; findings first; OK lines with few inputs or --verbose; -q lists only what needs a look', (t) => {
  const dir = tmp(t);
  const paths = Array.from({ length: 12 }, (_, i) => write(dir, pkg(`p${String(i).padStart(2, '0')}`, module(`p${i}`, 'm', 3627))));
  const clean = run(['--isolated', ...paths]);
  assert.equal(clean.code, 0);
  assert.equal(clean.stdout, '12 artifacts, 12 pyc: all OK\n');
  const verbose = run(['--isolated', '--verbose', ...paths]);
  assert.equal(verbose.stdout.split('\n').filter((l) => l.startsWith('OK ')).length, 12);
  // One stale among them: it, then the summary line.
  const stale = write(dir, pkg('stale', module('stale', 'm', 3626)));
  const loud = run(['--isolated', ...paths, stale]);
  assert.equal(loud.code, 1);
  const lines = loud.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^STALE +\S+stale-1\.0-py314_0\.conda {2}1 pyc {2}3626 \(3\.14rc2\) ×1/);
  assert.equal(lines.at(-1), '13 artifacts, 13 pyc: 1 finding (1 error); 1 artifact fails (--fail-on error); 1 module (6 bytes of source) compiled at first import; 12 OK not listed (--verbose lists them)');
  // Few inputs: each listed; -q: only what needs a look.
  assert.match(run(['--isolated', paths[0]!, stale]).stdout, /^OK {13}\S+p00-1\.0-py314_0\.conda {2}1 pyc {2}3627 \(3\.14\) ×1 /);
  assert.doesNotMatch(run(['--isolated', '-q', paths[0]!, stale]).stdout, /^OK /m);
});

test('"note … agrees" lines only with --verbose; *.dist-info folders and empty parts of a venv are not artifacts', (t) => {
  const cache = run(['--isolated', fixture('pkgs-cache')]);
  assert.doesNotMatch(cache.stdout, /agrees/);
  assert.match(run(['--isolated', '--verbose', fixture('pkgs-cache')]).stdout, /note {2}read the extracted folder; .* beside it agrees/);
  const venv = join(tmp(t), 'venv');
  const site = join(venv, 'lib', 'python3.14', 'site-packages');
  for (const f of module('pkg', 'm', 3627)) {
    const full = join(venv, f.path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, f.data);
    utimesSync(full, f.mtime, f.mtime);
  }
  mkdirSync(join(site, 'pkg-1.0.dist-info'), { recursive: true });
  writeFileSync(join(site, 'pkg-1.0.dist-info', 'METADATA'), 'Name: pkg\n');
  const r = run(['--isolated', '--format', 'json', venv]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).artifacts.map((a: { path: string }) => a.path), [join(site, 'pkg')]);
});

test('the status column follows the worst reported finding: a wrong .pyc CPython never reads is a WARNING beside exit 0', (t) => {
  const dir = tmp(t);
  // A good 3.14 module, and a cpython-312 file of 3.12 bytecode for another module: never read by 3.14 (PYC203).
  const path = write(dir, pkg('tagged', [...module('tagged', 'm', 3627), ...module('tagged', 'n', 3531, 'cpython-312').slice(1), { path: `${SITE}/tagged/n.py`, data: SOURCE, mtime: MTIME }, { path: `${SITE}/tagged/__pycache__/n.cpython-314.pyc`, data: pycBytes(3627, { mtime: MTIME, size: SOURCE.length }), mtime: MTIME }]));
  const r = run(['--isolated', path]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^WARNING {8}\S+ {2}3 pyc {2}3627 \(3\.14\) ×2, 3531 \(3\.12\) ×1 {2}expects 3\.14 .* {2}1 warning\n/);
  assert.doesNotMatch(r.stdout, /WRONG VERSION/);
  const json = JSON.parse(run(['--isolated', '--format', 'json', path]).stdout);
  assert.equal(json.artifacts[0].status, 'wrong-version', 'the JSON report keeps the .pyc status');
});

test('fix lines for the input at hand: a built artifact, an environment, a package cache, a tree', (t) => {
  assert.match(run(['--isolated', fixture('example-py314rc2.conda')]).stdout, /fix: rebuild the package with a final release of the target Python\n/);
  assert.match(run(['--isolated', fixture('env')]).stdout, /fix: here: reinstall the package \(conda install --force-reinstall NAME\) or recompile in place \(python -m compileall -f DIR\)/);
  assert.match(run(['--isolated', fixture('pkgs-cache')]).stdout, /fix: here: extract the package again \(remove the folder, or conda clean --packages, and reinstall\)/);
  const tree = join(tmp(t), 'tree', '__pycache__');
  mkdirSync(tree, { recursive: true });
  cpSync(fixture('pyc', 'greeting.3.14rc2.timestamp.pyc'), join(tree, 'greeting.cpython-314.pyc'));
  writeFileSync(join(tree, '..', 'greeting.py'), 'print("hi")\n');
  assert.match(run(['--isolated', '--python', '3.14', join(tree, '..')]).stdout, /fix: here: recompile in place with the target Python \(python -m compileall -f DIR\)/);
});

test('wording: plurals, small sizes, --formt=json gets a did-you-mean, --interpreter labelled as such', (t) => {
  assert.equal(describeClue({ from: 'cache-tag', version: '3.14' }), 'cache tags say 3.14');
  assert.equal(describeClue({ from: 'python_abi', version: '3.14' }), 'python_abi in index.json says 3.14');
  assert.equal(describeImpact({ modules: 1, sourceBytes: 6 }), '1 module (6 bytes of source) compiled at first import');
  assert.equal(describeImpact({ modules: 2, sourceBytes: 2900 }), '2 modules (2.8 KiB of source) compiled at first import');
  const typo = run(['--formt=json', fixture('example-py314rc2.conda')]);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, "pyc-audit: error: unknown option '--formt=json'\n(Did you mean --format?)\n(run pyc-audit --help for usage)\n");
  // A stand-in interpreter that answers as CPython 3.14.0 does (magic 3627).
  const python = join(tmp(t), 'python3.14');
  writeFileSync(python, `#!/bin/sh\necho '{"magic": [43, 14, 13, 10], "version_info": [3, 14, 0, "final", 0], "name": "cpython", "cache_tag": "cpython-314"}'\n`);
  chmodSync(python, 0o755);
  const r = run(['--isolated', '--interpreter', python, fixture('example-1.0-py314_0.conda')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /expects 3\.14 \(--interpreter\)\n/);
  assert.match(run(['--isolated', '--python', '3.14', fixture('example-1.0-py314_0.conda')]).stdout, /expects 3\.14 \(--python\)\n/);
});

test('after Ctrl-C the progress line is cleared', { skip: spawnSync('script', ['--version']).error ? 'no script(1) to make a terminal' : false }, async (t) => {
  const dir = tmp(t);
  // A slow URL keeps the run going with the progress line shown.
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000000' });
    res.write(Buffer.alloc(10));
  });
  t.after(() => server.close());
  const inputs = [fixture('example-py314rc2.conda'), `${server.base}/slow-1.0-0.conda`].join(' ');
  const log = join(dir, 'tty.log');
  // script(1) gives the run a terminal; stderr is the terminal, so the progress line is drawn; SIGINT after it appears.
  const r = spawnSync('script', ['-qfec', `${process.execPath} ${BIN} --isolated ${inputs} >/dev/null & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo "exit $?"`, log], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COLUMNS: '100' } });
  const out = readFileSync(log, 'utf8');
  assert.match(out, /exit 130/, r.stdout);
  const drawn = out.lastIndexOf('1/2');
  assert.ok(drawn !== -1, `the progress line was drawn: ${JSON.stringify(out)}`);
  // After the last drawing of the line, a clear of it.
  assert.ok(out.indexOf('\r\x1b[K', drawn) !== -1, JSON.stringify(out.slice(drawn)));
});

test('--resume keeps a result by path and identity: an artifact rebuilt at the same path is audited again', (t) => {
  const dir = tmp(t);
  const path = write(dir, pkg('rebuilt', module('rebuilt', 'm', 3627)));
  const other = write(dir, pkg('other', module('other', 'm', 3627)));
  const out = join(dir, 'report.ndjson');
  const first = run(['--isolated', '--format', 'ndjson', '--output', out, '--resume', path, other]);
  assert.equal(first.code, 0, first.stderr);
  // The same path, rebuilt: now stale.
  writeFileSync(path, condaOf(pkg('rebuilt', module('rebuilt', 'm', 3626))));
  utimesSync(path, MTIME + 100, MTIME + 100);
  const again = run(['--isolated', '--format', 'ndjson', '--output', out, '--resume', path, other]);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /--resume: 1 of 2 artifacts are in .* already; 1 changed since \(size or mtime\) is audited again\n/);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.path, l.status]), [[other, 'ok'], [path, 'stale']]);
});

test('--output does not follow a link another user planted in a shared sticky folder', { skip: process.getuid?.() !== 0 ? 'needs root to plant a link owned by another user' : false }, (t) => {
  const shared = tmp(t);
  chmodSync(shared, 0o1777);
  const victim = join(tmp(t), 'victim.txt');
  writeFileSync(victim, 'keep me');
  const link = join(shared, 'report.json');
  symlinkSync(victim, link);
  lchownSync(link, 65534, 65534);
  const r = run(['--isolated', '--format', 'json', '--output', link, fixture('example-py314rc2.conda')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `pyc-audit: error: --output ${link}: a link owned by another user in a shared sticky folder: not followed (give the file it points to, or another name)\n`);
  assert.equal(readFileSync(victim, 'utf8'), 'keep me');
  // A link of our own there is followed as before.
  rmSync(link);
  symlinkSync(victim, link);
  assert.equal(run(['--isolated', '--format', 'json', '--output', link, fixture('example-py314rc2.conda')]).code, 1);
  assert.match(readFileSync(victim, 'utf8'), /"tool"/);
});
