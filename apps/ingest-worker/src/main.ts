import { createLogger, loadConfigOrExit } from '@vad/config';
import { startIngestWorker } from './ingest-worker.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'ingest-worker');
const worker = startIngestWorker(config, logger);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
