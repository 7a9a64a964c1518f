// One verdict whatever the zstd decoder: node:zlib (where sound), the `zstd` program and the
// pure-JavaScript decoder give the same bytes or the same kind of error on skippable frames (whole,
// cut short), garbage after the last frame and the fuzz regressions; and through the CLI, with
// PYC_AUDIT_ZSTD=zlib|tool|js, the same exit code and statuses. The rule is the zstd program's
// (docs/security.md). Decoders run in a child process with a deadline: the JS decoder used to loop
// forever, synchronously, after a skippable frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecoders } from '../src/sources/codecs/codecs.js';
import { ROOT, FIXTURES, run } from './helpers.js';
import { pycBytes, tarOf, infoFiles, type Package } from './package-builder.js';
import { zipOf, zstdFrame } from './archives.js';
import { skippableFrame, spliceStoredMember } from './fuzz/engine.js';

const DECODERS = Object.keys(zstdDecoders()).sort();
const frame = zstdFrame(Buffer.from('hello world\n'.repeat(100)));
const skip = (size: number, keep = size) => skippableFrame(size, keep);

const STREAMS: Record<string, Buffer> = {
  'skippable, frame': Buffer.concat([skip(4), frame]),
  'frame, skippable': Buffer.concat([frame, skip(4)]),
  'empty skippable, frame': Buffer.concat([skip(0), frame]),
  'two skippables, frame': Buffer.concat([skip(3), skip(5), frame]),
  'skippable only': skip(4),
  'frame, skippable cut in its content': Buffer.concat([frame, skip(100, 10)]),
  'frame, skippable cut in its header': Buffer.concat([frame, skip(4).subarray(0, 6)]),
  'skippable cut short only': skip(100, 10),
  'frame, garbage': Buffer.concat([frame, Buffer.from('garbage!')]),
  'frame, one byte': Buffer.concat([frame, Buffer.from([0x28])]),
  'frame, zeros': Buffer.concat([frame, Buffer.alloc(16)]),
  'frame, frame cut short': Buffer.concat([frame, frame.subarray(0, 10)]),
};

/** Outcomes by decoder: "bytes N" or the error's kind, computed in a child with a deadline. */
function decodeAll(streams: Record<string, Buffer>): Record<string, Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-zstd-'));
  try {
    writeFileSync(join(dir, 'in.json'), JSON.stringify(Object.fromEntries(Object.entries(streams).map(([k, v]) => [k, v.toString('base64')]))));
    const script = `
      import { readFileSync } from 'node:fs';
      import { createHash } from 'node:crypto';
      const { zstdDecoders } = await import(${JSON.stringify(join(ROOT, 'dist/src/sources/codecs/codecs.js'))});
      const streams = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'in.json'))}, 'utf8'));
      const out = {};
      for (const [name, b64] of Object.entries(streams)) {
        const bytes = Buffer.from(b64, 'base64');
        out[name] = {};
        for (const [d, decode] of Object.entries(zstdDecoders())) {
          for (const step of [7, bytes.length || 1]) {
            const h = createHash('sha256');
            let n = 0;
            const r = await decode((async function* () { for (let i = 0; i < bytes.length; i += step) yield bytes.subarray(i, i + step); })(), (c) => { n += c.length; h.update(c); })
              .then(() => 'bytes ' + n + ' ' + h.digest('hex').slice(0, 12), (e) => (/^truncated/.test(e.message) ? 'truncated' : /^corrupt zstd data/.test(e.message) ? 'corrupt' : 'other: ' + e.message));
            out[name][d + ' by ' + (step === 7 ? 7 : 'whole')] = r;
          }
        }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.error, undefined, `the decoders answered within 60 s (${r.error?.message})`);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`every zstd decoder here (${DECODERS.join(', ')}) gives the same verdict on skippable frames, cut-short ones and garbage after a frame`, () => {
  const got = decodeAll(STREAMS);
  const expected: Record<string, string> = {
    'skippable only': 'bytes 0',
    'frame, skippable cut in its content': 'truncated',
    'frame, skippable cut in its header': 'truncated',
    'skippable cut short only': 'truncated',
    'frame, garbage': 'corrupt',
    'frame, one byte': 'corrupt',
    'frame, zeros': 'corrupt',
    'frame, frame cut short': 'truncated',
  };
  for (const [name, byDecoder] of Object.entries(got)) {
    const verdicts = new Set(Object.values(byDecoder));
    assert.equal(verdicts.size, 1, `${name}: ${JSON.stringify(byDecoder)}`);
    const verdict = [...verdicts][0]!;
    if (expected[name]) assert.ok(verdict.startsWith(expected[name]!), `${name}: ${verdict}`);
    else assert.match(verdict, /^bytes 1200 /, name);
  }
});

// ---- through the CLI ---------------------------------------------------------------------------

const SITE = 'lib/python3.14/site-packages/demo';
const source = Buffer.from('value = 1\n');
const pkg: Package = {
  name: 'demo',
  version: '1.0',
  build: 'py314_0',
  files: [
    { path: `${SITE}/__init__.py`, data: source, mtime: 1_700_000_000 },
    { path: `${SITE}/__pycache__/__init__.cpython-314.pyc`, data: pycBytes(3627, { mtime: 1_700_000_000, size: source.length }), mtime: 1_700_000_010 },
  ],
  depends: ['python >=3.14,<3.15.0a0', 'python_abi 3.14.* *_cp314'],
};

/** The package as a .conda, with `tail` after the frame of its pkg or info component. */
function conda(component: 'pkg' | 'info', tail: Buffer): Buffer {
  const name = 'demo-1.0-py314_0';
  return zipOf([
    { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    { name: `info-${name}.tar.zst`, data: Buffer.concat([zstdFrame(tarOf(infoFiles(pkg))), component === 'info' ? tail : Buffer.alloc(0)]) },
    { name: `pkg-${name}.tar.zst`, data: Buffer.concat([zstdFrame(tarOf(pkg.files)), component === 'pkg' ? tail : Buffer.alloc(0)]) },
  ]);
}

/** What a run gives: exit code, the status words of stdout, stderr with the paths taken out. */
function cli(path: string, decoder: string): string {
  const r = run(['--isolated', path], { PYC_AUDIT_ZSTD: decoder });
  const statuses = r.stdout.split('\n').map((l) => /^[A-Z]+/.exec(l)?.[0]).filter(Boolean);
  return JSON.stringify({ code: r.code, statuses, stderr: r.stderr.split(path).join('PATH') });
}

test('through the CLI, PYC_AUDIT_ZSTD=zlib|tool|js give the same exit code and report on skippable frames and trailing bytes, after the tar\'s end too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-zstd-cli-'));
  try {
    const tails: Record<string, [Buffer, number]> = {
      'a skippable frame': [skip(4), 0],
      'a skippable frame cut short': [skip(100, 10), 2],
      'garbage': [Buffer.from('garbage!'), 2],
      'one byte': [Buffer.from([0x28]), 2],
    };
    for (const component of ['pkg', 'info'] as const) {
      for (const [what, [tail, code]] of Object.entries(tails)) {
        const path = join(dir, `demo-1.0-py314_0-${component}-${what.replace(/\W+/g, '-')}.conda`);
        writeFileSync(path, conda(component, tail));
        const outcomes = Object.fromEntries(DECODERS.map((d) => [d, cli(path, d)]));
        assert.equal(new Set(Object.values(outcomes)).size, 1, `${component} + ${what}: ${JSON.stringify(outcomes, null, 1)}`);
        assert.equal(JSON.parse(outcomes.js!).code, code, `${component} + ${what}: ${outcomes.js}`);
      }
    }
    // A skippable frame before the first frame of a member, the zip kept right (as the fuzzer makes them).
    const base = conda('pkg', Buffer.alloc(0));
    const member = base.indexOf(Buffer.from('pkg-demo')) - 30;
    const spliced = spliceStoredMember(base, member, 0, skip(40))!;
    const path = join(dir, 'demo-1.0-py314_0-skippable-first.conda');
    writeFileSync(path, spliced);
    const outcomes = DECODERS.map((d) => cli(path, d));
    assert.equal(new Set(outcomes).size, 1, outcomes.join('\n'));
    assert.equal(JSON.parse(outcomes[0]!).code, 0, outcomes[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('through the CLI, every fuzz regression gives the same exit code, report and error with every zstd decoder', () => {
  const dir = join(FIXTURES, 'fuzz-regressions');
  const inputs = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'README.md' && n !== 'expected.json');
  assert.ok(inputs.some((n) => /skippable/.test(n)), 'the regressions hold skippable frames');
  for (const name of inputs) {
    const outcomes = Object.fromEntries(DECODERS.map((d) => [d, cli(join(dir, name), d)]));
    assert.equal(new Set(Object.values(outcomes)).size, 1, `${name}: ${JSON.stringify(outcomes, null, 1)}`);
  }
  void readFileSync;
});
