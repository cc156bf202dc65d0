import { join } from 'node:path';
import { pipelineConfigOf } from '@vad/runtime';
import { createTestEnvironment, generateVideo, seedScoredVideo, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSettings, auth, openApi, type TestApi } from './support.js';

/**
 * The time-zone rule over HTTP: a date-time without an offset in a query or
 * body is wall-clock time in VAD_TIMEZONE (here America/New_York), never
 * UTC or the machine's zone; one with an offset is taken as is.
 */
let env: TestEnvironment;
let api: TestApi;

const get = async <T>(url: string) => {
  const response = await api.app.inject({ method: 'GET', url, headers: auth() });
  return { status: response.statusCode, body: response.json() as T };
};
type Events = { items: { startAt: string }[] };
const startsOf = async (query: string) => {
  const response = await get<Events>(`/v1/events?camera=tz&order=time&${query}`);
  expect(response.status, query).toBe(200);
  return response.body.items.map((e) => e.startAt).sort();
};

async function seedVideo(recordedAt: Date, starts: string[]) {
  await seedScoredVideo(env.db.repos, {
    camera: 'tz',
    pipelineConfig: pipelineConfigOf(env.config),
    durationMs: 12 * 3_600_000,
    recordedAt,
    events: starts.map((iso) => {
      const startAt = new Date(iso);
      const startMs = startAt.getTime() - recordedAt.getTime();
      return {
        startMs,
        endMs: startMs + 5_000,
        peakMs: startMs + 2_000,
        startAt,
        endAt: new Date(startAt.getTime() + 5_000),
        peakScore: 0.9,
        label: 'Fighting',
        thumbnailPath: null,
      };
    }),
  });
}

beforeAll(async () => {
  env = await createTestEnvironment({ env: { ...apiSettings(), VAD_TIMEZONE: 'America/New_York' } });
  api = await openApi(env.config, env.logger);
  // Two videos (a night each) whose events start at these instants.
  await seedVideo(new Date('2026-11-29T20:00:00Z'), [
    '2026-11-30T02:00:00.000Z', // 2026-11-29 21:00 EST
    '2026-11-30T03:00:00.000Z', // 2026-11-29 22:00 EST
    '2026-11-30T06:00:00.000Z', // 2026-11-30 01:00 EST
  ]);
  // 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST, so 01:00–01:59 happen twice.
  await seedVideo(new Date('2026-11-01T04:00:00Z'), [
    '2026-11-01T05:15:00.000Z', // 01:15 EDT (first)
    '2026-11-01T05:45:00.000Z', // 01:45 EDT (first)
    '2026-11-01T06:15:00.000Z', // 01:15 EST (second)
  ]);
});

afterAll(async () => {
  await api?.close();
  await env?.destroy();
});

describe('VAD_TIMEZONE=America/New_York', () => {
  it('reads an offset-less since as New York time, not UTC', async () => {
    // Midnight in New York is 05:00Z: only the 06:00Z event of that night (UTC midnight would give all three).
    expect(await startsOf('since=2026-11-30T00:00:00')).toEqual(['2026-11-30T06:00:00.000Z']);
    // A plain date is midnight in the zone.
    expect(await startsOf('since=2026-11-30')).toEqual(['2026-11-30T06:00:00.000Z']);
    // until too: before 22:00 New York time.
    expect(await startsOf('since=2026-11-29T12:00&until=2026-11-29T22:00')).toEqual(['2026-11-30T02:00:00.000Z']);
  });

  it('takes a since with an offset as is', async () => {
    expect(await startsOf('since=2026-11-30T00:00:00Z')).toEqual([
      '2026-11-30T02:00:00.000Z',
      '2026-11-30T03:00:00.000Z',
      '2026-11-30T06:00:00.000Z',
    ]);
    expect(await startsOf(`since=${encodeURIComponent('2026-11-29T22:00:00-05:00')}`)).toEqual([
      '2026-11-30T03:00:00.000Z',
      '2026-11-30T06:00:00.000Z',
    ]);
  });

  it('at the fall-back DST change, an hour that happens twice means its first occurrence', async () => {
    // 01:30 New York time on 2026-11-01 is first 05:30Z (EDT), later 06:30Z (EST): since means the first.
    expect(await startsOf('since=2026-11-01T01:30&until=2026-11-02')).toEqual([
      '2026-11-01T05:45:00.000Z',
      '2026-11-01T06:15:00.000Z',
    ]);
    // The offset picks the second.
    expect(await startsOf(`since=${encodeURIComponent('2026-11-01T01:30-05:00')}&until=2026-11-02`)).toEqual([]);
  });

  it('refuses a malformed since, saying how times without an offset are read', async () => {
    const response = await get<{ field: string; message: string }>('/v1/events?since=yesterday');
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('querystring.since');
    expect(response.body.message).toContain('without an offset: America/New_York time');
    // The 1970..9999 bounds hold for offset-less values too (9999-12-31T23:00 in New York is in year 10000 UTC).
    expect((await get('/v1/events?until=9999-12-31T23:00:00')).status).toBe(400);
    expect((await get('/v1/events?since=1970-01-01T00:00:00')).status).toBe(200); // 05:00Z
  });

  it('reads /v1/videos?since and a registered recordedAt without an offset in New York time', async () => {
    await generateVideo(join(env.config.storage.root, 'july.mp4'), { durationS: 2, source: 'color=c=gray' });
    const registered = await api.app.inject({
      method: 'POST',
      url: '/v1/videos',
      headers: auth(),
      payload: { uri: 'july.mp4', camera: 'tz-upload', recordedAt: '2026-07-04T09:00' },
    });
    expect(registered.statusCode).toBe(201);
    const { videoId } = registered.json() as { videoId: string };
    const video = await get<{ recordedAt: string }>(`/v1/videos/${videoId}`);
    expect(video.body.recordedAt).toBe('2026-07-04T13:00:00.000Z'); // 09:00 EDT
    const ids = async (since: string) =>
      (await get<{ items: { id: string }[] }>(`/v1/videos?camera=tz-upload&since=${since}`)).body.items.map(
        (v) => v.id,
      );
    expect(await ids('2026-07-04T09:00')).toEqual([videoId]);
    expect(await ids('2026-07-04T09:00:01')).toEqual([]); // in UTC this would be hours before the recording
  });

  it('says the rule in the OpenAPI document', async () => {
    const docs = await get<{
      paths: Record<string, Record<string, { parameters?: { name: string; description?: string }[] }>>;
    }>('/docs/json');
    const since = docs.body.paths['/v1/events']?.get?.parameters?.find((p) => p.name === 'since');
    expect(since?.description).toContain(
      "without an offset (2026-11-28T22:00, or a date 2026-11-28 for midnight) it is wall-clock time in the API's VAD_TIMEZONE",
    );
  });
});
