export {
  FolderWatcher,
  type FolderWatcherDeps,
  type FolderWatcherOptions,
  type WatchEvent,
} from './folder-watcher.js';
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
export { type ReconcileAction, type ReconcileReport, Reconciler, type ReconcilerDeps } from './reconciler.js';
export { type RetentionResult, RetentionService, type RetentionServiceDeps } from './retention-service.js';
export {
  QueueingError,
  SubmitError,
  type SubmitHooks,
  type SubmitInput,
  type SubmitResult,
  SubmitService,
  type SubmitServiceDeps,
} from './submit-service.js';
export { type VideoProgress, videoProgress } from './video-progress.js';
