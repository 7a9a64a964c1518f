// What package.json says of the package: its version (for --version, reports and the cache key),
// and where the project lives (its `repository`), from which the links in reports are made.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string; repository?: string | { url?: string } };
export const VERSION = pkg.version;

/**
 * The project's web address from package.json's `repository` (`https://github.com/o/r`,
 * `git+https://…/r.git`, `github:o/r`), or null while it is not set: then reports link nowhere
 * rather than to a page that does not exist.
 */
export function projectUrl(repository: typeof pkg.repository = pkg.repository): string | null {
  const url = typeof repository === 'string' ? repository : repository?.url;
  if (!url) return null;
  const short = /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(url);
  if (short) return `https://github.com/${short[1]!.replace(/\.git$/, '')}`;
  const web = /^(?:git\+)?(https:\/\/[^\s#?]+?)(?:\.git)?\/?$/.exec(url);
  return web ? web[1]! : null;
}
