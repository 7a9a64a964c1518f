// The one fetch every download goes through (artifact URLs, channel repodata): it honours the
// proxy variables curl, pip and conda honour, and retries what a CDN says to retry.
//
// Proxies: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (or lower-case). Node's built-in fetch ignores
// them, so when one is set the request goes through undici's EnvHttpProxyAgent (undici from npm,
// loaded only then: it costs start-up time that a run without a proxy does not pay).
//
// Retries: a 429 or a 5xx response, or a connection the server resets before answering, is
// tried again (a refused connection or an unknown host is not: it is not a hiccup), at most RETRY.attempts times in all, waiting RETRY.baseMs × 2^n (plus up to a quarter
// of jitter) or what Retry-After says (seconds or an HTTP date), each wait capped at
// RETRY.maxWaitMs and all waits together at RETRY.totalWaitMs. When the next wait would pass
// that budget, the last response is returned as it is (the caller reports its status).
// An abort (the caller's timeout) ends a wait at once.

export const RETRY = { attempts: 4, baseMs: 1000, maxWaitMs: 30_000, totalWaitMs: 60_000 };

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** Whether the environment names a proxy (NO_PROXY alone changes nothing). */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((v) => !!env[v]);
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

let proxied: Promise<Fetch> | null = null;

async function proxyFetch(): Promise<Fetch> {
  const { EnvHttpProxyAgent, fetch } = await import('undici');
  const dispatcher = new EnvHttpProxyAgent();
  return (url, init) => fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}

function transport(): Promise<Fetch> {
  if (!proxyConfigured()) return Promise.resolve(globalThis.fetch);
  return (proxied ??= proxyFetch());
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

/** fetch through the configured proxy, retrying 429, 5xx and failed connections (see above). */
export async function netFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const fetch = await transport();
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
