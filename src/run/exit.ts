// How a command ends: its exit status, and the error that means the command line (or a file it
// names) cannot be used — one line on stderr, exit status 2, never a stack trace.

export const EXIT = { clean: 0, findings: 1, error: 2 } as const;

/** Bad usage: cli.ts prints "pyc-audit: error: <message>" and exits with EXIT.error. */
export class UsageError extends Error {}
