export { DEFAULT_CAMERA_WEIGHT, fairPriority, MAX_PRIORITY, URGENT_PRIORITY } from './fair-priority.js';
export { cameraFromPath, compilePattern, recordedAtFromPath } from './path-patterns.js';
export {
  isTimeZone,
  ProcessingWindow,
  parseTimeOfDay,
  type TimeOfDay,
  type WindowSpan,
} from './processing-window.js';
