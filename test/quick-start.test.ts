// The README's quick start and the first things a new user runs, on the Node that runs this suite
// (CI runs it on every Node line that package.json's `engines` allows): the bundled example, the
// version report, a .tar.bz2 and a folder. Each exits as documented and writes nothing on stderr:
// no native assertion, no V8 flag message, no deprecation warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, run } from './helpers.js';

const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-quick-start-'));
// A cache folder of its own: the runs start as on a new machine, and leave nothing behind.
const env = { XDG_CACHE_HOME: cache, NODE_PENDING_DEPRECATION: '1' };
test.after(() => rmSync(cache, { recursive: true, force: true }));

test(`the quick start on Node ${process.version}: the example .conda is STALE, exit 1, nothing on stderr`, () => {
  for (let i = 0; i < 2; i++) {
    // The second run reads the code cache the first one left.
    const r = run([fixture('example-py314rc2.conda')], env);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^STALE +\S*example-py314rc2\.conda +1 pyc +3626 \(3\.14rc2\)/);
  }
});

test(`--version --verbose on Node ${process.version} names this Node and its decoders`, () => {
  const r = run(['--version', '--verbose'], env);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^pyc-audit \\d+\\.\\d+\\.\\d+\\nnode ${process.version.replace(/\./g, '\\.')}\\nzstd: \\S.*\\nbzip2: \\S.*\\n`));
});

test(`a .tar.bz2 and a package cache folder on Node ${process.version}`, () => {
  const bz2 = run([fixture('example-1.0-py314_0.tar.bz2')], env);
  assert.equal(bz2.stderr, '');
  assert.equal(bz2.code, 0);
  assert.match(bz2.stdout, /^OK +\S*example-1\.0-py314_0\.tar\.bz2 +1 pyc +3627 /);
  // A folder is read the general way (no short way for a small audit), archives beside it compared.
  const folder = run([fixture('pkgs-cache')], env);
  assert.equal(folder.stderr, '');
  assert.equal(folder.code, 1);
  assert.match(folder.stdout, /^STALE +\S*pkgs-cache\/example-1\.0-py314_0 +1 pyc +3626 /m);
  assert.match(folder.stdout, /^OK +\S*pkgs-cache\/legacy-1\.0-py36_0\.tar\.bz2 +1 pyc +3379 /m);
});
