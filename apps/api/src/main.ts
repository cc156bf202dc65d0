import { createLogger, loadConfigOrExit } from '@vad/config';
import { startApi } from '@vad/http';
import { runUntilStopped } from '@vad/queue';
import { startWithServices } from '@vad/runtime';

const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
runUntilStopped(
  startWithServices(config, logger, (resolved) => startApi(resolved, logger)),
  logger,
  'api',
);
