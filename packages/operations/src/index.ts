export {
  CALIBRATION_DAYS,
  type CalibrateOptions,
  type CalibrateResult,
  CalibrationError,
  CalibrationService,
  type CalibrationServiceDeps,
} from './calibration-service.js';
export {
  FolderWatcher,
  type FolderWatcherDeps,
  type FolderWatcherOptions,
  skipByName,
  type WatchEvent,
  type WatchSkipCause,
} from './folder-watcher.js';
export { type RetimeResult, retimeHeldJobs } from './held-jobs.js';
export {
  HISTORY_DAYS,
  type LearnOptions,
  type LearnResult,
  NormalMemoryError,
  NormalMemoryService,
  type NormalMemoryServiceDeps,
} from './normal-memory-service.js';
export { ConflictError, QueueControl, type QueueControlDeps } from './queue-control.js';
export {
  type Backlog,
  completedHistory,
  completedInWindow,
  drainModel,
  drainTime,
  forecastWindow,
  type HealthReport,
  type JobCounts,
  percentile,
  type QueueHealth,
  QueueMonitor,
  type QueueMonitorDeps,
  ratePerMinute,
  spanText,
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
