import { createLogger, loadConfigOrExit } from '@vad/config';
import { ProducerContext } from '@vad/runtime';

/**
 * What a command needs (repositories, queues, submit, queue control and
 * health), opened on first use and closed once at the end, so a command that
 * needs only Postgres never connects to Redis.
 */
export class CliContext extends ProducerContext {
  constructor() {
    const config = loadConfigOrExit();
    // The CLI talks to people on stdout/stderr; its structured logs only say what went wrong.
    const logger = createLogger({ log: { level: process.env.VAD_LOG_LEVEL ? config.log.level : 'warn' } }, 'cli', 2);
    super(config, logger, { poolSize: 2, applicationName: 'vad-cli' });
  }
}
