// Where a channel run may send requests. A channel's own documents name other places (a sharded
// index's base_url and shards_base_url, redirects to a CDN): other public hosts stay allowed, as
// real channels need (prefix.dev's conda-forge index names conda.anaconda.org), but a remote
// channel never leads to a loopback, link-local or private address (a cloud's metadata service at
// 169.254.169.254, a router's admin page) unless the channel itself is on such an address or the
// user lists the host with --allow-host. Listing hosts also pins the run: with --allow-host, only
// the channel's own host and the listed ones are reached (`*` allows any). Host names are judged
// as written (an IP literal, `localhost`, `*.localhost`); a public name that resolves to a private
// address is not looked up (docs/network.md). Pure.
import { isIP } from 'node:net';

/** Whether a host (as in a URL, IPv6 in brackets or not) is loopback, link-local, private or unspecified. */
export function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const kind = isIP(h);
  if (kind === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (kind === 6) {
    if (h === '::' || h === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return isPrivateHost(mapped[1]!);
    const first = parseInt(h.split(':')[0] || '0', 16);
    return (first & 0xffc0) === 0xfe80 || (first & 0xfe00) === 0xfc00;
  }
  return false;
}

export interface HostPolicy {
  /** Why a request to `url` is refused; null when it may be made. */
  refuses(url: string): string | null;
}

/** The policy of a run on `channel` (a URL) with --allow-host `allowed`. */
export function channelPolicy(channel: string, allowed: readonly string[] = []): HostPolicy {
  const own = new URL(channel);
  const list = allowed.map((h) => h.toLowerCase().replace(/^\[|\]$/g, ''));
  const any = list.includes('*');
  const ownPrivate = isPrivateHost(own.hostname);
  return {
    refuses(url: string): string | null {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return 'not a URL';
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol} is not http(s), and a remote channel may point nowhere else`;
      const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
      if (any || host === own.hostname.toLowerCase().replace(/^\[|\]$/g, '') || list.includes(host)) return null;
      if (list.length) return `${host} is not the channel's host nor one --allow-host lists`;
      if (isPrivateHost(host) && !ownPrivate) return `${host} is a loopback, link-local or private address, and the channel is not (--allow-host ${host} allows it)`;
      return null;
    },
  };
}
