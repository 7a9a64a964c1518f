// Text from an artifact (member names, index.json fields, error reasons that quote them) printed
// to a terminal or a CI log: every character that could move the cursor, erase a line, start a
// new one or reorder what is shown is written as an escape instead, so an archive cannot forge a
// line of a report. Every text format goes through this one function.

/**
 * Characters never printed raw: C0 controls (ESC, CR, LF, BEL, NUL …), DEL and C1 controls, the
 * Unicode line and paragraph separators, and the bidirectional formatting characters (Trojan
 * Source, CVE-2021-42574): U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `s` with every unsafe character shown as `\xNN` (up to U+00FF) or `\uNNNN`. */
export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Whether `s` would be printed unchanged. */
export function isPrintable(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(s);
}

/**
 * Characters XML 1.0 cannot carry at all, even as references, beyond the C0 controls `printable`
 * already escapes: U+FFFE, U+FFFF and lone (unpaired) surrogates.
 */
const NOT_XML = /[\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` printable (see above) and fit for XML 1.0: every character XML cannot carry shown as `\uNNNN`. */
export function xmlPrintable(s: string): string {
  return printable(s).replace(NOT_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text from an artifact in Markdown (a job summary): rendered as the text it is, never as HTML, a
 * link, an image, code or a table cell break. HTML's special characters become entities and
 * Markdown's punctuation is escaped with a backslash; line breaks are shown as \\x0a.
 */
export function markdownText(s: string): string {
  return printable(s)
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (c) => `\\${c}`);
}
