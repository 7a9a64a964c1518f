// Whether to colour what goes to a stream: --color / --no-color, else NO_COLOR and FORCE_COLOR,
// else only on a terminal.
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import type { ReportIo } from './reporter.js';

export function colorFor(stream: ReportIo['stdout'], choice: boolean | undefined): ChalkInstance {
  if (choice === false) return new Chalk({ level: 0 });
  if (choice === true) return new Chalk({ level: Math.max(chalk.level, 1) as 1 | 2 | 3 });
  if (process.env.NO_COLOR) return new Chalk({ level: 0 });
  const forced = process.env.FORCE_COLOR;
  if (forced !== undefined && forced !== '0' && forced !== 'false') return new Chalk({ level: Math.max(chalk.level, 1) as 1 | 2 | 3 });
  return new Chalk({ level: stream.isTTY ? chalk.level : 0 });
}
