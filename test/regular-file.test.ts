import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError, readHeadSync, readRegularFile, readRegularFileSync } from '../src/sources/access/regular-file.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-regular-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const file = join(dir, 'file');
writeFileSync(file, 'hello world');
const link = join(dir, 'link');
symlinkSync(file, link);
const zero = join(dir, 'zero');
symlinkSync('/dev/zero', zero);

test('a FIFO is refused on the opened descriptor, without blocking', async () => {
  await assert.rejects(readRegularFile(fifo, { maxBytes: 100 }), (e: unknown) => e instanceof FileError && e.message === 'not a regular file (a FIFO)');
  assert.throws(() => readRegularFileSync(fifo, { maxBytes: 100 }), /not a regular file \(a FIFO\)/);
  assert.throws(() => readHeadSync(fifo, 16), /not a regular file \(a FIFO\)/);
});

test('a link to /dev/zero is a character device, not an endless file', async () => {
  await assert.rejects(readRegularFile(zero, { maxBytes: 100 }), /not a regular file \(a character device\)/);
});

test('links are followed only when asked', async () => {
  assert.equal((await readRegularFile(link, { maxBytes: 100 })).toString(), 'hello world');
  await assert.rejects(readRegularFile(link, { maxBytes: 100, follow: false }), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
});

test('a file larger than its limit is refused, one at the limit is read whole', async () => {
  await assert.rejects(readRegularFile(file, { maxBytes: 10 }), /larger than the 10 bytes this file may have/);
  assert.throws(() => readRegularFileSync(file, { maxBytes: 10 }), /larger than the 10 bytes/);
  assert.equal((await readRegularFile(file, { maxBytes: 11 })).toString(), 'hello world');
  assert.equal(readRegularFileSync(file, { maxBytes: 11 }).toString(), 'hello world');
});

test('a head read takes at most the bytes asked for', () => {
  const { head, stats } = readHeadSync(file, 5);
  assert.equal(head.toString(), 'hello');
  assert.equal(stats.size, 11);
  assert.equal(readHeadSync(file, 64).head.toString(), 'hello world');
});
