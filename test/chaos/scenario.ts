import { join } from 'node:path';
import { jobIds, parseChildKey, type Queues } from '@vad/queue';
import type { ProducerContext } from '@vad/runtime';
import type { TestEnvironment } from '@vad/testing';
import { generateVideo, waitFor } from '@vad/testing';

export interface ScenarioResult {
  scenario: string;
  /** What the fault did, and for how long. */
  fault?: string;
  /** How to replay the fault's random draw, where it has one. */
  replay?: string;
  videos: number;
  /** Videos done without any manual action. */
  done: number;
  /** Videos with exactly one embedding row per decoded frame. */
  exactRows: number;
  /** Videos with exactly one scoring run, current. */
  oneRun: number;
  /** From the end of the disruption until every video was done (or the deadline); 0 when done before it ended. */
  recoveryS: number;
  /** From the start of the disruption until every video was done. */
  sinceFaultS?: number;
  logLines: number;
  errorLines: number;
  /** The distinct messages of the error lines (what an operator would read). */
  errorMessages: string[];
  /** Every log line of the workers during the scenario. */
  lines: string[];
  /** Where each unfinished video's jobs stood at the deadline (see `describeUnfinished`). */
  unfinished: string[];
  failures: string[];
}

/** Distinct generated recordings (a noise seed each, so none is a duplicate of another). */
export async function makeVideos(folder: string, count: number, durationS: number): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => join(folder, `cam-${i}.mp4`));
  await Promise.all(
    paths.map((path, i) =>
      generateVideo(path, {
        durationS,
        source: 'color=c=gray',
        filters: `noise=alls=12:allf=t:all_seed=${i + 1}`,
      }),
    ),
  );
  return paths;
}

export async function submitAll(producer: ProducerContext, paths: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const path of paths) ids.push((await producer.submit.submit({ path, camera: 'chaos' })).videoId);
  return ids;
}

/** Waits until every video is done or failed (or the deadline passes), then checks each one's rows. */
export async function settle(
  env: TestEnvironment,
  scenario: string,
  ids: string[],
  disruptionEnded: number,
  lines: () => string[],
  deadlineMs: number,
): Promise<ScenarioResult> {
  const repos = env.db.repos;
  await waitFor(
    `${scenario}: every video finished`,
    () => Promise.all(ids.map((id) => repos.videos.get(id))),
    (videos) => videos.every((v) => v?.status === 'done' || v?.status === 'failed'),
    deadlineMs,
    500,
  ).catch(() => undefined);
  const recoveryS = (Date.now() - disruptionEnded) / 1000;
  const result: ScenarioResult = {
    scenario,
    videos: ids.length,
    done: 0,
    exactRows: 0,
    oneRun: 0,
    recoveryS: Math.round(recoveryS * 10) / 10,
    logLines: 0,
    errorLines: 0,
    errorMessages: [],
    lines: [],
    unfinished: [],
    failures: [],
  };
  for (const id of ids) {
    const video = await repos.videos.get(id);
    if (video?.status === 'done') result.done += 1;
    else result.failures.push(`${id}: ${video?.status} ${video?.error ?? ''}`.trim());
    const { rows } = await env.db.pool.query<{ n: number; d: number; m: number | null }>(
      'select count(*)::int n, count(distinct frame_index)::int d, max(frame_index) m from frame_embeddings where video_id = $1',
      [id],
    );
    const frames = rows[0];
    if (video && frames && frames.n === frames.d && frames.n === video.framesDecoded && frames.m === frames.n - 1) {
      result.exactRows += 1;
    }
    const runs = await env.db.pool.query<{ n: number }>(
      'select count(*)::int n from scoring_runs where video_id = $1',
      [id],
    );
    if (runs.rows[0]?.n === 1 && video?.currentRunId) result.oneRun += 1;
  }
  const all = lines();
  result.lines = all;
  result.logLines = all.length;
  const errors = all.filter((line) => /"level":(50|60)/.test(line));
  result.errorLines = errors.length;
  result.errorMessages = [
    ...new Set(
      errors.map((line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
          return `${entry.msg ?? ''}: ${entry.err?.message ?? ''}`;
        } catch {
          return line.slice(0, 200);
        }
      }),
    ),
  ];
  return result;
}

export function renderResults(results: ScenarioResult[]): string {
  const rows = [
    '| scenario | fault | videos done | one row per frame | one current run | all done after the fault began · ended | log lines (errors) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const pct = (n: number) => `${n}/${r.videos} (${Math.round((n / r.videos) * 100)} %)`;
    rows.push(
      `| ${r.scenario} | ${r.fault ?? ''} | ${pct(r.done)} | ${pct(r.exactRows)} | ${pct(r.oneRun)} | ${r.sinceFaultS ?? '-'} s · ${r.recoveryS} s | ${r.logLines} (${r.errorLines}) |`,
    );
  }
  return rows.join('\n');
}

/**
 * Where an unfinished video's flow stands, for whoever reads a failed run:
 * its row, its aggregate job's state and children, and each child's state.
 */
export async function describeUnfinished(env: TestEnvironment, queues: Queues, ids: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const id of ids) {
    const video = await env.db.repos.videos.get(id);
    if (video?.status === 'done') continue;
    lines.push(
      `video ${id}: ${video?.status} frames ${video?.framesDecoded} segments ${video?.segmentsWritten} error ${video?.error ?? '-'}`,
    );
    const parent = await queues.aggregate.getJob(jobIds.aggregate(id));
    lines.push(
      `  aggregate: ${await queues.aggregate.getJobState(jobIds.aggregate(id))} ${parent?.failedReason ?? ''}`,
    );
    if (!parent) continue;
    const deps = await parent.getDependencies({ processed: {}, unprocessed: {}, failed: {}, ignored: {} });
    lines.push(
      `  children: processed ${Object.keys(deps.processed ?? {}).length}, unprocessed ${JSON.stringify(deps.unprocessed ?? [])}, failed ${JSON.stringify(deps.failed ?? [])}`,
    );
    for (const key of deps.unprocessed ?? []) {
      const child = parseChildKey(key);
      if (!child) {
        lines.push(`  ${key}: not a job vad made`);
        continue;
      }
      const { jobId } = child;
      const queue = child.job.kind === 'ingest' ? queues.ingest : queues.embed;
      const job = await queue.getJob(jobId);
      lines.push(
        `  ${queue.name} ${jobId}: ${await queue.getJobState(jobId)}, attempts ${job?.attemptsMade}/${job?.attemptsStarted}, stalled ${job?.stalledCounter}, progress ${JSON.stringify(job?.progress)}`,
      );
    }
  }
  return lines;
}
