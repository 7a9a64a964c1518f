// Secrets in URLs, never shown: a password in `user:pass@` becomes `***`, and an anaconda.org
// token in a `/t/<token>/` path segment becomes `<TOKEN>` (as conda prints it), in every URL in
// a text: stderr lines, report paths, cache entries. The URL itself keeps them for the request.
// Pure.

const USERINFO = /\b(https?:\/\/)([^\s/@:]*):([^\s/@]*)@/gi;
const TOKEN = /(\bhttps?:\/\/[^\s]*?\/t\/)[^\s/:'"]+(?=[/\s:'"]|$)/gim;

/** `text` with every http(s) URL's password and conda token replaced. */
export function redactUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:***@`).replace(TOKEN, '$1<TOKEN>');
}
