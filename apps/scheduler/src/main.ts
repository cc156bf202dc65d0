import { createLogger, loadConfigOrExit } from '@vad/config';
import { runUntilStopped } from '@vad/queue';
import { startScheduler } from './scheduler.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'scheduler');
runUntilStopped(startScheduler(config, logger), logger, 'scheduler');
