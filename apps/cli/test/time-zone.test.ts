import { pipelineConfigOf } from '@vad/runtime';
import { configToEnv, createTestEnvironment, seedScoredVideo, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';

/**
 * The time-zone rule in the CLI, VAD_TIMEZONE=America/New_York on a machine
 * in Asia/Tokyo: times typed without an offset are New York time, times are
 * printed in New York time with the offset, or in UTC with --utc.
 */
let env: TestEnvironment;
let videoId: string;

function vad(...args: string[]): Promise<CliRun> {
  return runCli(args, { ...configToEnv(env.config), VAD_LOG_LEVEL: 'warn', TZ: 'Asia/Tokyo' });
}

/** The start column of `vad events` as a table. */
const starts = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s+/)[0]);

async function seedVideo(recordedAt: Date, starts: string[]): Promise<string> {
  const { videoId } = await seedScoredVideo(env.db.repos, {
    camera: 'tz',
    pipelineConfig: pipelineConfigOf(env.config),
    durationMs: 12 * 3_600_000,
    recordedAt,
    events: starts.map((iso) => {
      const startAt = new Date(iso);
      const startMs = startAt.getTime() - recordedAt.getTime();
      return {
        startMs,
        endMs: startMs + 5_250,
        peakMs: startMs + 2_000,
        startAt,
        endAt: new Date(startAt.getTime() + 5_250),
        peakScore: 0.9,
        label: 'Fighting',
        thumbnailPath: null,
      };
    }),
  });
  return videoId;
}

beforeAll(async () => {
  env = await createTestEnvironment({ env: { VAD_TIMEZONE: 'America/New_York' }, tinyModel: false });
  videoId = await seedVideo(new Date('2026-11-29T20:00:00Z'), [
    '2026-11-30T02:00:00Z', // 2026-11-29 21:00 EST
    '2026-11-30T06:00:00Z', // 2026-11-30 01:00 EST
  ]);
  // 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST, so 01:00–01:59 happen twice.
  await seedVideo(new Date('2026-11-01T04:00:00Z'), [
    '2026-11-01T05:15:00Z', // 01:15 EDT (first)
    '2026-11-01T05:45:00Z', // 01:45 EDT (first)
    '2026-11-01T06:15:00Z', // 01:15 EST (second)
  ]);
});

afterAll(async () => {
  await env?.destroy();
});

describe('vad with VAD_TIMEZONE=America/New_York (machine in Asia/Tokyo)', () => {
  it('events --since without an offset means New York time; times print in New York time, or UTC with --utc', async () => {
    const [local, utc, offset] = await Promise.all([
      vad('events', '--camera', 'tz', '--since', '2026-11-30T00:00:00'),
      vad('events', '--camera', 'tz', '--since', '2026-11-30', '--utc'),
      vad('--utc', 'events', '--camera', 'tz', '--since', '2026-11-30T00:00:00Z'),
    ]);
    expect(local.stderr).toBe('');
    expect(starts(local.stdout)).toEqual(['2026-11-30T01:00:00-05:00']);
    expect(starts(utc.stdout)).toEqual(['2026-11-30T06:00:00Z']);
    // With an offset, as is: both of that night.
    expect(starts(offset.stdout)).toEqual(['2026-11-30T06:00:00Z', '2026-11-30T02:00:00Z']);
  });

  it('at the fall-back DST change, --since names the first 01:30; the output tells the two 01:15s apart', async () => {
    const result = await vad('events', '--camera', 'tz', '--since', '2026-11-01T01:30', '--until', '2026-11-02');
    expect(starts(result.stdout)).toEqual(['2026-11-01T01:15:00-05:00', '2026-11-01T01:45:00-04:00']);
  });

  it('events --format json and csv write times with the offset, to the millisecond', async () => {
    const [json, csv] = await Promise.all([
      vad('events', '--camera', 'tz', '--since', '2026-11-30T00:00', '--format', 'json'),
      vad('--utc', 'events', '--camera', 'tz', '--since', '2026-11-30T00:00', '--format', 'csv'),
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { startAt: '2026-11-30T01:00:00.000-05:00', endAt: '2026-11-30T01:00:05.250-05:00' },
    ]);
    expect(csv.stdout.split('\n')[1]).toContain(',2026-11-30T06:00:00.000Z,2026-11-30T06:00:05.250Z,');
  });

  it('status prints the recording time in New York time', async () => {
    const status = await vad('status', videoId);
    expect(status.stdout).toMatch(/recorded at\s+2026-11-29T15:00:00-05:00$/m);
  });

  it('refuses a malformed time, saying how one without an offset is read', async () => {
    const result = await vad('events', '--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'option --since: must be an ISO 8601 date-time, e.g. 2026-11-28T22:00:00+01:00 (without an offset: America/New_York time)',
    );
  });
});
