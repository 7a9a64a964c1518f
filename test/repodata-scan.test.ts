// The streaming repodata.json scanner: the records JSON.parse would give, whatever the chunking;
// the document's structure checked; no value larger than the limit kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD_LIMIT, RepodataScanner, type RecordTable } from '../src/channel/repodata-scan.js';

function scan(text: string | Buffer, chunk = Infinity): [RecordTable, string, unknown][] {
  const out: [RecordTable, string, unknown][] = [];
  const scanner = new RepodataScanner((table, file, value) => out.push([table, file, value]));
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < bytes.length; i += Math.min(chunk, bytes.length)) scanner.push(bytes.subarray(i, i + chunk));
  scanner.end();
  return out;
}

const DOC = {
  info: { subdir: 'linux-64', nested: { packages: { 'not-a-table-1-0.conda': {} } }, list: [1, '}', { '"': '{' }] },
  packages: {
    'a-1-0.tar.bz2': { name: 'a', depends: ['python >=3.14,<3.15.0a0'], note: 'braces } { ] [ and "quotes" and \\ and é 🐍' },
    'we\\"ird-1-0.tar.bz2': { name: 'we"ird' },
  },
  'packages.conda': { 'a-1-0.conda': { name: 'a', size: 12, sha256: 'ab'.repeat(32), nothing: null, t: true, n: -1.5e3 } },
  removed: ['x-1-0.conda'],
  repodata_version: 1,
};

test('the records of every chunking equal those JSON.parse gives, in document order', () => {
  const text = JSON.stringify(DOC, null, 1);
  const expected = [...Object.entries(DOC.packages).map(([f, v]) => ['packages', f, v]), ...Object.entries(DOC['packages.conda']).map(([f, v]) => ['packages.conda', f, v])];
  for (const chunk of [1, 2, 3, 7, 64, Infinity]) assert.deepEqual(scan(text, chunk), expected, `chunks of ${chunk}`);
  assert.deepEqual(scan(JSON.stringify(DOC), 5), expected);
  assert.equal(scan(' { } ').length, 0);
  assert.equal(scan('{"packages": {}, "packages.conda": {}}').length, 0);
  // A table that is not an object is an error; a missing one is not.
  assert.throws(() => scan('{"packages": []}'), /"packages" is not an object/);
  assert.equal(scan('{"info": 3}').length, 0);
});

test('what is not a JSON object is refused with the byte where it goes wrong', () => {
  const bad: [string | Buffer, RegExp][] = [
    [Buffer.alloc(1000), /not JSON: unexpected byte 0x00 at byte 0$/],
    ['', /the document ends early at byte 0/],
    ['[]', /unexpected "\[" at byte 0/],
    ['{"packages": {"a-1-0.conda": {"name": "a"}}', /the document ends early/],
    ['{"a": 1} x', /unexpected "x" at byte 9/],
    ['{"a": 1}{', /unexpected "\{" at byte 8/],
    ['{"a" 1}', /unexpected "1" at byte 5/],
    ['{"a": tru}', /unexpected "tru" at byte 6/],
    ['{"packages": {"a-1-0.conda": {"name": "a",}}}', /not JSON: .* at byte 29$/],
    ['{"a": "line\nbreak"}', /unexpected byte 0x0a at byte 11/],
    ['{"packages": {"a": 1 2}}', /unexpected "2"/],
  ];
  for (const [text, reason] of bad) assert.throws(() => scan(text, 3), reason, JSON.stringify(String(text).slice(0, 40)));
});

test('a record larger than the limit is refused, not buffered; skipped values may be any size', () => {
  const huge = `{"packages": {"a-1-0.tar.bz2": {"x": "${'y'.repeat(RECORD_LIMIT + 10)}"}}}`;
  assert.throws(() => scan(huge, 1 << 20), /^RepodataScanError: a record of more than 16 MiB at byte 31$/);
  const skipped = `{"info": {"x": "${'y'.repeat(RECORD_LIMIT + 10)}"}, "packages": {"a-1-0.tar.bz2": {}}}`;
  assert.equal(scan(skipped, 1 << 20).length, 1);
});
