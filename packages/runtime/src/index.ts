export {
  type AggregateServiceHandle,
  createAggregateService,
  createCaptionService,
  startAggregateWorker,
} from './aggregate-role.js';
export { type EmbedWorker, startEmbedWorker } from './embed-role.js';
export { startIngestWorker } from './ingest-role.js';
export { configuredModel, pipelineConfigOf } from './model.js';
export { ProducerContext, type ProducerOptions } from './producer-context.js';
export { runRoleProcess } from './role-process.js';
export { isRoleName, ROLES, type RoleName, startRole, startRoles } from './roles.js';
export { startScheduler } from './scheduler-role.js';
export {
  createSearchContext,
  createSearchIndexService,
  type SearchContext,
  searchIndexRoot,
  searchSources,
} from './search-context.js';
export {
  EXIT_UNAVAILABLE,
  type ResolvedServices,
  type ResolveServicesOptions,
  resolveServices,
  type ServiceName,
  ServiceUnavailableError,
  startWithServices,
} from './services.js';
export type { RoleOptions } from './stage-worker.js';
export { sessionOptionsOf, TextEncoders } from './text-encoders.js';
