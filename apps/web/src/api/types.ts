/** The JSON the API answers with, as the review app reads it (see /docs for the full OpenAPI document). */

export type Scope = 'read' | 'admin';
export type Verdict = 'true' | 'false';
export type QueueName = 'ingest' | 'embed' | 'aggregate';

export interface Session {
  name: string;
  scope: Scope;
  csrfToken: string;
  expiresAt: string;
  /** VAD_TIMEZONE: the time zone the cameras' wall clocks read. */
  timeZone: string;
}

export interface ReviewSummary {
  verdict: Verdict;
  note: string | null;
  reviewedBy: string;
  reviewedAt: string;
}

export interface AnomalyEvent {
  id: number;
  videoId: string;
  scoringRunId: string;
  camera: string | null;
  startAt: string | null;
  endAt: string | null;
  startMs: number;
  endMs: number;
  peakMs: number;
  peakScore: number;
  label: string;
  thumbnailUrl: string | null;
  review: ReviewSummary | null;
  /** A browser-playable H.264 clip of the event with pre- and post-roll: the span of the video it covers. */
  clip: { url: string; fromMs: number; toMs: number };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type VideoStatus = string;

export interface Video {
  id: string;
  camera: string | null;
  status: VideoStatus;
  error: string | null;
  sourceUri: string;
  sha256: string;
  bytes: number;
  durationMs: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  codec: string | null;
  model: string;
  recordedAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  currentRunId: string | null;
  priority: number | null;
  urgent: boolean;
  /** Whether a browser plays the source itself; else only the events' clips play. */
  playable: boolean;
  sourceUrl: string | null;
}

export interface ScoringRun {
  id: string;
  model: string;
  promptSet: string;
  aggregator: string;
  params: Record<string, unknown>;
  createdAt: string;
  current: boolean;
}

export interface Clip {
  clipIndex: number;
  startMs: number;
  endMs: number;
  validFrames: number;
  anomalyScore: number;
  label: string;
  probabilities: Record<string, number>;
}

export interface Scores {
  videoId: string;
  run: ScoringRun;
  runs: Pick<ScoringRun, 'id' | 'promptSet' | 'aggregator' | 'createdAt' | 'current'>[];
  clips: Clip[];
  events: AnomalyEvent[];
}

export interface QueueHealth {
  name: QueueName;
  isPaused: boolean;
  counts: {
    waiting: number;
    prioritized: number;
    active: number;
    delayed: number;
    failed: number;
    completed: number;
    paused: number;
    waitingChildren: number;
  };
  oldestWaitingMs: number | null;
  throughputPerMinute: { m1: number; m5: number; m15: number };
  /** Jobs completed in each of the last 60 minutes, oldest first. */
  completedPerMinute: number[];
  processingMs: { samples: number; mean: number | null; p95: number | null };
  workers: number;
  failureReasons: { reason: string; count: number }[];
  held: { jobs: number; until: string | null };
}

export interface QueueReport {
  at: string;
  queues: QueueHealth[];
  backlog: {
    videos: number;
    videoSeconds: number;
    urgent: { videos: number; videoSeconds: number };
    videoSecondsPerSecond: number | null;
    perVideoSeconds: number;
    secondsPerVideoSecond: number | null;
    rateWindowMinutes: number;
    drainSeconds: number | null;
    drainAt: string | null;
  };
  forecast: {
    window: string | null;
    isOpen: boolean;
    opensAt: string | null;
    closesAt: string | null;
    held: { videos: number; videoSeconds: number; until: string } | null;
    urgentDoneAt: string | null;
    finishAt: string | null;
    finishesInWindow: boolean | null;
    warning: string | null;
  };
}

export interface Camera {
  name: string;
  weight: number;
  threshold: number | null;
  scoringMode: string | null;
  waiting: number;
  processing: number;
  done: number;
  failed: number;
}

/** Events per camera per night (a night runs from noon to noon in VAD_TIMEZONE, named by its evening's date). */
export interface CameraNights {
  timeZone: string;
  nights: string[];
  items: {
    camera: string;
    weight: number;
    /** One entry per name in `nights`, same order. */
    nights: { events: number; trueAlarms: number; falseAlarms: number }[];
    events: number;
    reviewed: number;
    falseAlarms: number;
    /** False alarms among reviewed events (null: none reviewed). */
    falseAlarmShare: number | null;
  }[];
}

export interface SubmitResult {
  videoId: string;
  created: boolean;
  status: VideoStatus;
  durationMs: number;
}

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}
