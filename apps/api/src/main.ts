import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { startApi } from './start-api.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
startApi(config, logger).then(
  (api) => stopOnSignals(api, logger),
  (error: unknown) => {
    logger.fatal({ err: error }, 'api failed to start');
    process.exit(1);
  },
);
