// Reports are never lost and never forged: --output written whole or not at all (a kill, a full
// disk, an input named as output), several reports from one read, ndjson as artifacts finish and
// --resume on it, write errors as one line, artifact text escaped in every text format, and merge
// of hostile reports. Every input is built here, at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, linkSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tarHeader, zipOf } from './archives.js';
import { BIN, fixture, run, runAsync } from './helpers.js';
import { startServer } from './http-server.js';
import { isPrintable, printable } from '../src/report/escape.js';
import { condaIdProblem, wheelId } from '../src/report/package-id.js';
import { parseOutputs } from '../src/report/output.js';
import { FORMATS } from '../src/report/formats.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-outputs-'));
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const STALE = fixture('example-1.0-py314rc2_0.conda');
const CLEAN = fixture('example-1.0-py314_0.conda');
const MIXED = fixture('mixed-1.0-py314_0.conda');
const lines = (s: string) => s.split('\n').filter(Boolean);

/** A plain tar archive of `members` (name → bytes). */
function tar(members: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(members)) {
    parts.push(tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

/** A zip of stored (uncompressed) members, dated 1980-01-01. */
const zip = (members: Record<string, Buffer>): Buffer => zipOf(members, { date: 0x21 });

/** A .pyc written by 3.14rc2 (3626): stale for 3.14.0, PYC001, an error. */
function pyc314rc2(sourceSize: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16LE(3626, 0);
  header.write('\r\n', 2, 'latin1');
  header.writeUInt32LE(1_700_000_000, 8);
  header.writeUInt32LE(sourceSize, 12);
  return Buffer.concat([header, Buffer.from([0xe3, 0, 0, 0])]);
}

/** A 3.14 package whose index.json says `index` and whose one .pyc was written by 3.14rc2. */
function hostilePackage(index: Record<string, unknown>): Buffer {
  const source = Buffer.from('x = 1\n');
  return tar({
    'info/index.json': Buffer.from(JSON.stringify({ version: '1.0', build: 'py314_0', depends: ['python_abi 3.14.* *_cp314'], subdir: 'linux-64', ...index })),
    'lib/python3.14/site-packages/evil/__init__.py': source,
    'lib/python3.14/site-packages/evil/__pycache__/__init__.cpython-314.pyc': pyc314rc2(source.length),
  });
}

/** A child run that the test can signal; `ready` resolves when `until` says so (polled). */
function startRun(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => stderr };
}

async function waitFor(what: string, until: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

/** A server whose URLs never answer while `hold` is true, and serve `data` after. */
async function holdingServer(data: Buffer) {
  const state = { hold: true, requests: 0 };
  const held: import('node:http').ServerResponse[] = [];
  const server = await startServer((req, res) => {
    state.requests++;
    if (state.hold) {
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  });
  return {
    ...server,
    state,
    close: async () => {
      for (const res of held) res.destroy();
      await server.close();
    },
  };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`--output: a run killed by ${signal} mid-way leaves the previous report as it was, and no temporary file`, async () => {
    const dir = tmp();
    const out = join(dir, 'report.sarif');
    writeFileSync(out, 'the previous report\n');
    const server = await holdingServer(readFileSync(CLEAN));
    try {
      const r = startRun(['--format', 'sarif', '--output', out, STALE, `${server.base}/slow-1.0-0.conda`]);
      // The report is being written: its temporary file exists and the URL was asked for.
      await waitFor('the run to start', () => server.state.requests > 0 && readdirSync(dir).length === 2);
      r.child.kill(signal);
      const { signal: ended } = await r.exit;
      assert.equal(ended, signal, r.stderr());
      assert.equal(readFileSync(out, 'utf8'), 'the previous report\n');
      assert.deepEqual(readdirSync(dir), ['report.sarif']);
    } finally {
      await server.close();
    }
  });
}

test('--output: written whole at the end, in place of the previous file (its mode kept)', () => {
  const dir = tmp();
  const out = join(dir, 'report.json');
  writeFileSync(out, 'old', { mode: 0o640 });
  const r = run(['--format', 'json', '--output', out, STALE, CLEAN]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).artifacts.length, 2);
  assert.deepEqual(readdirSync(dir), ['report.json']);
  assert.equal(spawnSync('stat', ['-c', '%a', out], { encoding: 'utf8' }).stdout.trim(), '640');
});

test('--output naming an input (the same file under another name too) is refused before anything is written', () => {
  const dir = tmp();
  const input = join(dir, 'example-1.0-py314rc2_0.conda');
  copyFileSync(STALE, input);
  const link = join(dir, 'another-name.conda');
  linkSync(input, link);
  const before = sha(input);
  for (const out of [input, link]) {
    const r = run(['--format', 'json', '--output', out, CLEAN, input]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `pyc-audit: error: --output ${out}: is one of the inputs; writing the report there would destroy it\n`);
    assert.equal(r.stdout, '');
    assert.equal(sha(input), before);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['another-name.conda', 'example-1.0-py314rc2_0.conda']);
});

test('a write error on the report is one error line and exit 2: --output /dev/full, stdout on /dev/full', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, () => {
  for (const format of ['text', 'json', 'ndjson', 'sarif']) {
    const r = run(['--format', format, '--output', '/dev/full', STALE, CLEAN]);
    assert.equal(r.code, 2, format);
    assert.equal(r.stderr, 'pyc-audit: error: --output /dev/full: ENOSPC: no space left on device\n', format);
    const full = openSync('/dev/full', 'w');
    try {
      const s = spawnSync(process.execPath, [BIN, '--format', format, STALE, CLEAN], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      assert.equal(s.status, 2, format);
      assert.equal(s.stderr, 'pyc-audit: error: stdout: ENOSPC: no space left on device\n', format);
    } finally {
      closeSync(full);
    }
  }
});

test('a reader that stops early ends the run with 141, an --output file not yet complete is not put in place', () => {
  const dir = tmp();
  const out = join(dir, 'a.sarif');
  const files = Array.from({ length: 8 }, () => [STALE, CLEAN, MIXED]).flat();
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --format json --output sarif=${out} ${files.join(' ')} | head -c 10`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stdout, '{\n  "tool"');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 141);
  assert.deepEqual(readdirSync(dir), []);
});

test('several reports from one read: --output FORMAT=FILE, each the same as its own run; plain --output FILE keeps --format', () => {
  const dir = tmp();
  const inputs = [STALE, CLEAN, MIXED, join(dir, 'missing.conda')];
  const files = { sarif: join(dir, 'a.sarif'), junit: join(dir, 'a.xml'), json: join(dir, 'a.json'), ndjson: join(dir, 'a.ndjson'), github: join(dir, 'a.txt') };
  const r = run(['--no-color', ...Object.entries(files).flatMap(([f, p]) => ['--output', `${f}=${p}`]), ...inputs]);
  const alone = (format: string) => run(['--no-color', '--format', format, ...inputs]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, alone('text').stdout);
  assert.equal(r.stderr, `pyc-audit: error: ${inputs[3]}: no such file\n`);
  for (const [format, path] of Object.entries(files)) {
    const expected = alone(format).stdout;
    if (format === 'ndjson') assert.deepEqual(lines(readFileSync(path, 'utf8')).sort(), lines(expected).sort());
    else assert.equal(readFileSync(path, 'utf8'), expected, format);
  }
  // --format json --output FILE plus a SARIF file: the summary line on the terminal.
  const both = run(['--format', 'json', '--output', join(dir, 'b.json'), '--output', `sarif=${join(dir, 'b.sarif')}`, STALE]);
  assert.equal(both.code, 1, both.stderr);
  assert.match(both.stdout, /^1 artifact, 1 pyc: 1 finding/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')).artifacts.length, 1);
  assert.equal(JSON.parse(readFileSync(join(dir, 'b.sarif'), 'utf8')).runs[0].results.length, 1);
  // Misuse: two plain files, one file twice, a folder.
  for (const [args, message] of [
    [['--output', join(dir, 'x'), '--output', join(dir, 'y')], /--output FILE can be given once/],
    [['--output', `json=${join(dir, 'z')}`, '--output', `sarif=${join(dir, 'z')}`], /given twice/],
    [['--output', dir], /is a folder/],
  ] as const) {
    const bad = run([...args, STALE]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, message);
    assert.equal(lines(bad.stderr).length, 1);
  }
  assert.deepEqual(parseOutputs(['sarif=a', './json=b'], 'json'), {
    stdoutFormat: null,
    specs: [
      { format: 'sarif', path: 'a' },
      { format: 'json', path: './json=b' },
    ],
  });
  assert.deepEqual(parseOutputs(['junit=a.xml'], 'text'), { stdoutFormat: 'text', specs: [{ format: 'junit', path: 'a.xml' }] });
  assert.deepEqual(parseOutputs(['rebuild-plan=plan.json'], 'text'), { stdoutFormat: 'text', specs: [{ format: 'rebuild-plan', path: 'plan.json' }] });
  // A mistyped format is refused, not written as a text report named after the whole value.
  const cwd = tmp();
  for (const [value, message] of [
    ['xml=a.xml', `--output xml=a.xml: 'xml' is not a format (${FORMATS.join(', ')}); a file of that name is given as ./xml=a.xml`],
    ['JSON=a.json', "--output JSON=a.json: 'JSON' is not a format (did you mean 'json'?); a file of that name is given as ./JSON=a.json"],
    ['sarf=a.sarif', "--output sarf=a.sarif: 'sarf' is not a format (did you mean 'sarif'?); a file of that name is given as ./sarf=a.sarif"],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, '--output', value, STALE], { cwd, encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual([r.status, r.stderr], [2, `pyc-audit: error: ${message}\n`]);
  }
  assert.deepEqual(readdirSync(cwd), []);
  rmSync(cwd, { recursive: true });
});

test('ndjson is written as each artifact finishes: a slow first input holds nothing back; killed, then --resume keeps every finished line', async () => {
  const dir = tmp();
  const out = join(dir, 'run.ndjson');
  const server = await holdingServer(readFileSync(STALE));
  try {
    const slow = `${server.base}/example-1.0-py314rc2_0.conda`;
    const inputs = [slow, CLEAN, MIXED];
    const first = startRun(['--format', 'ndjson', '--output', out, '--resume', '--jobs', '3', ...inputs]);
    await waitFor('the two quick artifacts to be written', () => existsSync(out) && lines(readFileSync(out, 'utf8')).length === 2);
    first.child.kill('SIGTERM');
    assert.equal((await first.exit).signal, 'SIGTERM');
    const kept = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as { index: number; path: string });
    assert.deepEqual(kept.map((k) => [k.index, k.path]).sort(), [
      [1, CLEAN],
      [2, MIXED],
    ]);
    server.state.hold = false;
    const requests = server.state.requests;
    const resumed = await runAsync(['--format', 'ndjson', '--output', out, '--resume', ...inputs]);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, /--resume: 2 of 3 artifacts are in .*run\.ndjson already/);
    const all = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as { index: number; path: string; status: string });
    assert.deepEqual(all.map((a) => a.index), [...kept.map((k) => k.index), 0]);
    assert.equal(all[2]!.path, slow);
    assert.equal(all[2]!.status, 'stale');
    assert.ok(server.state.requests > requests);
  } finally {
    await server.close();
  }
});

test('--resume refuses a file that is not an ndjson report, and leaves it alone', () => {
  const dir = tmp();
  const cases: Record<string, Buffer> = {
    'no-newline.ndjson': Buffer.from('{"path": "x"'),
    'one-json.ndjson': Buffer.from('{"tool": {"name": "pyc-audit"}, "artifacts": []}\n'),
    'document.json': Buffer.from(run(['--format', 'json', CLEAN]).stdout),
    'binary.ndjson': readFileSync(CLEAN),
    'text.ndjson': Buffer.from('hello\nworld\n'),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const r = run(['--format', 'ndjson', '--output', path, '--resume', STALE]);
    assert.equal(r.code, 2, name);
    assert.match(r.stderr, new RegExp(`^pyc-audit: error: --resume ${path.replace(/[.]/g, '\\.')}: .*give another --output\\n$`), name);
    assert.ok(readFileSync(path).equals(bytes), `${name} was changed`);
  }
  if (spawnSync('mkfifo', [join(dir, 'fifo')]).status === 0) {
    const r = run(['--format', 'ndjson', '--output', join(dir, 'fifo'), '--resume', STALE]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--resume .*fifo: not a regular file \(a FIFO\)/);
  }
});

test('--resume audits again the inputs that failed last time, and drops their lines', () => {
  const dir = tmp();
  const out = join(dir, 'run.ndjson');
  const late = join(dir, 'example-1.0-py314rc2_0.conda');
  const first = run(['--format', 'ndjson', '--output', out, CLEAN, late]);
  assert.equal(first.code, 2);
  assert.equal(lines(readFileSync(out, 'utf8')).length, 2);
  copyFileSync(STALE, late);
  const again = run(['--format', 'ndjson', '--output', out, '--resume', CLEAN, late]);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /--resume: 1 of 2 artifacts are in .* already; 1 that could not be read is audited again/);
  const rows = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as { path: string; error: string | null; status: string });
  assert.deepEqual(rows.map((r) => [r.path, r.error, r.status]), [
    [CLEAN, null, 'ok'],
    [late, null, 'stale'],
  ]);
});

test('the progress line is cleared before a report line goes to the same terminal', { skip: spawnSync('script', ['--version'], { stdio: 'ignore' }).error === undefined ? false : 'no script(1)' }, () => {
  const files = [STALE, CLEAN, MIXED, fixture('legacy-1.0-py27_0.conda'), fixture('checks-1.0-py37_0.conda')];
  const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} --no-color --jobs 1 ${files.join(' ')}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  const screen = r.stdout.split('\n');
  const reportLines = screen.filter((l) => files.some((f) => l.includes(`${f}  `)));
  assert.equal(reportLines.length, files.length, r.stdout);
  assert.ok(screen.some((l) => /\[=*>?\s*\]\s+\d+\/5/.test(l)), 'a progress line was drawn');
  // What the terminal shows of each line is what follows its last "erase line".
  // (Each report line starts with its status column, then the path.)
  for (const l of reportLines) assert.match(l.split('\x1b[K').pop()!, /^[A-Z][A-Z ]+ {2}\//, JSON.stringify(l));
});

test('text from an artifact is escaped in every text format; --list-stale prints an invalid name quoted, with a warning', () => {
  const dir = tmp();
  const name = 'evil\u001b[2K\rinnocent\nnumpy\u202e';
  const path = join(dir, 'evil.tar');
  writeFileSync(path, hostilePackage({ name }));
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f\u202e]|\r/;
  const stale = run(['--list-stale', path]);
  assert.equal(stale.code, 1);
  assert.equal(stale.stdout, '"evil\\x1b[2K\\x0dinnocent\\x0anumpy\\u202e-1.0-py314_0"\n');
  assert.match(stale.stderr, /^pyc-audit: warning: --list-stale: .*evil\.tar: ".*" is not a valid conda package name; listed quoted and escaped\n$/);
  for (const format of ['text', 'github', 'junit']) {
    const r = run(['--format', format, path], { FORCE_COLOR: '0' });
    assert.equal(r.code, 1, format);
    assert.doesNotMatch(r.stdout, raw, format);
  }
  // A valid name is printed bare.
  writeFileSync(path, hostilePackage({ name: 'good_pkg.x' }));
  assert.equal(run(['--list-stale', path]).stdout, 'good_pkg.x-1.0-py314_0\n');
  assert.equal(printable('a\u0007b\u202ac\u2066d\u0085'), 'a\\x07b\\u202ac\\u2066d\\x85');
  assert.ok(isPrintable('numpy-2.3.1-py314h1234_0') && !isPrintable('a\u2069'));
  assert.equal(condaIdProblem('numpy', '2.3.1', 'py314h1234_0'), null);
  assert.equal(condaIdProblem('_libgcc_mutex', '0.1', 'conda_forge'), null);
  assert.equal(condaIdProblem('__glibc', '1', '0'), 'not a valid conda package name');
  assert.equal(condaIdProblem('a--b', '1', '0'), 'not a valid conda package name');
  assert.equal(condaIdProblem('numpy', '1-2', '0'), 'not a valid conda version');
  assert.equal(condaIdProblem('numpy', '1', 'py 3'), 'not a valid conda build string');
  assert.equal(condaIdProblem('x'.repeat(129), '1', '0'), 'not a valid conda package name');
  assert.deepEqual(wheelId('https://h/x/demo_pkg-2.0-py3-none-any.whl?x=1'), { id: 'demo_pkg-2.0', problem: null });
});

test('--list-stale: in an environment the installed packages to rebuild; for a wheel its name-version', () => {
  const env = run(['--list-stale', '--fail-on', 'info', fixture('env')]);
  assert.equal(env.code, 1);
  assert.equal(env.stdout, 'example-1.0-py314_0\nother-2.0-py314_0\n');
  assert.match(env.stderr, /^pyc-audit: warning: --list-stale: .*env\/lib\/python3\.14\/site-packages\/stray: 1 failing file no installed package owns \(not listed\)\n$/);
  const dir = tmp();
  const wheel = join(dir, 'demo_pkg-2.0-py3-none-any.whl');
  writeFileSync(wheel, zip({ 'demo_pkg/m.py': Buffer.from('x = 1\n'), 'demo_pkg/__pycache__/m.cpython-314.pyc': pyc314rc2(6) }));
  const r = run(['--list-stale', wheel]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, 'demo_pkg-2.0\n');
});

test('merge: hostile and malformed lines are one error naming the file and line, never an internal error', () => {
  const dir = tmp();
  const good = JSON.parse(lines(run(['--format', 'ndjson', STALE]).stdout)[0]!) as Record<string, unknown>;
  const channel = { channel: 'c', subdir: 'linux-64', file: 'x-1-0.conda', sha256: null, shard: { index: 1, count: 50_000_000, size: 1, total: 50_000_000 } };
  const cases: [Record<string, unknown> | string, RegExp][] = [
    [{ ...good, channel }, /line 2: channel\.shard\.count is not a whole number from 1 to 100000/],
    [{ ...good, findings: [{ code: 'PYC001', severity: 'fatal', member: 'm', message: 'x' }] }, /line 2: findings\[0\]\.severity is not one of error, warning, info/],
    [{ ...good, impact: { modules: '1', sourceBytes: 0 } }, /line 2: impact\.modules is not a whole number/],
    [{ ...good, pyc: 'many' }, /line 2: pyc is not an array/],
    [{ ...good, path: undefined }, /line 2: path is missing/],
    ['{"path": "x", "findings": [', /line 2 is not JSON/],
  ];
  for (const [line, message] of cases) {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, `${JSON.stringify(good)}\n${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
    const r = run(['merge', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^pyc-audit: error: ${file.replace(/[.]/g, '\\.')}: ${message.source}[^\\n]*\\n$`));
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});

test('merge of --format json documents equals merge of ndjson; a failed artifact re-run is replaced by the one read', () => {
  const dir = tmp();
  const late = join(dir, 'example-1.0-py314rc2_0.conda');
  const runs = [
    [CLEAN, MIXED],
    [STALE, late],
  ];
  const json = runs.map((inputs, i) => {
    const out = join(dir, `part-${i}.json`);
    run(['--format', 'json', '--output', out, ...inputs]);
    return out;
  });
  const nd = runs.map((inputs, i) => {
    const out = join(dir, `part-${i}.ndjson`);
    run(['--format', 'ndjson', '--output', out, ...inputs]);
    return out;
  });
  const fromJson = run(['merge', '--format', 'json', ...json]);
  const fromNd = run(['merge', '--format', 'json', ...nd]);
  assert.equal(fromJson.code, 2); // `late` could not be read
  assert.equal(fromJson.stdout, fromNd.stdout);
  assert.deepEqual(JSON.parse(fromJson.stdout).artifacts.map((a: { path: string }) => a.path), [CLEAN, MIXED, STALE, late]);
  // The failed one, audited again: the merge keeps the result that was read.
  copyFileSync(STALE, late);
  const retry = join(dir, 'retry.ndjson');
  run(['--format', 'ndjson', '--output', retry, late]);
  const merged = run(['merge', '--format', 'json', ...nd, retry]);
  assert.equal(merged.code, 1, merged.stderr);
  assert.match(merged.stderr, /overlap: .*could not be read there.*\(kept\)/);
  const last = JSON.parse(merged.stdout).artifacts.at(-1);
  assert.deepEqual([last.path, last.error, last.status], [late, null, 'stale']);
  // A one-line JSON document (jq -c) is read too.
  const compact = join(dir, 'compact.json');
  writeFileSync(compact, `${JSON.stringify(JSON.parse(readFileSync(json[0]!, 'utf8')))}\n`);
  assert.deepEqual(JSON.parse(run(['merge', '--format', 'json', compact]).stdout).artifacts, JSON.parse(readFileSync(json[0]!, 'utf8')).artifacts);
});
