// A file server on 127.0.0.1 for tests, honouring Range (suffix ranges included) like a CDN.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Answers with `data`, or the part a Range header asks for (206 with Content-Range); returns the body's length. */
export function sendBytes(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, ranges = true): number {
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (ranges && m) {
    const start = m[1] === '' ? Math.max(0, data.length - Number(m[2])) : Number(m[1]);
    const end = m[1] !== '' && m[2] ? Number(m[2]) : data.length - 1;
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}` });
    const part = data.subarray(start, end + 1);
    res.end(part);
    return part.length;
  }
  res.writeHead(200, { 'content-length': data.length });
  res.end(data);
  return data.length;
}

/** Starts a server; returns its base URL and a closer. */
export async function startServer(handler: http.RequestListener): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Serves the files under `root()` (looked up at each request, so a test may rebuild the folder),
 * 404 for anything else, and logs each request's URL in `requests`.
 */
export function serveFolder(root: () => string, requests: string[]): Promise<{ base: string; close: () => Promise<void> }> {
  return startServer((req, res) => {
    requests.push(req.url ?? '/');
    try {
      sendBytes(req, res, readFileSync(join(root(), decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))));
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
}
