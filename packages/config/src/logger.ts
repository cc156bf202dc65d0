import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout; `name` says which process or component wrote the line. */
export function createLogger(config: Pick<Config, 'log'>, name: string): Logger {
  return pino({ name, level: config.log.level, base: { pid: process.pid } });
}
