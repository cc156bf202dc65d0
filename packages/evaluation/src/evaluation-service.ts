import { basename } from 'node:path';
import type { EvaluationRepository, EvaluationRunRow, EvaluationVideoRow, Repositories } from '@vad/db';
import { extractEvents } from '@vad/scoring';
import {
  type ClipSeries,
  frameCountOf,
  frameRuns,
  groundTruthFrames,
  groundTruthSpans,
  SampleBuffer,
} from './frame-scores.js';
import {
  type GroundTruth,
  GroundTruthError,
  type GroundTruthVideo,
  mergeVideos,
  NORMAL,
  videoNameKeys,
} from './ground-truth.js';
import {
  averagePrecision,
  binaryCurve,
  type CurvePoints,
  falseAlarmsPerHour,
  matchEvents,
  prAucTrapezoid,
  prCurve,
  precisionRecall,
  rocAuc,
  rocCurve,
  type ScoredSpan,
  shareAtOrAbove,
} from './metrics.js';

/** The evaluation cannot run on this input: each problem names the annotation line or the video. */
export class EvaluationInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? (problems[0] as string) : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.name = 'EvaluationInputError';
  }
}

/** The first `max` items and how many more. */
export function listSome(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** `current` evaluates each video's current scoring run; anything else is a scoring config hash. */
export const CURRENT = 'current';

export interface EvaluationOptions {
  groundTruth: GroundTruth;
  /** Only this camera's videos are matched. */
  camera?: string | undefined;
  /** Which runs: `current` and/or scoring config hashes; several are compared side by side. Default: current. */
  runs?: readonly string[] | undefined;
  /** Score at or above which a frame is alarmed (false-alarm rate) and events are cut. */
  threshold: number;
  /** Leave out annotated names that match no video, and matched videos without the run asked for, instead of failing. */
  allowMissing?: boolean | undefined;
  /** Event settings used to cut events at `threshold` when a run's own params lack them. */
  eventDefaults: { minDurationMs: number; mergeGapMs: number };
}

export interface EventMetrics {
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
  /** Predicted events (all videos) and ground-truth events (merged intervals of anomalous videos). */
  predicted: number;
  actual: number;
  /** Predicted events on normal videos: each is a false alarm. */
  onNormalVideos: number;
}

export interface Metrics {
  /** Frame-level ROC-AUC over every frame of every video. */
  auc: number;
  /** Average precision (sklearn average_precision_score), over every frame. */
  ap: number;
  /** Area under the PR curve by trapezoids, as XD-Violence's own code reports "AP". */
  prAuc: number;
  /** ROC-AUC over the frames of anomalous videos only. */
  aucAnomalous: number;
  /** Share of normal videos' frames scored at or above the threshold. */
  falseAlarmRate: number;
  /** Predicted events on normal videos per hour of normal footage. */
  falseAlarmsPerHour: number;
  events: EventMetrics;
}

export interface ClassMetrics {
  class: string;
  /** Videos of this class (normal videos are added to each class's frames). */
  videos: number;
  auc: number;
  ap: number;
}

export interface RunReport {
  /** `current` or the config hash asked for. */
  runs: string;
  /** For tables, legends: `current` (with its config hash when all videos share one) or the hash. */
  label: string;
  /** The scoring config hashes of the runs evaluated. */
  configHashes: string[];
  counts: {
    videos: number;
    normalVideos: number;
    anomalousVideos: number;
    frames: number;
    anomalousFrames: number;
    hours: number;
    normalHours: number;
    clips: number;
  };
  metrics: Metrics;
  perClass: ClassMetrics[];
  /** Where events came from: stored (the run's threshold is the one asked for) or re-cut from clip scores. */
  eventsFrom: { stored: number; recomputed: number };
  curves: { roc: CurvePoints; pr: CurvePoints };
}

export interface EvaluationReport {
  threshold: number;
  camera: string | null;
  annotations: {
    entries: number;
    matched: number;
    /** Annotated names left out (allowMissing): no video matched. */
    unmatched: string[];
    /** Matched videos left out (allowMissing): no scoring run of a selection. */
    withoutRun: string[];
  };
  runs: RunReport[];
}

interface Matched {
  video: EvaluationVideoRow;
  truth: GroundTruthVideo;
  /** The video's file name, for messages. */
  name: string;
}

export interface EvaluationServiceDeps {
  repos: Pick<Repositories, 'evaluation'>;
}

/**
 * `vad eval`: matches annotated videos to stored ones by file name, reads
 * the scoring run to evaluate of each (current, or of a config hash) with
 * its clip scores and events in one read-only snapshot, and computes the
 * frame-level and event-level metrics. Bad input (names matching no or
 * several videos, videos without the run, annotations that cannot apply)
 * is reported all at once before anything is computed; nothing is written.
 */
export class EvaluationService {
  constructor(private readonly deps: EvaluationServiceDeps) {}

  async evaluate(options: EvaluationOptions): Promise<EvaluationReport> {
    const selections = [...new Set(options.runs?.length ? options.runs : [CURRENT])];
    return this.deps.repos.evaluation.snapshot(async (reader) => {
      const { matched, unmatched } = await this.match(reader, options);
      const runsBySelection = new Map<string, Map<string, EvaluationRunRow>>();
      const withoutRun = new Map<string, string>();
      for (const selection of selections) {
        const rows = await reader.runsOf(
          matched.map((m) => m.video.id),
          selection === CURRENT ? undefined : selection,
        );
        const byVideo = new Map(rows.map((r) => [r.videoId, r]));
        runsBySelection.set(selection, byVideo);
        for (const m of matched) {
          if (!byVideo.has(m.video.id) && !withoutRun.has(m.video.id)) {
            const what = selection === CURRENT ? 'no scoring run' : `no scoring run of config ${selection}`;
            withoutRun.set(m.video.id, `${m.name} (video ${m.video.id}, ${m.video.status}): ${what}`);
          }
        }
      }
      if (withoutRun.size && !options.allowMissing) {
        throw new EvaluationInputError([
          `${withoutRun.size} annotated video(s) have no scoring run to evaluate (still processing, failed, or ` +
            `never scored with that config; allowMissing / --allow-missing leaves them out): ${listSome([...withoutRun.values()])}`,
        ]);
      }
      const evaluated = matched.filter((m) => !withoutRun.has(m.video.id));
      if (!evaluated.length) throw new EvaluationInputError(['no annotated video has a scoring run to evaluate']);

      const runIds = [
        ...new Set(selections.flatMap((s) => evaluated.map((m) => runsBySelection.get(s)?.get(m.video.id)?.id ?? ''))),
      ];
      const clips = new Map((await reader.clipSeries(runIds)).map((c) => [c.runId, c]));
      const events = new Map<string, ScoredSpan[]>();
      for (const e of await reader.eventSpans(runIds)) {
        const list = events.get(e.runId) ?? [];
        list.push({ startMs: e.startMs, endMs: e.endMs, score: e.peakScore });
        events.set(e.runId, list);
      }
      const noClips = runIds.filter((id) => !clips.get(id)?.scores.length);
      if (noClips.length) {
        const names = evaluated
          .filter((m) => selections.some((s) => noClips.includes(runsBySelection.get(s)?.get(m.video.id)?.id ?? '')))
          .map((m) => `${m.name} (video ${m.video.id})`);
        throw new EvaluationInputError([`scoring runs without clip scores: ${listSome(names)}`]);
      }

      const runs = selections.map((selection) =>
        this.evaluateRuns(selection, evaluated, runsBySelection.get(selection) ?? new Map(), clips, events, options),
      );
      return {
        threshold: options.threshold,
        camera: options.camera ?? null,
        annotations: {
          entries: options.groundTruth.videos.size,
          matched: evaluated.length,
          unmatched,
          withoutRun: [...withoutRun.values()],
        },
        runs,
      };
    });
  }

  /** Annotated videos matched to stored ones; every problem found is thrown together. */
  private async match(
    reader: EvaluationRepository,
    options: EvaluationOptions,
  ): Promise<{ matched: Matched[]; unmatched: string[] }> {
    const problems: string[] = [];
    if (options.camera && !(await reader.cameraExists(options.camera))) {
      throw new EvaluationInputError([`no camera named ${options.camera}`]);
    }
    const videos = await reader.listVideos(options.camera);
    const byKey = new Map<string, EvaluationVideoRow[]>();
    for (const video of videos) {
      for (const key of videoNameKeys(video.sourceUri)) {
        const list = byKey.get(key) ?? [];
        list.push(video);
        byKey.set(key, list);
      }
    }
    const entriesByVideo = new Map<string, { video: EvaluationVideoRow; entries: GroundTruthVideo[] }>();
    const unmatched: string[] = [];
    for (const entry of options.groundTruth.videos.values()) {
      const candidates = byKey.get(entry.name.toLowerCase()) ?? [];
      if (candidates.length === 0) unmatched.push(`${entry.name} (${entry.sources[0]})`);
      else if (candidates.length > 1) {
        problems.push(
          `${entry.sources[0]}: ${entry.name} matches ${candidates.length} videos: ` +
            `${listSome(candidates.map((v) => `${v.id} (${v.sourceUri}${v.camera ? `, camera ${v.camera}` : ''})`))}` +
            `${options.camera ? '' : '; choose one with a camera'}`,
        );
      } else {
        const video = candidates[0] as EvaluationVideoRow;
        const slot = entriesByVideo.get(video.id) ?? { video, entries: [] };
        slot.entries.push(entry);
        entriesByVideo.set(video.id, slot);
      }
    }
    if (unmatched.length && !options.allowMissing) {
      problems.push(
        `${unmatched.length} annotated name(s) match no video${options.camera ? ` of camera ${options.camera}` : ''} ` +
          `(allowMissing / --allow-missing leaves them out): ${listSome(unmatched)}`,
      );
    }
    const matched: Matched[] = [];
    for (const { video, entries } of entriesByVideo.values()) {
      const name = basename(video.sourceUri.replace(/\\/g, '/'));
      let truth: GroundTruthVideo;
      try {
        truth = entries.slice(1).reduce(mergeVideos, entries[0] as GroundTruthVideo);
      } catch (error) {
        if (!(error instanceof GroundTruthError)) throw error;
        problems.push(`${error.message}; both match ${video.sourceUri}`);
        continue;
      }
      if (truth.label !== NORMAL && !truth.intervals.length) {
        problems.push(
          `${truth.sources.join(', ')}: ${truth.name} is of class ${truth.label} but no line gives its anomalous frames`,
        );
      }
      if (!(video.fps && video.fps > 0) || !(video.durationMs && video.durationMs > 0)) {
        problems.push(`${name} (video ${video.id}, ${video.status}): no frame rate or duration stored`);
      }
      matched.push({ video, truth, name });
    }
    if (!matched.length && !problems.length) {
      problems.push(`no annotated video matches a video${options.camera ? ` of camera ${options.camera}` : ''}`);
    }
    if (problems.length) throw new EvaluationInputError(problems);
    matched.sort((a, b) => a.name.localeCompare(b.name) || a.video.id.localeCompare(b.video.id));
    return { matched, unmatched };
  }

  private evaluateRuns(
    selection: string,
    matched: readonly Matched[],
    runs: ReadonlyMap<string, EvaluationRunRow>,
    clips: ReadonlyMap<string, ClipSeries>,
    events: ReadonlyMap<string, ScoredSpan[]>,
    options: EvaluationOptions,
  ): RunReport {
    const buffer = new SampleBuffer();
    const parts: { from: number; to: number; normal: boolean; classes: string[] }[] = [];
    const eventTotals = { truePositives: 0, predicted: 0, actual: 0, onNormalVideos: 0 };
    const eventsFrom = { stored: 0, recomputed: 0 };
    const counts = { videos: 0, normalVideos: 0, anomalousVideos: 0, frames: 0, clips: 0 };
    let totalMs = 0;
    let normalMs = 0;
    const hashes = new Set<string>();
    for (const { video, truth } of matched) {
      const run = runs.get(video.id) as EvaluationRunRow;
      const series = clips.get(run.id) as ClipSeries;
      const fps = video.fps as number;
      const durationMs = video.durationMs as number;
      const normal = truth.label === NORMAL;
      hashes.add(run.configHash);
      const frameCount = frameCountOf(durationMs, fps);
      const from = buffer.length;
      frameRuns(series, groundTruthFrames(truth.intervals, fps, frameCount), fps, frameCount, buffer);
      parts.push({ from, to: buffer.length, normal, classes: truth.classes });
      counts.videos++;
      counts[normal ? 'normalVideos' : 'anomalousVideos']++;
      counts.frames += frameCount;
      counts.clips += series.scores.length;
      totalMs += durationMs;
      if (normal) normalMs += durationMs;

      const predicted = this.eventsAt(run, series, events.get(run.id) ?? [], options, eventsFrom);
      const truthSpans = groundTruthSpans(truth.intervals, fps, durationMs);
      eventTotals.truePositives += matchEvents(predicted, truthSpans, 0.5);
      eventTotals.predicted += predicted.length;
      eventTotals.actual += truthSpans.length;
      if (normal) eventTotals.onNormalVideos += predicted.length;
    }

    const all = buffer.all();
    const curve = binaryCurve(all.scores, all.labels, all.weights);
    const subset = (keep: (p: (typeof parts)[number]) => boolean) => buffer.select(parts.filter(keep));
    const anomalous = subset((p) => !p.normal);
    const normalFrames = subset((p) => p.normal);
    const classes = [...new Set(parts.flatMap((p) => p.classes))].sort();
    const perClass = classes.map((name) => {
      const samples = subset((p) => p.normal || p.classes.includes(name));
      const classCurve = binaryCurve(samples.scores, samples.labels, samples.weights);
      return {
        class: name,
        videos: parts.filter((p) => p.classes.includes(name)).length,
        auc: rocAuc(classCurve),
        ap: averagePrecision(classCurve),
      };
    });
    const only = hashes.size === 1 ? [...hashes][0] : undefined;
    return {
      runs: selection,
      label: selection === CURRENT ? (only ? `current (${only})` : CURRENT) : selection,
      configHashes: [...hashes].sort(),
      counts: {
        ...counts,
        anomalousFrames: curve.positives,
        hours: totalMs / 3_600_000,
        normalHours: normalMs / 3_600_000,
      },
      metrics: {
        auc: rocAuc(curve),
        ap: averagePrecision(curve),
        prAuc: prAucTrapezoid(curve),
        aucAnomalous: rocAuc(anomalous.scores, anomalous.labels, anomalous.weights),
        falseAlarmRate: shareAtOrAbove(normalFrames.scores, normalFrames.weights, options.threshold),
        falseAlarmsPerHour: falseAlarmsPerHour(eventTotals.onNormalVideos, normalMs),
        events: {
          ...precisionRecall(eventTotals.truePositives, eventTotals.predicted, eventTotals.actual),
          ...eventTotals,
        },
      },
      perClass,
      eventsFrom,
      curves: { roc: rocCurve(curve), pr: prCurve(curve) },
    };
  }

  /**
   * The run's events at the threshold asked for: its stored ones when the
   * run was cut at that threshold, else cut again from its (smoothed) clip
   * scores with the run's minimum duration and merge gap, as the aggregator
   * does. Re-cut events keep clip bounds (the aggregator tightens its
   * events with per-frame scores, which need the embeddings).
   */
  private eventsAt(
    run: EvaluationRunRow,
    series: ClipSeries,
    stored: ScoredSpan[],
    options: EvaluationOptions,
    from: { stored: number; recomputed: number },
  ): ScoredSpan[] {
    const params = run.params;
    const number = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
    if (typeof params.threshold === 'number' && Math.abs(params.threshold - options.threshold) < 1e-9) {
      from.stored++;
      return stored;
    }
    from.recomputed++;
    const timed = Array.from({ length: series.scores.length }, (_, c) => ({
      startMs: series.startMs[c] as number,
      endMs: series.endMs[c] as number,
      score: series.scores[c] as number,
      label: '',
    }));
    return extractEvents(timed, {
      threshold: options.threshold,
      minDurationMs: number(params.minDurationMs, options.eventDefaults.minDurationMs),
      mergeGapMs: number(params.mergeGapMs, options.eventDefaults.mergeGapMs),
    }).map((e) => ({ startMs: e.startMs, endMs: e.endMs, score: e.peakScore }));
  }
}
