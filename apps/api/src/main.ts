import { createLogger, loadConfigOrExit } from '@vad/config';
import { runUntilStopped } from '@vad/queue';
import { startApi } from './start-api.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
runUntilStopped(startApi(config, logger), logger, 'api');
