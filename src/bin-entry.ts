// What bin/pyc-audit.js runs, as one module: scripts/bundle.mjs bundles it into dist/bundle/cli.cjs,
// so the decoder checks the bin makes and the audit share one copy of the decoder modules.
export { main } from './cli.js';
export { bzip2, decoderReport, zstd } from './sources/codecs/codecs.js';
export { magicTableReport } from './run/load-table.js';
