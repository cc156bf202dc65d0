import type { Config, Logger, ScoringMode } from '@vad/config';
import type { Camera, Repositories } from '@vad/db';
import { type Calibration, type CalibrationVideo, calibrateThreshold, overlapsAny } from '@vad/scoring';

/** Calibration was asked something it cannot do: nothing was stored. */
export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

export interface CalibrationServiceDeps {
  config: { scoring: Pick<Config['scoring'], 'mode' | 'minDurationMs' | 'mergeGapMs'> };
  repos: Pick<Repositories, 'cameras' | 'normalMemory'>;
  logger: Logger;
  now?: () => number;
}

export interface CalibrateOptions {
  /** False alarms per hour of the camera's footage the threshold may let through. */
  maxFalseAlarmsPerHour: number;
  /** Footage recorded in [since, until) (default: the last 7 days). */
  since?: Date | undefined;
  until?: Date | undefined;
  /** The scoring mode to calibrate (default: the camera's, else VAD_SCORING_MODE); it becomes the camera's. */
  mode?: ScoringMode | undefined;
  /** Work it out without storing it. */
  dryRun?: boolean | undefined;
}

export interface CalibrateResult extends Calibration {
  camera: string;
  mode: ScoringMode;
  videos: number;
  since: Date;
  until: Date | undefined;
  /** The camera's calibration before. */
  previous: { threshold: number | null; scoringMode: ScoringMode | null };
  stored: boolean;
}

const DAY_MS = 86_400_000;
/** The footage calibration reads when no `since` is given. */
export const CALIBRATION_DAYS = 7;

/**
 * Sets a camera's event threshold from its own recent scores: the lowest
 * threshold at which event extraction (VAD_EVENT_MIN_DURATION_MS,
 * VAD_EVENT_MERGE_GAP_MS) on the saved clip scores of its videos' current
 * runs in that mode gives at most the target number of events per hour of
 * footage. The footage is taken as normal (its events as false alarms),
 * except the spans operators confirmed as real (`true` reviews), whose clips
 * are left out. The threshold is stored on the camera with its mode: the
 * aggregate stage then scores the camera's videos in that mode with that
 * threshold (unless a rescore asks for others).
 */
export class CalibrationService {
  constructor(private readonly deps: CalibrationServiceDeps) {}

  async calibrate(cameraName: string, options: CalibrateOptions): Promise<CalibrateResult> {
    const { repos, config, logger } = this.deps;
    const camera = await repos.cameras.findByName(cameraName);
    if (!camera) throw new CalibrationError(`unknown camera ${cameraName}`);
    if (!(options.maxFalseAlarmsPerHour >= 0) || !Number.isFinite(options.maxFalseAlarmsPerHour))
      throw new CalibrationError('--max-false-alarms-per-hour must be a number, 0 or more');
    const mode = options.mode ?? camera.scoringMode ?? config.scoring.mode;
    const since = options.since ?? new Date((this.deps.now ?? Date.now)() - CALIBRATION_DAYS * DAY_MS);
    if (options.until && since >= options.until) throw new CalibrationError('--since must be before --until');
    const scored = await repos.normalMemory.recentClipScores(camera.id, { since, until: options.until, mode });
    if (!scored.length) {
      const any = await repos.normalMemory.recentClipScores(camera.id, { since, until: options.until });
      throw new CalibrationError(
        any.length
          ? `camera ${camera.name} has no videos scored in mode ${mode} since ${since.toISOString()} (${any.length} in ${[...new Set(any.map((v) => v.mode))].join(', ')}): rescore them in mode ${mode} first`
          : `camera ${camera.name} has no scored videos recorded since ${since.toISOString()}`,
      );
    }
    const confirmed = await repos.normalMemory.reviewSpans(
      camera.id,
      'true',
      scored.map((v) => v.videoId),
    );
    const videos: CalibrationVideo[] = scored.map((v) => {
      const real = confirmed.filter((s) => s.videoId === v.videoId);
      return {
        durationMs: v.durationMs ?? Math.max(0, ...v.clips.map((c) => c.endMs)),
        clips: v.clips.filter((c) => !overlapsAny(c, real)),
      };
    });
    let calibration: Calibration;
    try {
      calibration = calibrateThreshold(videos, {
        maxEventsPerHour: options.maxFalseAlarmsPerHour,
        minDurationMs: config.scoring.minDurationMs,
        mergeGapMs: config.scoring.mergeGapMs,
      });
    } catch (error) {
      throw new CalibrationError(`camera ${camera.name}: ${(error as Error).message}`);
    }
    const previous = { threshold: camera.threshold, scoringMode: camera.scoringMode };
    let stored = false;
    if (!options.dryRun) {
      const updated = await repos.cameras.setCalibration(camera.id, {
        threshold: calibration.threshold,
        scoringMode: mode,
      });
      if (!updated) throw new CalibrationError(`camera ${camera.name} went while it was calibrated`);
      stored = true;
      logger.info({ camera: camera.name, mode, ...calibration }, 'camera calibrated');
    }
    return {
      ...calibration,
      camera: camera.name,
      mode,
      videos: videos.length,
      since,
      until: options.until,
      previous,
      stored,
    };
  }

  /** Removes a camera's calibration: VAD_EVENT_THRESHOLD and VAD_SCORING_MODE apply to it again. */
  async reset(cameraName: string): Promise<Camera> {
    const camera = await this.deps.repos.cameras.findByName(cameraName);
    if (!camera) throw new CalibrationError(`unknown camera ${cameraName}`);
    const updated = await this.deps.repos.cameras.setCalibration(camera.id, { threshold: null, scoringMode: null });
    return updated ?? camera;
  }
}
