import { type Config, createLogger, loadConfigOrExit } from '@vad/config';
import { createSearchContext, ProducerContext, type SearchContext } from '@vad/runtime';
import { dateTimeSchema } from '@vad/schedule';
import { formatTime, type TimeDisplay, toJson } from './format.js';

export interface CliOptions {
  /** `vad --utc`: print times in UTC instead of VAD_TIMEZONE. */
  utc?: boolean;
  /** The configuration with its services resolved (see resolveServices); loaded from the environment when unset. */
  config?: Config;
  /** Lets go of the embedded server after close (long-running commands exit from their signal handler). */
  release?: () => Promise<void>;
}

/**
 * What a command needs (repositories, queues, submit, queue control and
 * health), opened on first use and closed once at the end, so a command that
 * needs only Postgres never connects to Redis.
 */
export class CliContext extends ProducerContext {
  /** Times are printed in VAD_TIMEZONE with their offset (UTC with --utc); times typed without one are read in it. */
  readonly display: TimeDisplay;

  constructor(options: CliOptions = {}) {
    const config = options.config ?? loadConfigOrExit();
    // The CLI talks to people on stdout/stderr; its structured logs only say what went wrong.
    const logger = createLogger({ log: { level: process.env.VAD_LOG_LEVEL ? config.log.level : 'warn' } }, 'cli', 2);
    super(config, logger, { poolSize: 2, applicationName: 'vad-cli' });
    this.display = { timeZone: config.schedule.timeZone, utc: options.utc ?? false };
    this.release = options.release;
  }

  private readonly release: (() => Promise<void>) | undefined;

  private searchContext: SearchContext | undefined;

  /** Search (its text encoders are loaded on first use, and released by close). */
  get search(): SearchContext {
    this.searchContext ??= createSearchContext(this.config, this.repos, this.logger);
    return this.searchContext;
  }

  override async close(): Promise<void> {
    try {
      await this.searchContext?.close();
      this.searchContext = undefined;
      await super.close();
    } finally {
      await this.release?.();
    }
  }

  /** A time as the CLI prints it: `2026-11-30T23:15:02+01:00` in VAD_TIMEZONE (or UTC with --utc); `none` for none. */
  time(date: Date | null | undefined, none = '-'): string {
    return formatTime(date, this.display, none);
  }

  /** JSON for --json output, with times as ISO 8601 in VAD_TIMEZONE (or UTC) with their offset, to the millisecond. */
  json(value: unknown): string {
    return toJson(value, this.display);
  }

  /** A zod schema for an option that takes a time: with an offset as is, without one in VAD_TIMEZONE. */
  dateTimeOption() {
    return dateTimeSchema(this.config.schedule.timeZone);
  }
}
