#!/usr/bin/env node
// A plain shebang: BusyBox's env has no -S, so no flags here. What a flag did is set below instead.
import { setFlagsFromString } from 'node:v8';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Keep V8's young generation small: the audit allocates many short-lived chunks, and a young
// generation left to grow holds them (and their decompressed bytes) until it fills.
// --max-semi-space-size cannot be changed once Node runs; the growth factor, and on newer V8 the
// scavenger's capacity, can. Figures: docs/performance.md.
setFlagsFromString('--semi-space-growth-factor=1');
if (Number(process.versions.node.split('.')[0]) >= 22) setFlagsFromString('--scavenger-max-new-space-capacity-mb=1');
// Node >= 22.1 caches compiled modules on disk, so later runs start faster; older Nodes lack it.
// In the user's cache folder (never the temporary one); NODE_COMPILE_CACHE or
// NODE_DISABLE_COMPILE_CACHE, when set, decide instead.
if (module.enableCompileCache && !process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  const cache = process.env.XDG_CACHE_HOME || (homedir() && join(homedir(), '.cache'));
  if (cache) module.enableCompileCache(join(cache, 'pyc-audit', 'node-compile-cache'));
}

const args = process.argv.slice(2);
// A reader that stops early (`pyc-audit … | head`) ends the run quietly, as SIGPIPE would. Any
// other write error on stdout (ENOSPC: a full disk) is one line and exit status 2. Either way an
// --output file not yet complete is removed and the previous one left in place (on 'exit').
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(141);
  process.stderr.write(`pyc-audit: error: stdout: ${err.code && err.message.startsWith(`${err.code}:`) ? err.message.replace(/, [a-z]+$/, '') : (err.code ?? err.message)}\n`);
  process.exit(2);
});
const version = args.length >= 1 && args.length <= 2 && (args[0] === '--version' || args[0] === '-V');
if (version && args.length === 1) {
  // `--version` answers before anything else loads: CI scripts call it to probe for the tool.
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else if (version && args[1] === '--verbose') {
  // What this machine would run: the decoders found, forced ones (PYC_AUDIT_ZSTD/BZIP2) checked.
  const { readFileSync } = await import('node:fs');
  const { decoderReport } = await import('../dist/src/sources/codecs.js');
  const lines = [`pyc-audit ${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}`, `node ${process.version}`];
  try {
    process.stdout.write(`${[...lines, ...decoderReport()].join('\n')}\n`);
  } catch (err) {
    process.stderr.write(`pyc-audit: error: ${err.message}\n`);
    process.exitCode = 2;
  }
} else {
  // A decoder forced by the environment that this machine lacks is a usage error, said once.
  if (process.env.PYC_AUDIT_ZSTD || process.env.PYC_AUDIT_BZIP2) {
    const { zstd, bzip2 } = await import('../dist/src/sources/codecs.js');
    try {
      if (process.env.PYC_AUDIT_ZSTD) zstd();
      if (process.env.PYC_AUDIT_BZIP2) bzip2();
    } catch (err) {
      process.stderr.write(`pyc-audit: error: ${err.message}\n`);
      process.exit(2);
    }
  }
  const { main } = await import('../dist/src/cli.js');
  process.exitCode = await main(args);
}
