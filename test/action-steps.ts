// Runs the `run` steps of action.yml as GitHub's runner does: ${{ }} expressions substituted in
// the text, the step's env, GITHUB_OUTPUT a file, `bash --noprofile --norc -eo pipefail`.
// Used by test/action.test.ts and scripts/install-check.sh (which runs the install step too).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, string>;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  'working-directory'?: string;
}
export interface Action {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

export function readAction(actionPath: string): Action {
  return parse(readFileSync(join(actionPath, 'action.yml'), 'utf8')) as Action;
}

/** ${{ inputs.x }} and ${{ github.action_path }} as GitHub substitutes them (text, before the shell sees it). */
function substitute(action: Action, text: string, inputs: Record<string, string>, actionPath: string): string {
  return text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
    if (expr === 'github.action_path') return actionPath;
    const m = /^inputs\.([\w-]+)$/.exec(expr);
    if (!m) throw new Error(`unexpected expression ${expr}`);
    const input = action.inputs[m[1]!];
    if (!input) throw new Error(`no input ${m[1]}`);
    return inputs[m[1]!] ?? input.default ?? '';
  });
}

/** Runs one step (by id) of the action at `actionPath`, from `cwd` unless the step names a working-directory. */
export function runStep(actionPath: string, id: string, inputs: Record<string, string>, cwd: string) {
  const action = readAction(actionPath);
  const step = action.runs.steps.find((s) => s.id === id);
  if (!step?.run || step.shell !== 'bash') throw new Error(`no bash step ${id}`);
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-action-'));
  const script = join(dir, 'step.sh');
  writeFileSync(script, substitute(action, step.run, inputs, actionPath));
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const path = join(dir, 'path');
  writeFileSync(path, '');
  const env: Record<string, string | undefined> = { ...process.env, GITHUB_OUTPUT: output, GITHUB_PATH: path, GITHUB_ACTION_PATH: actionPath, RUNNER_TEMP: dir, NO_COLOR: undefined, FORCE_COLOR: undefined };
  for (const [k, v] of Object.entries(step.env ?? {})) env[k] = substitute(action, v, inputs, actionPath);
  const where = step['working-directory'] ? substitute(action, step['working-directory'], inputs, actionPath) : cwd;
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: where, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs: readFileSync(output, 'utf8'), path: readFileSync(path, 'utf8') };
}
