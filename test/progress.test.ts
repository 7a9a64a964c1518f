// The progress line: drawn on a terminal for several artifacts, never elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { formatBytes, formatDuration, progressLine } from '../src/report/progress.js';
import { BIN, FIXTURES, fixture, run } from './helpers.js';

test('the line: bar, count, bytes, rate, time left', () => {
  assert.equal(progressLine({ done: 3, total: 12, bytesDone: 50e6, bytesTotal: 200e6, seconds: 2, width: 100 }), `[${'='.repeat(7)}>${' '.repeat(22)}]  3/12  50.0 MB of 200 MB  25.0 MB/s  6 s left`);
  assert.equal(progressLine({ done: 0, total: 4, bytesDone: 0, bytesTotal: 0, seconds: 0, width: 80 }), `[${' '.repeat(20)}]  0/4`);
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1_234_567), '1.2 MB');
  assert.equal(formatDuration(125), '2 min 5 s');
});

const script = spawnSync('script', ['--version'], { stdio: 'ignore' }).error === undefined;
const files = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).map((f) => fixture(f));

test('on a terminal: progress on stderr, cleared at the end; with --quiet: none', { skip: script ? false : 'no script(1) to make a terminal' }, () => {
  const onTty = (extra: string) => spawnSync('script', ['-qec', `${process.execPath} ${BIN} ${extra} ${files.join(' ')} 2>&1 >/dev/null`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 }).stdout;
  const shown = onTty('');
  assert.match(shown, /\r\x1b\[K\[=+>\s*\]\s+\d+\/\d+ {2}[\d.]+ kB of [\d.]+ kB/);
  assert.match(shown, new RegExp(`${files.length}/${files.length}`));
  assert.ok(shown.endsWith('\r\x1b[K'), 'the line is cleared before the process ends');
  assert.equal(onTty('--quiet'), '');
});

test('not a terminal: no progress, stderr stays empty', () => {
  const r = run(files);
  assert.equal(r.stderr, '');
});
