// The one fetch every download goes through (artifact URLs, channel documents): one HTTP client
// for the whole run, whatever Node runs it, with keep-alive connections reused per host, the proxy
// variables curl, pip and conda honour, and retries of what a CDN says to retry (docs/network.md).
//
// Client: undici from npm, never Node's bundled fetch. The bundled client of Node 22 and 24
// (undici 6.29 / 7.x) dies with an uncatchable `assert(!this.paused)` when a server closes the
// connection (HTTP/1.0, `Connection: close`: `python3 -m http.server`) while the reader has the
// body paused (nodejs/undici#5360; fixed in undici 8.6.0, which needs Node >= 22.19). So:
//   Node >= 22.19: npm undici 8 (package `undici`, pinned);
//   older Node (20.18.1 and later 20.x, 22 before 22.19): npm undici 6.24.1 (package `undici6`),
//     the client Node 20 itself bundles, which has no such crash (test/http-close.test.ts runs the
//     crash's reproduction on every Node in CI).
// Loaded on the first download only: a run that reads no URL does not pay for it.
//
// Keep-alive: one EnvHttpProxyAgent for the run (a plain connection pool per origin when no proxy
// variable is set), idle connections kept for KEEP_ALIVE_MS. The pool itself does not cap
// connections to an origin: --downloads does (each download keeps at most a few responses open,
// http.ts), and a cap below that could leave every connection held by a response its reader will
// come back to while the reader waits for one more. closeNetwork() destroys it at the end of the run, so no socket (a silent proxy's
// included) keeps the process alive after its report.
//
// Proxies, as curl does them: HTTP_PROXY / HTTPS_PROXY / NO_PROXY (or lower-case). An http:// URL
// goes to the proxy as an absolute-form GET; only https:// is tunnelled with CONNECT. A proxy
// that refuses the tunnel is one error: `proxy refused CONNECT host:443: 403`.
//
// Retries: a 429 or a 5xx response, or a connection the server resets before answering, is
// tried again (a refused connection or an unknown host is not: it is not a hiccup), at most
// RETRY.attempts times in all, waiting RETRY.baseMs × 2^n (plus up to a quarter of jitter) or what
// Retry-After says (seconds or an HTTP date), each wait capped at RETRY.maxWaitMs and all waits
// together at RETRY.totalWaitMs. When the next wait would pass that budget, the last response is
// returned as it is (the caller reports its status). An abort (the caller's timeout) ends a wait at once.

import type { HostPolicy } from './hosts.js';
import { InputError } from '../types.js';
import { redactUrls } from './redact.js';

export const RETRY = { attempts: 4, baseMs: 1000, maxWaitMs: 30_000, totalWaitMs: 60_000 };

/** How long an idle connection is kept for the next request. */
export const KEEP_ALIVE_MS = 10_000;

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** Whether the environment names a proxy (NO_PROXY alone changes nothing). */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((v) => !!env[v]);
}

/**
 * The proxy variable the client would use that holds no http(s) URL, or null. undici takes
 * http_proxy before HTTP_PROXY (https_proxy before HTTPS_PROXY), an empty one as none; a bad one
 * fails every request, so it is said once, by name (never its value: it may hold a password).
 */
export function badProxyVariable(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const [lower, upper] of [['http_proxy', 'HTTP_PROXY'], ['https_proxy', 'HTTPS_PROXY']] as const) {
    const name = env[lower] !== undefined ? lower : upper;
    const value = env[name];
    if (!value) continue;
    let protocol = '';
    try {
      protocol = new URL(value).protocol;
    } catch {
      // not a URL
    }
    if (protocol !== 'http:' && protocol !== 'https:') return name;
  }
  return null;
}

/** Whether this Node runs undici 8 (it needs 22.19 or later). */
export function modernClient(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 19);
}

/** Which client this Node uses, for --version-like reports and the docs' table. */
export const clientName = () => (modernClient() ? 'undici 8 (npm)' : 'undici 6.24 (npm, as undici6)');

type Fetch = (url: string, init: RequestInit) => Promise<Response>;
interface Client {
  fetch: Fetch;
  destroy: () => Promise<void>;
}

let client: Promise<Client> | null = null;

async function makeClient(): Promise<Client> {
  const bad = badProxyVariable();
  if (bad) throw new InputError(`${bad} is not a proxy URL (http://HOST:PORT or https://HOST:PORT)`);
  const mod = (modernClient() ? await import('undici') : await import('undici6')) as unknown as typeof import('undici');
  // undici 6 calls EnvHttpProxyAgent experimental in a warning on stderr: not the user's concern.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!/EnvHttpProxyAgent is experimental/.test(String(warning))) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  let dispatcher: InstanceType<typeof mod.EnvHttpProxyAgent>;
  try {
    dispatcher = new mod.EnvHttpProxyAgent({
    // http:// through an HTTP proxy as an absolute-form request; CONNECT only for https.
    proxyTunnel: false,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
  } as ConstructorParameters<typeof mod.EnvHttpProxyAgent>[0]);
  } finally {
    process.emitWarning = emitWarning;
  }
  return {
    fetch: (url, init) => mod.fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>,
    destroy: () => dispatcher.destroy().catch(() => {}),
  };
}

function transport(): Promise<Client> {
  return (client ??= makeClient());
}

/**
 * Ends every connection the run opened (kept-alive ones, a proxy's that never answered): called
 * once the reports are written. A later download opens a new client.
 */
export async function closeNetwork(): Promise<void> {
  const c = client;
  client = null;
  // A client that could not be made (a bad proxy variable) was reported by each download.
  if (c) await (await c.catch(() => null))?.destroy();
}

/** How long Retry-After asks to wait, in ms; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

const retryable = (status: number) => status === 429 || (status >= 500 && status <= 599);

/** A connection reset by the peer, as a busy CDN or proxy does now and then. */
function transient(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

let policy: HostPolicy | null = null;

/**
 * Where requests may go for the rest of the run (a channel run: hosts.ts), null for anywhere.
 * With a policy, redirects are followed here, each hop judged before it is requested.
 */
export function setHostPolicy(p: HostPolicy | null): void {
  policy = p;
}

/** The policy set for the run, if any. */
export function hostPolicy(): HostPolicy | null {
  return policy;
}

/** Redirects followed at most (curl's default is 50, browsers' 20). */
export const MAX_REDIRECTS = 20;

/** fetch through the configured proxy, retrying 429, 5xx and failed connections (see above). */
export async function netFetch(url: string, init: RequestInit = {}): Promise<Response> {
  if (!policy || init.redirect === 'manual' || init.redirect === 'error') return fetchRetrying(url, init);
  for (let hop = 0; ; hop++) {
    const refused = policy.refuses(url);
    if (refused) throw new InputError(`request to ${new URL(url).host || redactUrls(url)} refused: ${refused}`);
    const response = await fetchRetrying(url, { ...init, redirect: 'manual' });
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return response;
    await response.body?.cancel().catch(() => {});
    if (hop >= MAX_REDIRECTS) throw new InputError(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url).href;
  }
}

/**
 * `user:pass@` taken out of the URL (fetch refuses URLs with credentials) and sent as HTTP Basic
 * authorization, as conda does; dropped when a redirect leaves the origin (as curl does).
 */
function withCredentials(url: string, init: RequestInit): [string, RequestInit] {
  const u = new URL(url);
  if (!u.username && !u.password) return [url, init];
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return [u.href, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Basic ${basic}` } }];
}

async function fetchRetrying(given: string, givenInit: RequestInit): Promise<Response> {
  const [url, init] = withCredentials(given, givenInit);
  const { fetch } = await transport();
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    let response: Response | null = null;
    let failure: unknown = null;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if (init.signal?.aborted || !transient(err)) throw err;
      failure = err;
    }
    if (response && !retryable(response.status)) return response;
    const asked = response ? retryAfterMs(response.headers.get('retry-after')) : null;
    const backoff = RETRY.baseMs * 2 ** (attempt - 1) * (1 + Math.random() / 4);
    const wait = Math.min(asked ?? backoff, RETRY.maxWaitMs);
    const last = attempt >= RETRY.attempts || waited + wait > RETRY.totalWaitMs || (asked !== null && asked > RETRY.maxWaitMs);
    if (last) {
      if (response) return response;
      throw failure;
    }
    await response?.body?.cancel().catch(() => {});
    await sleep(wait, init.signal);
    waited += wait;
  }
}
