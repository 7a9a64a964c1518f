// The standard streams a run writes to. Node creates process.stderr when it is first read, and for
// a pipe (a CI log, a caller capturing it) that loads node:net and builds a socket, while most runs
// write nothing to stderr. A terminal is a character device, so when fd 2 is not one its isTTY is
// known (false) without creating the stream: everything else is forwarded to process.stderr when
// first used. On a terminal, /dev/null or anything fstat cannot tell, process.stderr itself.
import { fstatSync } from 'node:fs';
import type { ReportIo } from '../report/reporter.js';

function characterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return true;
  }
}

/** process.stderr, created when something other than isTTY is asked of it. */
function stderrOnFirstUse(): NodeJS.WritableStream {
  return new Proxy({} as NodeJS.WritableStream & { isTTY?: boolean }, {
    get(_, key) {
      if (key === 'isTTY') return false;
      const value = Reflect.get(process.stderr, key, process.stderr) as unknown;
      return typeof value === 'function' ? value.bind(process.stderr) : value;
    },
    set(_, key, value) {
      return Reflect.set(process.stderr, key, value, process.stderr);
    },
    has(_, key) {
      return key in process.stderr;
    },
  });
}

export function standardIo(): ReportIo {
  return { stdout: process.stdout, stderr: characterDevice(2) ? process.stderr : stderrOnFirstUse() };
}
