import type { Config, Logger } from '@vad/config';
import { migrateQueueSchema, type RunningWorker } from '@vad/queue';
import { startAggregateWorker } from './aggregate-role.js';
import { startEmbedWorker } from './embed-role.js';
import { startIngestWorker } from './ingest-role.js';
import { startScheduler } from './scheduler-role.js';
import type { RoleOptions } from './stage-worker.js';

/** The worker roles, in the order they start (and the reverse of how they stop). */
export const ROLES = ['ingest', 'embed', 'aggregate', 'scheduler'] as const;
export type RoleName = (typeof ROLES)[number];

const starters: Record<
  RoleName,
  (config: Config, logger: Logger, options: RoleOptions) => RunningWorker | Promise<RunningWorker>
> = {
  ingest: startIngestWorker,
  embed: startEmbedWorker,
  aggregate: startAggregateWorker,
  scheduler: (config, logger) => startScheduler(config, logger),
};

export function isRoleName(name: string): name is RoleName {
  return (ROLES as readonly string[]).includes(name);
}

/** Starts one role by name; what `vad workers --role` and each per-role app call. */
export function startRole(
  role: RoleName,
  config: Config,
  logger: Logger,
  options: RoleOptions = {},
): Promise<RunningWorker> {
  return Promise.resolve(starters[role](config, logger.child({ role }), options));
}

/**
 * Starts several roles in one process, closing them in reverse order. If one
 * fails to start, those already started are closed before the error is thrown.
 */
export async function startRoles(
  roles: readonly RoleName[],
  config: Config,
  logger: Logger,
  options: RoleOptions = {},
): Promise<RunningWorker> {
  const started: RunningWorker[] = [];
  // Every role is closed even when one fails to close; the failures are thrown together.
  const closeAll = async () => {
    const failures: unknown[] = [];
    for (const worker of [...started].reverse()) await worker.close().catch((error: unknown) => failures.push(error));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} roles failed to close`);
  };
  try {
    await migrateQueueSchema(config);
    for (const role of ROLES.filter((r) => roles.includes(r)))
      started.push(await startRole(role, config, logger, options));
  } catch (error) {
    await closeAll().catch(() => {});
    throw error;
  }
  return { close: closeAll };
}
