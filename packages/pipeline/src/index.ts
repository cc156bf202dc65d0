export {
  type AggregateResult,
  AggregateService,
  type AggregateServiceDeps,
  loadPromptSet,
  type PromptEncoder,
  type SequenceHead,
} from './aggregate-service.js';
export { type EmbedResult, EmbedService, type EmbedServiceDeps, type FrameEmbedder } from './embed-service.js';
export {
  FolderWatcher,
  type FolderWatcherDeps,
  type FolderWatcherOptions,
  type WatchEvent,
} from './folder-watcher.js';
export { sha256File } from './hash-file.js';
export { type IngestResult, IngestService, type IngestServiceDeps } from './ingest-service.js';
export { isFinalAttempt, type JobContext } from './job-context.js';
export { createJobProcessor, type JobHandler } from './job-processor.js';
export { type ProcessingGate, processingGate, processingWindow } from './processing-gate.js';
export { ConflictError, QueueControl, type QueueControlDeps } from './queue-control.js';
export {
  type Backlog,
  completedHistory,
  completedInWindow,
  forecastWindow,
  type HealthReport,
  type JobCounts,
  percentile,
  type QueueHealth,
  QueueMonitor,
  type QueueMonitorDeps,
  ratePerMinute,
  topFailureReasons,
  type WindowForecast,
} from './queue-monitor.js';
export { type RetentionResult, RetentionService, type RetentionServiceDeps } from './retention-service.js';
export {
  SubmitError,
  type SubmitHooks,
  type SubmitInput,
  type SubmitResult,
  SubmitService,
  type SubmitServiceDeps,
} from './submit-service.js';
export { type VideoProgress, videoProgress } from './video-progress.js';
