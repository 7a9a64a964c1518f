#!/usr/bin/env node
// A plain shebang: BusyBox's env has no -S, so no flags here. What a flag did is set below instead.
// Start-up time is most of a small run (docs/performance.md): built-ins are required, not imported
// (an ES module import of one builds a facade that reads every property, node:v8's included), and
// what is not needed is not loaded.
import module from 'node:module';

const require = module.createRequire(import.meta.url);
const args = process.argv.slice(2);
// A reader that stops early (`pyc-audit … | head`) ends the run quietly, as SIGPIPE would. Any
// other write error on stdout (ENOSPC: a full disk) is one line and exit status 2. Either way an
// --output file not yet complete is removed and the previous one left in place (on 'exit').
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(141);
  process.stderr.write(`pyc-audit: error: stdout: ${err.code && err.message.startsWith(`${err.code}:`) ? err.message.replace(/, [a-z]+$/, '') : (err.code ?? err.message)}\n`);
  process.exit(2);
});
// A crash is exit 2, never 1 (1 means findings at or above --fail-on): an exception nothing caught
// or a promise rejection nothing handled ends the run with one line and status 2. An --output
// file not yet complete is removed on 'exit' (src/report/output.ts), so reports are whole or absent.
// A write error on stderr itself (2>/dev/full: stderr has no 'error' listener) lands here too: the
// run could not say what it had to, so it ends with 2 as well (the line about it goes nowhere).
let crashed = false;
function crash(err) {
  if (crashed) return;
  crashed = true;
  const message = String((err && typeof err === 'object' && 'message' in err ? err.message : err) ?? 'unknown').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim().slice(0, 500);
  try {
    process.stderr.write(`pyc-audit: internal error: ${message} (please report)\n`);
  } catch {
    // stderr is gone too: the exit status says it.
  }
  process.exit(2);
}
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// A test hook (docs/security.md): PYC_AUDIT_DEBUG=crash throws from a timer once the run is under
// way, PYC_AUDIT_DEBUG=reject rejects a promise nobody handles, to show a crash is exit 2.
if (process.env.PYC_AUDIT_DEBUG === 'crash') setTimeout(() => { throw new Error('forced crash (PYC_AUDIT_DEBUG=crash)'); }, 50);
if (process.env.PYC_AUDIT_DEBUG === 'reject') setTimeout(() => void Promise.reject(new Error('forced rejection (PYC_AUDIT_DEBUG=reject)')), 50);

/** Inputs of at most this many bytes in all make a small audit. */
const SMALL_AUDIT_BYTES = 16 << 20;

/**
 * An audit of regular files of SMALL_AUDIT_BYTES or less in all: no folder, URL, standard input or
 * package cache. Arguments that name nothing (the values of options, a command) are not inputs;
 * an option value that names a file counts as one, which only makes the answer no more often.
 */
function smallAudit(kind) {
  if (kind !== 'audit' || args.includes('--pkgs-cache')) return false;
  let total = 0;
  for (const arg of args) {
    if (arg === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return false;
    if (arg.startsWith('-')) continue;
    let stats;
    try {
      stats = require('node:fs').statSync(arg, { throwIfNoEntry: false });
    } catch {
      return false;
    }
    if (!stats) continue;
    if (!stats.isFile()) return false;
    total += stats.size;
    if (total > SMALL_AUDIT_BYTES) return false;
  }
  return true;
}

const version = args.length >= 1 && args.length <= 2 && (args[0] === '--version' || args[0] === '-V');
const packageVersion = () => JSON.parse(require('node:fs').readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
if (version && args.length === 1) {
  // `--version` answers before anything else loads: CI scripts call it to probe for the tool.
  process.stdout.write(`${packageVersion()}\n`);
} else {
  // The kind of run, so that each keeps a cache of the functions it calls (bin/load-cli.cjs).
  const kind = version || args.includes('--help') || args.includes('-h') ? 'other' : args[0] === 'channel' ? 'channel' : ['merge', 'rules', 'rule', 'magic', 'help'].includes(args[0]) ? 'other' : 'audit';
  // No V8 flags: node:v8's setFlagsFromString is documented as unsafe once Node runs, and a flag
  // one V8 has another lacks (Node 26 has no --scavenger-max-new-space-capacity-mb).
  const small = smallAudit(kind);
  // Compiled code is cached on disk in the user's cache folder (never the temporary one): Node's
  // compile cache (Node >= 22.1) for what is loaded as modules, unless NODE_COMPILE_CACHE says
  // where; the bundled CLI's own (bin/load-cli.cjs). NODE_DISABLE_COMPILE_CACHE turns both off.
  const { homedir } = require('node:os');
  const { join } = require('node:path');
  // Either is used only in a folder nobody else can write, and not in CI unless asked
  // (PYC_AUDIT_CODE_CACHE; bin/load-cli.cjs, docs/security.md): cached code is run as it is.
  const userCache = process.env.NODE_DISABLE_COMPILE_CACHE ? null : process.env.XDG_CACHE_HOME || (homedir() && join(homedir(), '.cache'));
  const loader = require('./load-cli.cjs');
  const nodeCache = module.enableCompileCache && !process.env.NODE_COMPILE_CACHE && loader.cacheFolder(userCache, 'node-compile-cache');
  if (nodeCache) module.enableCompileCache(nodeCache);
  // A small audit calls other functions (the short way to a plain .conda): it keeps its own cache.
  const bundled = loader.loadBundle(join(import.meta.dirname, '..'), loader.cacheFolder(userCache, 'code-cache'), small ? 'small' : kind);
  const cli = bundled ? bundled.exports : await import('../dist/src/bin-entry.js');
  if (version && args[1] === '--verbose') {
    // What this machine would run: the decoders found, forced ones (PYC_AUDIT_ZSTD/BZIP2) checked.
    try {
      process.stdout.write(`${[`pyc-audit ${packageVersion()}`, `node ${process.version}`, ...cli.decoderReport(), cli.magicTableReport()].join('\n')}\n`);
    } catch (err) {
      process.stderr.write(`pyc-audit: error: ${err.message}\n`);
      process.exitCode = 2;
    }
  } else {
    // A decoder forced by the environment that this machine lacks is a usage error, said once.
    try {
      if (process.env.PYC_AUDIT_ZSTD) cli.zstd();
      if (process.env.PYC_AUDIT_BZIP2) cli.bzip2();
    } catch (err) {
      process.stderr.write(`pyc-audit: error: ${err.message}\n`);
      process.exit(2);
    }
    process.exitCode = await cli.main(args);
  }
  bundled?.saveCache();
}
