// npm's `prepare`: compile the TypeScript of src/ (tsconfig.build.json), then bundle it (scripts/bundle.mjs). npm runs it after `npm install`/`npm ci` in a checkout,
// before `npm pack`, and when it installs or packs the package from a git URL (having installed
// the dev dependencies first). One case cannot work: a *global* install from git
// (`npm i -g git+…`), where npm installs no dependencies before running this and links its clone
// into the global prefix (npm/cli#8440, open in npm 11). Rather than fail with "tsc: not found",
// or build something that installs broken, say what works instead.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const tsc = 'node_modules/typescript/bin/tsc';
if (!existsSync(tsc)) {
  const global = process.env.npm_config_global === 'true' || process.env.npm_config_location === 'global';
  console.error(
    global
      ? 'pyc-audit: npm cannot build a package during a global install from git (npm/cli#8440).\n' +
          'Pack it, then install the tarball:\n' +
          '  npm pack git+https://…/pyc-audit.git   # prints pyc-audit-X.Y.Z.tgz\n' +
          '  npm install --global ./pyc-audit-X.Y.Z.tgz'
      : 'pyc-audit: TypeScript is not installed here; run `npm ci` first',
  );
  process.exit(1);
}
// The sources only: the tests are compiled by `npm test` (npm run build), which an install does not run.
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
process.exit(b.status ?? 1);
