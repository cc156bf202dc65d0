import { watch } from 'node:fs';
import { mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventInput } from '@vad/db';
import { pipelineConfigOf } from '@vad/runtime';
import { EventClipStore } from '@vad/storage';
import {
  createTestEnvironment,
  generateVideo,
  generateVideoWithExtension,
  seedScoredVideo,
  type TestEnvironment,
  writeTextAsVideo,
} from '@vad/testing';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absolutePathsIn, apiSettings, auth, openApi, reader, type TestApi } from './support.js';

/**
 * Watching events in a browser: GET /v1/events/{id}/clip (an H.264 MP4 made
 * on first request from any source, cached, with Range support) and
 * GET /v1/videos/{id}/source (the source itself, only where a browser plays it).
 */
let env: TestEnvironment;
let api: TestApi;
let clips: EventClipStore;

interface Seeded {
  videoId: string;
  runId: string;
  eventIds: number[];
  source: string;
}
/** H.264 in Matroska (no browser plays .mkv everywhere), 20 s: two events. */
let mkv: Seeded;
/** H.264 in MP4, probed: browser-playable. */
let mp4: Seeded;
/** A text file under a video's name. */
let corrupt: Seeded;
/** A source that is not there (removed by retention). */
let gone: Seeded;

const event = (startMs: number, endMs: number): EventInput => ({
  startMs,
  endMs,
  peakMs: startMs,
  startAt: null,
  endAt: null,
  peakScore: 0.9,
  label: 'Fighting',
  thumbnailPath: null,
});

async function seed(camera: string, source: string, events: EventInput[], durationMs = 20_000): Promise<Seeded> {
  const { videoId, runId } = await seedScoredVideo(env.db.repos, {
    camera,
    pipelineConfig: pipelineConfigOf(env.config),
    durationMs,
    sourceUri: source,
    events,
  });
  const eventIds = (await env.db.repos.scoring.eventsOf(runId)).map((e) => e.id).sort((a, b) => a - b);
  return { videoId, runId, eventIds, source };
}

const get = (url: string, headers: Record<string, string> = {}, token = reader.token) =>
  api.app.inject({ method: 'GET', url, headers: { ...auth(token), ...headers } });

const clipOf = (s: Seeded, n = 0) => clips.absolutePath(s.videoId, s.runId, s.eventIds[n] ?? 0);
const size = async (path: string) => (await stat(path)).size;
const message = (response: LightMyRequestResponse) => (response.json() as { message: string }).message;

beforeAll(async () => {
  env = await createTestEnvironment({ env: apiSettings() });
  api = await openApi(env.config, env.logger);
  clips = new EventClipStore(env.config.storage.root);
  const media = join(env.config.storage.root, 'uploads', 'media');
  const mkvPath = await generateVideoWithExtension(media, '.mkv', { durationS: 20, width: 854, height: 480 });
  mkv = await seed('gate', mkvPath, [event(2_000, 4_000), event(10_000, 18_500)]);
  const mp4Path = await generateVideo(join(media, 'yard.mp4'), { durationS: 6, faststart: true });
  mp4 = await seed('yard', mp4Path, [event(1_000, 2_000)], 6_000);
  await env.db.repos.videos.saveProbe(mp4.videoId, {
    durationMs: 6_000,
    fps: 25,
    width: 320,
    height: 240,
    codec: 'h264',
  });
  await env.db.repos.videos.saveProbe(mkv.videoId, {
    durationMs: 20_000,
    fps: 25,
    width: 854,
    height: 480,
    codec: 'h264',
  });
  corrupt = await seed('shed', await writeTextAsVideo(join(media, 'notes.mp4')), [event(0, 1_000)]);
  gone = await seed('roof', join(media, 'removed.mp4'), [event(0, 1_000)]);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await env?.destroy();
});

describe('GET /v1/events/{id}/clip', () => {
  it('makes the clip on first request: an MP4 with ranges, the span it covers, cacheable; read scope is enough', async () => {
    const response = await get(`/v1/events/${mkv.eventIds[0]}/clip`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['cache-control']).toBe('private, max-age=86400');
    // 5 s before the event's start (clamped at 0), 3 s after its end.
    expect(response.headers['x-clip-from-ms']).toBe('0');
    expect(response.headers['x-clip-to-ms']).toBe('7000');
    const bytes = await size(clipOf(mkv));
    expect(Number(response.headers['content-length'])).toBe(bytes);
    expect(response.rawPayload.length).toBe(bytes);
    expect(response.rawPayload.toString('latin1', 4, 8)).toBe('ftyp');

    // The span is clamped to the video's end: 10–18.5 s of a 20 s video covers 5–20 s.
    const late = await get(`/v1/events/${mkv.eventIds[1]}/clip`, { range: 'bytes=0-0' });
    expect(late.statusCode).toBe(206);
    expect([late.headers['x-clip-from-ms'], late.headers['x-clip-to-ms']]).toEqual(['5000', '20000']);
  });

  it('answers ranges: 206 for a range and a suffix, 416 with the size when unsatisfiable', async () => {
    const url = `/v1/events/${mkv.eventIds[0]}/clip`;
    const bytes = await size(clipOf(mkv));
    const first = await get(url, { range: 'bytes=0-99' });
    expect(first.statusCode).toBe(206);
    expect(first.rawPayload.length).toBe(100);
    expect(first.headers['content-length']).toBe('100');
    expect(first.headers['content-range']).toBe(`bytes 0-99/${bytes}`);
    expect(first.headers['x-clip-from-ms']).toBe('0');

    const open = await get(url, { range: `bytes=${bytes - 10}-` });
    expect(open.statusCode).toBe(206);
    expect(open.rawPayload.length).toBe(10);

    const suffix = await get(url, { range: 'bytes=-500' });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.rawPayload.length).toBe(500);
    expect(suffix.headers['content-range']).toBe(`bytes ${bytes - 500}-${bytes - 1}/${bytes}`);

    const beyond = await get(url, { range: `bytes=${bytes}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${bytes}`);
    expect(beyond.headers['cache-control']).toBeUndefined();
    expect(beyond.json()).toMatchObject({ statusCode: 416, error: 'Range Not Satisfiable', field: 'headers.range' });
  });

  it('serves the cached clip afterwards (not made again), 304 for its ETag', async () => {
    const path = clipOf(mkv);
    const before = await stat(path);
    const again = await get(`/v1/events/${mkv.eventIds[0]}/clip`);
    expect(again.statusCode).toBe(200);
    const after = await stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    const etag = String(again.headers.etag);
    expect(etag).toBeTruthy();
    expect((await get(`/v1/events/${mkv.eventIds[0]}/clip`, { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('makes a clip once for concurrent first requests', async () => {
    const folder = join(env.config.storage.root, 'clips', mp4.videoId, mp4.runId);
    await mkdir(folder, { recursive: true });
    const parts = new Set<string>();
    const watcher = watch(folder, (_kind, name) => {
      if (name?.endsWith('.part')) parts.add(name);
    });
    try {
      const url = `/v1/events/${mp4.eventIds[0]}/clip`;
      const answers = await Promise.all([get(url), get(url), get(url, { range: 'bytes=0-9' }), get(url)]);
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 206, 200]);
      expect(new Set(answers.filter((a) => a.statusCode === 200).map((a) => a.body)).size).toBe(1);
    } finally {
      watcher.close();
    }
    expect(parts.size).toBe(1);
    expect((await get(`/v1/events/${mp4.eventIds[0]}/clip`)).headers['x-clip-to-ms']).toBe('5000');
  });

  it('404 for an unknown event or a source gone from storage, 401 without a token', async () => {
    const unknown = await get('/v1/events/987654321/clip');
    expect(unknown.statusCode).toBe(404);
    expect(message(unknown)).toBe('no event 987654321');
    const missing = await get(`/v1/events/${gone.eventIds[0]}/clip`);
    expect(missing.statusCode).toBe(404);
    expect(message(missing)).toBe(`the source of event ${gone.eventIds[0]} is gone from storage (retention)`);
    expect(missing.headers['cache-control']).toBeUndefined();
    const anonymous = await api.app.inject({ method: 'GET', url: `/v1/events/${mkv.eventIds[0]}/clip` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('422 with a readable message, without paths, when ffmpeg cannot read the source; no file left', async () => {
    const response = await get(`/v1/events/${corrupt.eventIds[0]}/clip`);
    expect(response.statusCode).toBe(422);
    expect(message(response)).toMatch(
      new RegExp(`^event ${corrupt.eventIds[0]}: could not make the clip of 0–4000 ms: .*Invalid data found`),
    );
    expect(absolutePathsIn(response.body, env.config.storage.root)).toEqual([]);
    await expect(stat(clipOf(corrupt))).rejects.toThrow();
  });

  it('a clip made before the source went is still served; the event lists its clip', async () => {
    await env.db.repos.videos.saveProbe(mkv.videoId, {
      durationMs: 20_000,
      fps: 25,
      width: 854,
      height: 480,
      codec: 'h264',
    });
    await env.db.repos.retention.markSourceRemoved(mkv.videoId);
    expect((await get(`/v1/events/${mkv.eventIds[0]}/clip`)).statusCode).toBe(200);
    const shown = await get(`/v1/events/${mkv.eventIds[1]}`);
    expect(shown.json()).toMatchObject({
      clip: { url: `/v1/events/${mkv.eventIds[1]}/clip`, fromMs: 5_000, toMs: 21_500 },
    });
  });
});

describe('GET /v1/videos/{id}/source', () => {
  it('streams a browser-playable source with ranges, and says so in the video', async () => {
    const bytes = await size(mp4.source);
    const whole = await get(`/v1/videos/${mp4.videoId}/source`);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.rawPayload.length).toBe(bytes);
    const part = await get(`/v1/videos/${mp4.videoId}/source`, { range: 'bytes=100-199' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${bytes}`);
    expect(part.rawPayload.length).toBe(100);
    const video = (await get(`/v1/videos/${mp4.videoId}`)).json();
    expect(video).toMatchObject({ playable: true, sourceUrl: `/v1/videos/${mp4.videoId}/source` });
  });

  it('415 for a source browsers cannot play, pointing to the clips', async () => {
    const response = await get(`/v1/videos/${mkv.videoId}/source`);
    expect(response.statusCode).toBe(415);
    expect(message(response)).toBe(
      "the source is h264 in mkv: browsers cannot play it; play the events' clips (/v1/events/:id/clip)",
    );
    const video = (await get(`/v1/videos/${mkv.videoId}`)).json();
    expect(video).toMatchObject({ playable: false, sourceUrl: null });
  });

  it('404 for an unknown video or a source gone from storage', async () => {
    expect((await get('/v1/videos/00000000-0000-4000-8000-000000000000/source')).statusCode).toBe(404);
    await unlink(mp4.source);
    const response = await get(`/v1/videos/${mp4.videoId}/source`);
    expect(response.statusCode).toBe(404);
    expect(message(response)).toBe(`the source of video ${mp4.videoId} is gone from storage (retention)`);
  });
});
