import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { startAggregateWorker } from './aggregate-worker.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'aggregate-worker');
stopOnSignals(startAggregateWorker(config, logger), logger);
