// The bundled CLI: dist/src (what tsc built) → one file, dist/bundle/cli.cjs, which bin/pyc-audit.js
// loads (with a code cache, bin/load-cli.cjs); and the reader thread's script, dist/bundle/worker.js.
// One file starts faster than ~70 modules resolved and read one by one (docs/performance.md). It is
// CommonJS so that each module's built-ins are required when that module first runs (an ES module
// bundle hoists every import to the top: node:crypto, node:worker_threads … would load on every
// run), and so that built-ins are not wrapped in an ES module facade (`import process from
// 'node:process'` in chalk creates process.stdin, a stream, on every run).
//
// Run after tsc (npm run build, npm test, prepare). Without esbuild (a platform it has no binary
// for), says so and exits 0: the bin then runs dist/src as it is.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--action [DIR]`: the GitHub Action's copy (dist/action/, committed): every dependency inside,
// since an action runs from its checkout with no node_modules; minified, and checked by
// test/action.test.ts against a build of the sources (npm run build:action writes it).
const actionAt = process.argv.indexOf('--action');
const action = actionAt >= 0;
const out = action ? resolve(process.argv[actionAt + 1] ?? join(root, 'dist', 'action')) : join(root, 'dist', 'bundle');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`pyc-audit: not bundled (esbuild: ${err.message.split('\n')[0]}); bin/pyc-audit.js runs dist/src instead`);
  rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

// Loaded only on paths few runs take (URLs, channels, fallback decoders): left in node_modules and
// required when used, so the bundle every run reads stays small (undici alone is 1 MB).
const external = action ? [] : ['undici', 'undici6', '@msgpack/msgpack', 'fzstd', 'unbzip2-stream'];

// commander requires node:child_process at its top for executable subcommands, which pyc-audit has
// none of; required on first use instead.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) {
        return { contents: text, loader: 'js', warnings: [{ text: `commander no longer has "${eager}": node:child_process loads at start-up again (scripts/bundle.mjs)` }] };
      }
      const lazy = "const childProcess = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });";
      return { contents: text.replace(eager, lazy), loader: 'js' };
    });
  },
};

// chalk's colour detection (its vendored supports-color) asks node:tty whether fds 1 and 2 are
// terminals, at its top: node:tty loads node:net with it, on every run, also when stdout is a file
// or a pipe. Node's own process.stdout and process.stderr already know (each is a tty.WriteStream
// exactly when its fd is a terminal, which is when node:tty loads anyway), so the question goes
// to them: same answer, same colours, nothing loaded when neither is a terminal.
let ttyShimmed = false;
const ttyFromStdio = {
  name: 'tty-from-stdio',
  setup(build) {
    build.onResolve({ filter: /^node:tty$/ }, (args) => {
      if (!/[\\/]chalk[\\/]source[\\/]vendor[\\/]supports-color[\\/]index\.js$/.test(args.importer)) return undefined;
      ttyShimmed = true;
      return { path: 'tty-from-stdio', namespace: 'pyc-audit' };
    });
    build.onLoad({ filter: /^tty-from-stdio$/, namespace: 'pyc-audit' }, () => ({
      // A terminal is a character device: a pipe or a file is answered without creating the stream
      // (process.stderr on a pipe loads node:net too; src/run/stdio.ts).
      contents: `const { fstatSync } = require('node:fs');
function characterDevice(fd) {
  try { return fstatSync(fd).isCharacterDevice(); } catch { return true; }
}
module.exports = {
  isatty: (fd) => (fd !== 1 && fd !== 2 ? require('node:tty').isatty(fd) : characterDevice(fd) && (fd === 1 ? process.stdout : process.stderr).isTTY === true),
};`,
      loader: 'js',
    }));
  },
};

// The action's bundle has no node_modules beside it: the modules that load a package when first
// needed (createRequire(import.meta.url)('fzstd'), …) are given esbuild's own require, which
// bundles what it names and still runs it only when called.
const requireInside = {
  name: 'require-inside',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replace(/^const require = createRequire\(import\.meta\.url\);$/m, '').replace(/createRequire\(import\.meta\.url\)\(/g, 'require('), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  minify: action,
  keepNames: action,
  platform: 'node',
  target: 'node20',
  external,
  logLevel: 'silent',
  legalComments: 'none',
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const results = await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [join(root, 'dist', 'src', 'bin-entry.js')],
    outfile: join(out, 'cli.cjs'),
    format: 'cjs',
    plugins: [lazyChildProcess, ttyFromStdio, ...(action ? [requireInside] : [])],
    // import.meta is empty in CommonJS: its url is the bundle's own (package.json, the worker and
    // node_modules are found from dist/bundle/ as from dist/src/, one level below dist/).
    define: { 'import.meta.url': '__bundleUrl' },
    // import() of what is not bundled (node:zlib, undici) as require(): code run from a V8 code
    // cache has no dynamic-import callback on Node 20 ("A dynamic import callback was not
    // specified"), and require skips the ES module facade.
    supported: { 'dynamic-import': false },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  esbuild.build({
    ...common,
    entryPoints: [join(root, 'dist', 'src', 'run', 'worker.js')],
    outfile: join(out, 'worker.js'),
    format: 'esm',
    plugins: action ? [requireInside] : [],
    // CommonJS dependencies bundled into an ES module call require: give them one.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  }),
]);
// A warning here (import.meta.dirname in CommonJS, a patch that no longer applies) is a bundle
// that behaves differently from dist/src: stop.
const warnings = results.flatMap((r) => r.warnings);
if (!ttyShimmed) warnings.push({ text: "chalk's supports-color no longer imports node:tty: node:tty loads at start-up again (scripts/bundle.mjs)" });
if (warnings.length) {
  const text = await esbuild.formatMessages(warnings, { kind: 'warning' });
  console.error(text.join('\n'));
  rmSync(out, { recursive: true, force: true });
  console.error('pyc-audit: bundling failed on the warnings above');
  process.exit(1);
}
// bin/load-cli.cjs runs cli.cjs with no dynamic-import callback (see `supported` above).
let cli = readFileSync(join(out, 'cli.cjs'), 'utf8');
// All ASCII, so that bin/load-cli.cjs decodes it as Latin-1 (a copy) rather than UTF-8. esbuild
// escapes every other character in strings, regular expressions and names; what it keeps in a
// comment is escaped here, one UTF-16 unit at a time (\\uXXXX means the same in any of them).
if (/[^\x00-\x7f]/.test(cli)) {
  cli = cli.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeFileSync(join(out, 'cli.cjs'), cli);
}
if (/\bimport\(/.test(cli)) {
  rmSync(out, { recursive: true, force: true });
  console.error(`pyc-audit: ${join(out, 'cli.cjs')} would hold an import(): bundling failed`);
  process.exit(1);
}
