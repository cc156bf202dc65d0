import { randomUUID } from 'node:crypto';
import { pipelineConfigOf } from '@vad/runtime';
import { createTestEnvironment, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSettings, auth, openApi, reader, type TestApi } from './support.js';

/**
 * Operator feedback over HTTP: PUT/DELETE /v1/events/{id}/review (admin
 * scope), the review shown with its event, and the listing's verdict filter.
 */
let env: TestEnvironment;
let api: TestApi;
let videoId: string;
/** The seeded events, by start. */
let eventIds: number[];

interface Review {
  verdict: 'true' | 'false';
  note: string | null;
  reviewedBy: string;
  reviewedAt: string;
}
interface Event {
  id: number;
  review: Review | null;
}

async function call<T = Record<string, unknown>>(
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  options: { token?: string | null; body?: unknown } = {},
) {
  const response = await api.app.inject({
    method,
    url,
    headers: options.token === null ? {} : auth(options.token),
    ...(options.body === undefined ? {} : { payload: options.body as Record<string, unknown> }),
  });
  return { status: response.statusCode, body: response.json() as T };
}

const review = (id: number, body: unknown, token?: string) =>
  call<Review & { eventId: number; field?: string; message?: string }>('PUT', `/v1/events/${id}/review`, {
    body,
    token,
  });
const listed = async (query = '') => {
  const response = await call<{ items: Event[] }>('GET', `/v1/events?camera=yard&limit=100${query}`);
  expect(response.status, query).toBe(200);
  return response.body.items;
};
const idsOf = (events: Event[]) => events.map((e) => e.id).sort((a, b) => a - b);

beforeAll(async () => {
  env = await createTestEnvironment({ env: apiSettings() });
  api = await openApi(env.config, env.logger);
  const camera = await env.db.repos.cameras.ensure('yard');
  const recordedAt = new Date('2026-11-28T22:00:00Z');
  const { video } = await env.db.repos.videos.insertOrGet({
    cameraId: camera.id,
    sourceUri: `/seed/${randomUUID()}.mp4`,
    sha256: randomUUID(),
    bytes: 1,
    durationMs: 600_000,
    recordedAt,
    model: 'vad-test-tiny',
    pipelineConfig: pipelineConfigOf(env.config),
    configHash: randomUUID(),
  });
  videoId = video.id;
  const runId = randomUUID();
  await env.db.repos.scoring.saveRun(
    { id: runId, videoId, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
    [],
    [0, 1, 2, 3].map((i) => ({
      startMs: i * 60_000,
      endMs: i * 60_000 + 5_000,
      peakMs: i * 60_000 + 2_000,
      startAt: new Date(recordedAt.getTime() + i * 60_000),
      endAt: new Date(recordedAt.getTime() + i * 60_000 + 5_000),
      peakScore: 0.9,
      label: 'Fighting',
      thumbnailPath: null,
    })),
    camera.id,
    { markVideoDone: true },
  );
  eventIds = (await env.db.repos.scoring.eventsOf(runId)).map((e) => e.id);
});

afterAll(async () => {
  await api?.close();
  await env?.destroy();
});

describe('event reviews', () => {
  it('needs the admin scope: 401 without a token, 403 with a read token', async () => {
    const id = eventIds[0] as number;
    for (const method of ['PUT', 'DELETE'] as const) {
      const body = method === 'PUT' ? { verdict: 'true' } : undefined;
      expect((await call(method, `/v1/events/${id}/review`, { token: null, body })).status).toBe(401);
      const asReader = await call<{ message: string }>(method, `/v1/events/${id}/review`, {
        token: reader.token,
        body,
      });
      expect(asReader.status).toBe(403);
      expect(asReader.body.message).toMatch(/scope read; this needs admin/);
    }
    expect(await env.db.repos.reviews.forEvent(id)).toBeUndefined();
  });

  it("records an admin's review with the token's name and the time, shown with the event", async () => {
    const id = eventIds[0] as number;
    const before = Date.now();
    const answer = await review(id, { verdict: 'false', note: 'the neighbour’s cat' });
    expect(answer).toMatchObject({
      status: 200,
      body: {
        eventId: id,
        videoId,
        startMs: 0,
        endMs: 5_000,
        label: 'Fighting',
        verdict: 'false',
        note: 'the neighbour’s cat',
        reviewedBy: 'ops', // the admin token's name
      },
    });
    expect(Date.parse(answer.body.reviewedAt)).toBeGreaterThanOrEqual(before - 1000);
    const shown = {
      verdict: 'false',
      note: 'the neighbour’s cat',
      reviewedBy: 'ops',
      reviewedAt: answer.body.reviewedAt,
    };
    expect((await call<Event>('GET', `/v1/events/${id}`)).body.review).toEqual(shown);
    const items = await listed();
    expect(items.find((e) => e.id === id)?.review).toEqual(shown);
    expect(items.filter((e) => e.id !== id).map((e) => e.review)).toEqual([null, null, null]);
    // A video's scores still answer, their events without reviews.
    const scores = await call<{ events: object[] }>('GET', `/v1/videos/${videoId}/scores`);
    expect(scores.status).toBe(200);
    expect(scores.body.events).toHaveLength(4);
  });

  it('reviewing again replaces the verdict, note, who and when; verdicts may be booleans', async () => {
    const id = eventIds[1] as number;
    const first = await review(id, { verdict: true, note: 'a fight' });
    expect(first.body).toMatchObject({ verdict: 'true', note: 'a fight' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await review(id, { verdict: false });
    expect(second).toMatchObject({
      status: 200,
      body: { eventId: id, verdict: 'false', note: null, reviewedBy: 'ops' },
    });
    expect(Date.parse(second.body.reviewedAt)).toBeGreaterThan(Date.parse(first.body.reviewedAt));
    const third = await review(id, { verdict: 'true', note: null });
    expect(third.body).toMatchObject({ verdict: 'true', note: null });
    const rows = (await env.db.repos.reviews.list({ limit: 100 })).filter((r) => r.eventId === id);
    expect(rows).toHaveLength(1);
    expect((await call<Event>('GET', `/v1/events/${id}`)).body.review).toMatchObject({ verdict: 'true', note: null });
  });

  it('filters the listing by verdict, or by events nobody reviewed', async () => {
    // eventIds[0] false, eventIds[1] true (the tests above); the other two unreviewed.
    const [falseAlarm, trueAlarm, ...rest] = eventIds as [number, number, ...number[]];
    expect(idsOf(await listed('&verdict=true'))).toEqual([trueAlarm]);
    expect(idsOf(await listed('&verdict=false'))).toEqual([falseAlarm]);
    expect(idsOf(await listed('&verdict=unreviewed'))).toEqual(rest);
    expect(idsOf(await listed('&verdict=true&order=score'))).toEqual([trueAlarm]);
    const wrong = await call<{ field: string }>('GET', '/v1/events?verdict=maybe');
    expect(wrong).toMatchObject({ status: 400, body: { field: 'querystring.verdict' } });
  });

  it('refuses a bad body (400) and an unknown event (404)', async () => {
    const id = eventIds[2] as number;
    const bad: [unknown, string][] = [
      [{ verdict: 'true', note: 'x'.repeat(2001) }, 'body.note'],
      [{ verdict: 'true', note: 'a\u0000b' }, 'body.note'],
      [{ verdict: 'true', note: 42 }, 'body.note'],
      [{ verdict: 'yes' }, 'body.verdict'],
      [{ verdict: 1 }, 'body.verdict'],
      [{ note: 'no verdict' }, 'body.verdict'],
    ];
    for (const [body, field] of bad) {
      const answer = await review(id, body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.body.field).toBe(field);
    }
    expect((await review(id, { verdict: 'true', note: 'x'.repeat(2000) })).status).toBe(200);
    expect(await env.db.repos.reviews.remove(id)).toBe(true);

    expect((await review(999_999_999, { verdict: 'true' })).status).toBe(404);
    expect((await call('DELETE', '/v1/events/999999999/review')).status).toBe(404);
    expect((await review(0, { verdict: 'true' })).status).toBe(400);
  });

  it('removes a review (DELETE), saying whether there was one', async () => {
    const id = eventIds[3] as number;
    await review(id, { verdict: 'false' });
    expect(await call('DELETE', `/v1/events/${id}/review`)).toEqual({
      status: 200,
      body: { eventId: id, removed: true },
    });
    expect(await call('DELETE', `/v1/events/${id}/review`)).toEqual({
      status: 200,
      body: { eventId: id, removed: false },
    });
    expect((await call<Event>('GET', `/v1/events/${id}`)).body.review).toBeNull();
  });

  it('documents the routes and every field of the review in OpenAPI', async () => {
    type Schema = { properties?: Record<string, Schema>; description?: string; $ref?: string };
    const { body } = await call<{
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
      components: { schemas: Record<string, Schema> };
    }>('GET', '/docs/json');
    const path = body.paths['/v1/events/{id}/review'];
    expect(Object.keys(path ?? {}).sort()).toEqual(['delete', 'put']);
    const request = path?.put?.requestBody?.content['application/json']?.schema;
    for (const field of ['verdict', 'note']) expect(request?.properties?.[field]?.description, field).toBeTruthy();
    const { EventReview, EventReviewSummary, Event: event } = body.components.schemas;
    for (const schema of [EventReview, EventReviewSummary, event]) {
      for (const [name, field] of Object.entries(schema?.properties ?? {})) {
        expect(field.description ?? field.$ref, name).toBeTruthy();
      }
    }
    expect(Object.keys(event?.properties ?? {})).toContain('review');
  });
});
