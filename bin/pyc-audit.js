#!/usr/bin/env -S node --max-semi-space-size=1
// (A 1 MiB young generation: the audit allocates many short-lived chunks and strings, and with
// Node's default the whole benchmark corpus peaked at 159 MB instead of 129 MB, for no speed.)

// `--version` answers before anything else loads: CI scripts call it to probe for the tool.
const args = process.argv.slice(2);
// A reader that stops early (`pyc-audit … | head`) ends the run quietly, as SIGPIPE would. Any
// other write error on stdout (ENOSPC: a full disk) is one line and exit status 2. Either way an
// --output file not yet complete is removed and the previous one left in place (on 'exit').
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(141);
  process.stderr.write(`pyc-audit: error: stdout: ${err.code && err.message.startsWith(`${err.code}:`) ? err.message.replace(/, [a-z]+$/, '') : (err.code ?? err.message)}\n`);
  process.exit(2);
});
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/src/cli.js');
  process.exitCode = await main(args);
}
