import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { startIngestWorker } from './ingest-worker.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'ingest-worker');
stopOnSignals(startIngestWorker(config, logger), logger);
