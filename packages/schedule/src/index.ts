export { DEFAULT_CAMERA_WEIGHT, fairPriority, MAX_PRIORITY, URGENT_PRIORITY } from './fair-priority.js';
export {
  DATE_TIME_EXAMPLE,
  dateTimeHint,
  dateTimeSchema,
  formatDateTime,
  parseDateTime,
  recentNights,
} from './local-time.js';
export { cameraFromPath, compilePattern, recordedAtFromPath } from './path-patterns.js';
export { type ProcessingGate, processingGate, processingWindow, type ScheduleSettings } from './processing-gate.js';
export {
  isTimeZone,
  ProcessingWindow,
  parseTimeOfDay,
  type TimeOfDay,
  type WindowSpan,
} from './processing-window.js';
