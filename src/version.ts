// The version package.json gives, for --version, reports and the cache key.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const VERSION = (require('../../package.json') as { version: string }).version;
