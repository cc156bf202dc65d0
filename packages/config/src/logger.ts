import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

/**
 * Structured JSON logs; `name` says which process or component wrote the
 * line. Workers log to stdout; the CLI logs to stderr so its output stays clean.
 */
export function createLogger(config: Pick<Config, 'log'>, name: string, destination: 1 | 2 = 1): Logger {
  return pino(
    { name, level: config.log.level, base: { pid: process.pid } },
    pino.destination({ fd: destination, sync: true }),
  );
}
