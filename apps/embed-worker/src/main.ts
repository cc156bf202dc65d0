import { ModelNotInstalledError } from '@vad/clip';
import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { startEmbedWorker } from './embed-worker.js';

const config = loadConfigOrExit();
const logger = createLogger(config, 'embed-worker');
try {
  stopOnSignals(await startEmbedWorker(config, logger), logger);
} catch (error) {
  if (error instanceof ModelNotInstalledError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
