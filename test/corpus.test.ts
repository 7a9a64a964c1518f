// Real third-party artifacts and .pyc files from ../shared/corpus, read in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { auditArtifact } from '../src/run/audit-artifact.js';
import { MagicTable } from '../src/magic/table.js';
import { CORPUS, haveCorpus, readTsv } from './helpers.js';

const table = MagicTable.builtIn();
const skip = haveCorpus ? false : 'no ../shared/corpus beside the repository';
const manifest = haveCorpus ? readTsv(join(CORPUS, 'conda', 'MANIFEST.tsv')) : [];
const headers = haveCorpus ? readTsv(join(CORPUS, 'conda', 'pyc-headers.tsv')) : [];

test('the corpus manifest lists artifacts', { skip }, () => assert.ok(manifest.length >= 20));

for (const row of manifest) {
  test(`corpus ${row.file}: pyc count, magics and every header word as the manifest says`, { skip }, async () => {
    const result = await auditArtifact(join(CORPUS, 'conda', row.file!), { table });
    assert.equal(result.error, null);
    assert.equal(result.pyc.length, Number(row.pyc_count));
    // magics column: "3394:12", "short:1" for members too short to have one, "" for none.
    const counts = new Map<string, number>();
    for (const p of result.pyc) {
      const key = p.headerHex.length < 32 ? 'short' : String(p.magic);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const expected = new Map((row.magics ? row.magics.split(',') : []).map((kv) => {
      const [k, v] = kv.split(':');
      return [k!, Number(v)] as const;
    }));
    assert.deepEqual(counts, expected);

    const mine = new Map(result.pyc.map((p) => [p.member, p]));
    const rows = headers.filter((h) => h.file === row.file);
    assert.equal(rows.length, result.pyc.length);
    for (const h of rows) {
      const p = mine.get(h.member_path!);
      assert.ok(p, `member ${h.member_path} found`);
      if (!h.magic) {
        assert.equal(p.status, 'invalid');
        continue;
      }
      const bytes = Buffer.from(p.headerHex, 'hex');
      assert.equal(bytes.readUInt16LE(0), Number(h.magic), h.member_path);
      assert.equal(bytes.readUInt32LE(4), Number(h.flags), h.member_path);
      assert.equal(bytes.readUInt32LE(8), Number(h.word2), h.member_path);
      assert.equal(bytes.readUInt32LE(12), Number(h.word3), h.member_path);
    }
  });
}

test('corpus verdicts: real packages built for the Python they ship are clean', { skip }, async () => {
  // Recorded from the corpus with the reason for each:
  // - testfile-0.0.23: its bin/test.pyc is 0 bytes (conda-verify's synthetic bad package): invalid.
  // - venicegeo's py35 builds carry 3350, which 3.5.0–3.5.2 wrote and 3.5.3+ no longer load: superseded.
  // - every other artifact carries the final-release magic of the Python its index.json,
  //   build string or paths name, so it is ok (or has no pyc at all).
  const verdicts: Record<string, string | null> = {};
  for (const row of manifest) {
    const r = await auditArtifact(join(CORPUS, 'conda', row.file!), { table });
    verdicts[row.file!] = r.status;
  }
  for (const [file, status] of Object.entries(verdicts)) {
    if (file.includes('testfile-0.0.23')) assert.equal(status, 'invalid', file);
    else if (/^venicegeo\+conda-channel\/.*-py35_\d+\.tar\.bz2$/.test(file)) assert.equal(status, 'superseded', file);
    else assert.ok(status === 'ok' || status === null, `${file}: ${status}`);
  }
  assert.equal(verdicts['conda+conda/zlib-1.2.11-h7b6447c_3.conda'], null);
});

test('corpus expected versions come from the strongest clue', { skip }, async () => {
  const expect = async (file: string) => (await auditArtifact(join(CORPUS, 'conda', file), { table })).expected!;
  const bcj = await expect('anaconda+anaconda-client/bcj-cffi-0.5.1-py310h295c915_0.tar.bz2');
  assert.equal(bcj.version, '3.10');
  assert.equal(bcj.from, 'python');
  const pip = await expect('venicegeo+conda-channel/pip-9.0.1-py35_0.tar.bz2');
  assert.equal(pip.version, '3.5');
  const win = await expect('CLFML+conda_ros2_jazzy_channel/ros-jazzy-audio-tools-2.5-hdb7bc25_0.tar.bz2');
  assert.equal(win.version, '3.12');
  assert.equal(win.from, 'cache-tag', 'a Windows layout has Lib/, no python3.12 in its paths');
});

const expectedPyc = haveCorpus ? readTsv(join(CORPUS, 'pyc', 'EXPECTED.tsv')) : [];
test('pycdc corpus: every .pyc from Python 1.0 to 3.12 maps to the version its name claims', { skip }, async () => {
  assert.ok(expectedPyc.length > 150);
  for (const row of expectedPyc) {
    const r = await auditArtifact(join(CORPUS, 'pyc', row.path!), { table });
    assert.equal(r.error, null, row.path);
    const p = r.pyc[0]!;
    assert.equal(p.magic, Number(row.magic), row.path);
    const entry = table.lookup(p.magic!)!;
    assert.ok(entry, `${row.path}: magic ${p.magic} known`);
    assert.ok(entry.version === row.folder_version || entry.alsoVersions.includes(row.folder_version!), `${row.path}: ${p.magic} is ${entry.version}, file says ${row.folder_version}`);
    assert.notEqual(p.status, 'invalid', `${row.path}: ${p.message}`);
  }
});
