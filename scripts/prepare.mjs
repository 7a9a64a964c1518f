// npm's `prepare`: compile the TypeScript. It runs after `npm install`/`npm ci` in a checkout,
// before `npm pack`, and when npm installs the package from a git URL. For a *global* git install
// (`npm i -g git+…`) npm runs it in a clone where it has installed nothing (npm/cli#8440: the
// global flag reaches the inner install), so tsc is missing; then the build tools are installed
// here first, from the lockfile, without install scripts (only tsc and the type packages are
// needed to compile). The package npm then packs from this clone holds dist/ and no dev tools.
// That same inner install, being global, also replaces the folder the outer install is unpacking
// into with a link to this clone; the package would be unpacked through it into the clone, which
// npm deletes after, leaving a dangling link. So that link is turned back into an empty folder.
import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function run(args, env = process.env) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync('node_modules/typescript/bin/tsc')) {
  const npm = process.env.npm_execpath;
  if (!npm) {
    console.error('prepare: TypeScript is not installed; run `npm ci` first');
    process.exit(1);
  }
  // The outer install's global flag and prefix must not reach this one: it installs into this folder.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)));
  run([npm, 'ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--global=false'], env);
}
run(['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);

const prefix = process.env.npm_config_global === 'true' ? process.env.npm_config_prefix : undefined;
const name = process.env.npm_package_name;
if (prefix && name) {
  const link = process.platform === 'win32' ? join(prefix, 'node_modules', name) : join(prefix, 'lib', 'node_modules', name);
  try {
    if (lstatSync(link).isSymbolicLink() && realpathSync(link) === realpathSync('.')) {
      rmSync(link);
      mkdirSync(link);
    }
  } catch {
    // no such link: nothing to undo
  }
}
