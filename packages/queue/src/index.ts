export { DelayedError, type Job, UnrecoverableError } from 'bullmq';
export { type ChildFailure, childFailures, failedForGood } from './child-failures.js';
export { type HoldMark, holdJob, holdMarkOf } from './held-jobs.js';
export {
  createMaintenanceQueue,
  createMaintenanceWorker,
  MAINTENANCE_JOBS,
  MAINTENANCE_QUEUE,
  type MaintenanceJobName,
  RECONCILE_SCHEDULER_ID,
  RETENTION_SCHEDULER_ID,
  SEARCH_INDEX_SCHEDULER_ID,
  scheduleReconcile,
  scheduleRetention,
  scheduleSearchIndex,
} from './maintenance.js';
export { jobIds, type ParsedJobId, parseChildKey, parseJobId, QUEUE_NAMES, type QueueName } from './names.js';
export {
  type AggregateJobData,
  aggregateJobSchema,
  type EmbedJobData,
  embedJobSchema,
  type IngestJobData,
  ingestJobSchema,
  type JobData,
  jobSchemas,
  parseJobData,
  type ScoringOverrides,
  scoringOverridesSchema,
} from './payloads.js';
export {
  type ConnectionRole,
  createQueueConnection,
  type DelayedEntry,
  migrateQueueSchema,
  PostgresQueueConnection,
  type QueueBackendName,
  type QueueConnection,
  type QueueConnectionSettings,
  queueConnectionOf,
  queueSchemaOf,
} from './queue-connection.js';
export {
  addEmbedJob,
  addVideoFlow,
  createQueues,
  defaultJobOptions,
  jobExists,
  type Queues,
  queuedSegmentFrames,
  removeVideoFlow,
  type VadQueue,
  type VideoFlowOptions,
} from './queues.js';
export { createWorker, type VadProcessor, type WorkerOptions, workerSettings } from './worker.js';
export { type RunningWorker, runUntilStopped, stopOnSignals } from './worker-process.js';
