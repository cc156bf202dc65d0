import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { startScheduler } from './scheduler.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'scheduler');
startScheduler(config, logger).then(
  (scheduler) => stopOnSignals(scheduler, logger),
  (error: unknown) => {
    logger.fatal({ err: error }, 'scheduler failed to start');
    process.exit(1);
  },
);
