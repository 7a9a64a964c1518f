// The command line itself: what --help shows, mistyped commands, the one error style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, run } from './helpers.js';
import { didYouMean, editDistance } from '../src/run/did-you-mean.js';

test('pyc-audit --help shows the audit options and examples for one package, a CI step and a package cache', () => {
  const r = run(['--help']);
  assert.equal(r.code, 0);
  for (const option of ['--select <codes>', '--fail-on <severity>', '--format <format>', '--python <X.Y>', '--baseline <file>', '--config <file>', '--pkgs-cache']) assert.ok(r.stdout.includes(option), option);
  assert.match(r.stdout, /One package: +pyc-audit \S+\.conda\n/);
  assert.match(r.stdout, /A CI step: +pyc-audit --format sarif --output \S+ \S+\n/);
  assert.match(r.stdout, /A package cache: +pyc-audit --pkgs-cache/);
});

test('every default in every --help is printed once', () => {
  for (const command of [[], ['audit'], ['channel'], ['merge'], ['rules'], ['magic']]) {
    const help = run([...command, '--help']).stdout.replace(/\n\s+/g, ' ');
    assert.doesNotMatch(help, /\(default: [^)]*\)\s*\(default:/, command.join(' '));
    assert.doesNotMatch(help, /default: \[\]/, command.join(' '));
  }
  assert.match(run(['channel', '--help']).stdout.replace(/\n\s+/g, ' '), /--subdir <names> +subdirs to read, comma-separated or repeated \(default: all the channel has\)/);
});

test('a mistyped command is named with a suggestion (exit 2), not read as a missing file', () => {
  const rulez = run(['rulez']);
  assert.equal(rulez.code, 2);
  assert.equal(rulez.stderr, "pyc-audit: error: unknown command 'rulez' (did you mean 'rules'?)\n(run pyc-audit --help for usage)\n");
  const audti = run(['audti', 'x.conda']);
  assert.equal(audti.code, 2);
  assert.match(audti.stderr, /^pyc-audit: error: unknown command 'audti' \(did you mean 'audit'\?\)\n/);
  assert.equal(run(['chanel', 'https://example.org/c']).stderr.split('\n')[0], "pyc-audit: error: unknown command 'chanel' (did you mean 'channel'?)");
  // A word unlike any command is an input like any other.
  assert.match(run(['numpy']).stderr, /^pyc-audit: error: nothing to audit: numpy: no such file\n/);
});

test('a file that happens to be called like a mistyped command is audited', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-typo-'));
  writeFileSync(join(dir, 'rulez'), 'not an artifact');
  const r = spawnSync(process.execPath, [BIN, 'rulez'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.doesNotMatch(r.stderr, /unknown command/);
  assert.match(r.stderr, /^pyc-audit: error: rulez: /);
});

test("commander's own errors have the same prefix as every other error", () => {
  for (const [args, message] of [
    [['--bogus'], "unknown option '--bogus'"],
    [['--fail-on', 'fatal', 'x.conda'], "option '--fail-on <severity>' argument 'fatal' is invalid. Allowed choices are error, warning, info, never."],
    [['channel'], "missing required argument 'source'"],
  ] as [string[], string][]) {
    const r = run(args);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], `pyc-audit: error: ${message}`);
  }
});

test('did-you-mean: edit distance, and nothing offered for a word far from every option', () => {
  assert.equal(editDistance('audti', 'audit'), 2);
  assert.equal(didYouMean('rulez', ['audit', 'rules']), 'rules');
  assert.equal(didYouMean('numpy', ['audit', 'channel', 'merge', 'rules', 'magic']), null);
});
