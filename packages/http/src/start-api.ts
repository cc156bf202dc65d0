import type { Config, Logger } from '@vad/config';
import { migrateDatabase } from '@vad/db';
import { migrateQueueSchema } from '@vad/queue';
import type { FastifyInstance } from 'fastify';
import { type ApiContext, createApiContext } from './api-context.js';
import { buildApp } from './app.js';

export interface RunningApi {
  app: FastifyInstance;
  context: ApiContext;
  /** The address it listens on, e.g. http://127.0.0.1:3000. */
  url: string;
  close(): Promise<void>;
}

/** Builds the API and listens on the configured host and port. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  // The API is the front door: it brings the schema up to date (under an advisory lock, safe with replicas).
  await migrateDatabase(config.database.url);
  await migrateQueueSchema(config);
  const context = createApiContext(config, logger);
  const app = await buildApp(context);
  const url = await app.listen({ host: config.api.host, port: config.api.port });
  if (config.api.tokens.length === 0) {
    logger.warn(
      'VAD_API_TOKENS is empty: every request but /healthz and /readyz is refused; create a token with `vad tokens create`',
    );
  }
  logger.info({ url, docs: `${url}/docs`, board: `${url}/admin/queues` }, 'api listening');
  return {
    app,
    context,
    url,
    async close() {
      await app.close();
      await context.close();
      logger.info('api stopped');
    },
  };
}
