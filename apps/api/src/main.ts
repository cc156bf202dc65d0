import { createLogger, loadConfigOrExit } from '@vad/config';
import { startApi } from '@vad/http';
import { runUntilStopped } from '@vad/queue';

const config = loadConfigOrExit();
const logger = createLogger(config, 'api');
runUntilStopped(startApi(config, logger), logger, 'api');
