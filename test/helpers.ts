import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/, so the repository root is two levels up.
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'fixtures');
export const SHARED = resolve(ROOT, '..', 'shared');
export const CORPUS = join(SHARED, 'corpus');
export const BIN = join(ROOT, 'bin', 'pyc-audit.js');

export const fixture = (...parts: string[]) => join(FIXTURES, ...parts);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would, with a bound on time so a hang fails the test. */
export function run(args: string[], env: Record<string, string | undefined> = {}, input?: Buffer): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
    input,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of a TSV file with a header line, as objects. */
export function readTsv(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const cols = head!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

export const haveCorpus = existsSync(join(CORPUS, 'conda', 'MANIFEST.tsv'));

/** A child's exit code and output, killed after `timeoutMs`; `input` written to its stdin. */
function collect(args: string[], env: Record<string, string | undefined>, timeoutMs: number, input?: Buffer): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A CLI that exits without reading its stdin closes the pipe: EPIPE here is not the test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** Like run(), without blocking this process's event loop (for servers the test itself runs). */
export function runAsync(args: string[], env: Record<string, string | undefined> = {}, input?: Buffer): Promise<RunResult> {
  return collect([BIN, ...args], { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env }, 60_000, input);
}

/**
 * The CLI in a child Node process (given `nodeOptions`) that reports its own peak RSS: { rssMB,
 * seconds } beside what run() gives (the RSS line taken off stderr). Asynchronous, for servers the
 * test itself runs.
 */
export async function runMeasured(args: string[], env: Record<string, string> = {}, nodeOptions: string[] = []): Promise<RunResult & { rssMB: number; seconds: number }> {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli.js'))});
const code = await main(${JSON.stringify(args)});
process.stderr.write('maxrss ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n');
process.exitCode = code;`;
  const started = Date.now();
  const r = await collect([...nodeOptions, '--input-type=module', '-e', script], env, 120_000);
  const lines = r.stderr.trim().split('\n');
  const rssMB = Number(/maxrss (\d+)/.exec(lines.pop() ?? '')?.[1]);
  return { code: r.code, stdout: r.stdout, stderr: lines.join('\n') ? `${lines.join('\n')}\n` : '', rssMB, seconds: (Date.now() - started) / 1000 };
}
