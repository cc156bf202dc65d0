import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TestEnvironment } from '@vad/testing';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absolutePathsIn, auth, createApiEnvironment, json, multipartBody, openApi, type TestApi } from './support.js';

let env: TestEnvironment;
let api: TestApi;
let root: string;

beforeAll(async () => {
  env = await createApiEnvironment();
  root = env.config.storage.root;
  api = await openApi(env.config, env.logger);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await env?.destroy();
});

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const rawCursor = (text: string) => Buffer.from(text).toString('base64url');

async function send(options: InjectOptions) {
  const response = await api.app.inject({ ...options, headers: { ...auth(), ...options.headers } });
  return { status: response.statusCode, body: json(response), text: response.body };
}

describe('hostile input: 400 naming the field, never 500', () => {
  const nul = '%00';
  const long = 'x'.repeat(5000);
  const get: [string, string][] = [
    // NUL bytes used to reach PostgreSQL ("invalid byte sequence for encoding UTF8: 0x00").
    [`/v1/events?camera=gate${nul}`, 'querystring.camera'],
    [`/v1/events?label=Fire${nul}`, 'querystring.label'],
    [`/v1/videos?camera=${nul}`, 'querystring.camera'],
    // Lone surrogates and overlong strings.
    [`/v1/events?camera=${long}`, 'querystring.camera'],
    [`/v1/events?label=${long}`, 'querystring.label'],
    [`/v1/videos?camera=${long}`, 'querystring.camera'],
    [`/v1/events?cursor=${long}`, 'querystring.cursor'],
    // Dates PostgreSQL (or Date#toISOString) cannot take.
    ['/v1/events?since=0000-01-01T00:00:00Z', 'querystring.since'],
    ['/v1/events?until=9999-12-31T23:59:59-05:00', 'querystring.until'],
    ['/v1/videos?since=0000-06-01T00:00:00Z', 'querystring.since'],
    ['/v1/events?since=1969-12-31T23:59:59Z', 'querystring.since'],
    // Forged cursors: well-formed JSON, impossible keys.
    [`/v1/events?cursor=${cursorOf({ o: 'time', k: 1e308, id: 1 })}`, 'cursor'],
    [`/v1/events?cursor=${cursorOf({ o: 'time', k: -1e308, id: 1 })}`, 'cursor'],
    [`/v1/events?cursor=${cursorOf({ o: 'time', k: 8.64e15 + 1, id: 1 })}`, 'cursor'],
    [`/v1/events?order=score&cursor=${cursorOf({ o: 'score', k: 1e308, id: 1 })}`, 'cursor'],
    [`/v1/events?order=score&cursor=${rawCursor('{"o":"score","k":1e999,"id":1}')}`, 'cursor'],
    [`/v1/events?cursor=${rawCursor('{"o":"time","k":NaN,"id":1}')}`, 'cursor'],
    [`/v1/events?cursor=${cursorOf({ o: 'time', k: 0, id: -1 })}`, 'cursor'],
    [`/v1/videos?cursor=${cursorOf({ t: '0000-01-01 00:00:00+00', id: randomUUID() })}`, 'cursor'],
    [`/v1/videos?cursor=${cursorOf({ t: '2026-13-45 25:61:61+00', id: randomUUID() })}`, 'cursor'],
    [`/v1/videos?cursor=${cursorOf({ t: '2026-02-30 12:00:00+00', id: randomUUID() })}`, 'cursor'],
    [`/v1/videos?cursor=${cursorOf({ t: '2026-11-29 22:51:43+99', id: randomUUID() })}`, 'cursor'],
    // Numbers a PostgreSQL real cannot hold (found by the fuzz test).
    ['/v1/events?minScore=5e-324', 'querystring.minScore'],
    [`/v1/events?order=score&cursor=${cursorOf({ o: 'score', k: 5e-324, id: 1 })}`, 'cursor'],
    // Malformed percent-encoding, also where Bull Board decodes a parameter once more.
    ['/v1/events?camera=%E0%A4%A', 'querystring'],
    ['/admin/queues/api/queues?activeQueue=%25', 'querystring'],
    ['/admin/queues/api/queues?status=%00', 'querystring'],
  ];

  const short = (text: string) => (text.length > 90 ? `${text.slice(0, 80)}… (${text.length} characters)` : text);

  it.each(get.map(([url, field]) => [short(url), field, url]))('GET %s → 400 %s', async (_title, field, url) => {
    const response = await send({ method: 'GET', url });
    expect(response.status, response.text).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
    expect(String(response.body.message)).toContain(field);
  });

  const uuid = randomUUID();
  const bodies: [string, string, unknown, string][] = [
    ['PUT', `/v1/cameras/gate${nul}`, { weight: 100 }, 'params.name'],
    ['PUT', '/v1/cameras/%ED%A0%80', { weight: 100 }, 'params'],
    ['POST', '/v1/videos', { uri: 'fixtures/plain.mp4\u0000' }, 'body.uri'],
    ['POST', '/v1/videos', { uri: 'fixtures/plain.mp4', camera: 'gate\u0000' }, 'body.camera'],
    ['POST', '/v1/videos', { uri: 'fixtures/plain.mp4', camera: '\ud800' }, 'body.camera'],
    ['POST', '/v1/videos', { uri: 'fixtures/plain.mp4', recordedAt: '0000-01-01T00:00:00Z' }, 'body.recordedAt'],
    ['POST', '/v1/videos', { uri: 'fixtures/plain.mp4', recordedAt: '9999-12-31T23:00:00-05:00' }, 'body.recordedAt'],
    ['POST', '/v1/videos', { uri: `fixtures/${'x'.repeat(5000)}.mp4` }, 'body.uri'],
    [
      'POST',
      `/v1/videos/${uuid}/rescore`,
      {
        promptSet: {
          name: 'night',
          templates: ['{}'],
          normal: 'calm',
          classes: { calm: ['a calm street'], 'fire\u0000': ['flames'] },
        },
      },
      'body.promptSet.classes',
    ],
  ];

  it.each(bodies.map(([method, url, payload, field]) => [method, url, short(JSON.stringify(payload)), field, payload]))(
    '%s %s %s → 400 %s',
    async (method, url, _title, field, payload) => {
      const response = await send({ method: method as 'POST', url, payload: payload as Record<string, unknown> });
      expect(response.status, response.text).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(String(response.body.field)).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}`));
    },
  );

  it('multipart fields with NUL, out-of-range dates: 400 naming the field, the upload removed', async () => {
    const video = await import('node:fs/promises').then((fs) => fs.readFile(join(root, 'fixtures', 'plain.mp4')));
    const cases: [string, string, string][] = [
      ['camera', 'gate\u0000', 'body.camera'],
      ['recordedAt', '0000-01-01T00:00:00Z', 'body.recordedAt'],
      ['recordedAt', '+275760-09-13T00:00:00Z', 'body.recordedAt'],
    ];
    for (const [name, value, field] of cases) {
      const response = await send({
        method: 'POST',
        url: '/v1/videos',
        headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
        payload: multipartBody('xyz', [
          [name, value],
          ['file', video, 'plain.mp4'],
        ]),
      });
      expect(response.status, `${name}=${JSON.stringify(value)}: ${response.text}`).toBe(400);
      expect(response.body.field).toBe(field);
    }
  });

  const good = multipartBody('xyz', [['camera', 'gate']]);
  const broken: [string, string, Buffer | string][] = [
    ['no boundary', 'multipart/form-data', good],
    ['an empty boundary', 'multipart/form-data; boundary=', good],
    ['a boundary the body does not use', 'multipart/form-data; boundary=other', good],
    ['a body cut before its closing boundary', 'multipart/form-data; boundary=xyz', good.subarray(0, 40)],
    [
      'a part without a Content-Disposition',
      'multipart/form-data; boundary=xyz',
      '--xyz\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xyz--\r\n',
    ],
    [
      'a part header that never ends',
      'multipart/form-data; boundary=xyz',
      `--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"${'x'.repeat(100_000)}`,
    ],
    ['plain text', 'multipart/form-data; boundary=xyz', 'not multipart at all'],
    ['random bytes', 'multipart/form-data; boundary=xyz', Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256))],
  ];

  it.each(broken)('multipart with %s → 4xx naming the body, nothing left on disk', async (_what, type, payload) => {
    const response = await send({
      method: 'POST',
      url: '/v1/videos',
      headers: { 'content-type': type },
      payload,
    });
    expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    expect(response.status, response.text).toBeLessThan(500);
    expect(response.body).toMatchObject({ statusCode: response.status });
    expect(String(response.body.field)).toMatch(/^(body|file)/);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(join(root, 'uploads', 'incoming')).catch(() => [])).toEqual([]);
  });

  it('accepts the edges of the ranges (1970 and 9999, a well-formed cursor)', async () => {
    expect((await send({ method: 'GET', url: '/v1/events?since=1970-01-01T00:00:00Z' })).status).toBe(200);
    expect((await send({ method: 'GET', url: '/v1/events?until=9999-12-31T23:59:59Z' })).status).toBe(200);
    const cursor = cursorOf({ o: 'time', k: Date.parse('2026-11-28T22:00:00Z'), id: 5 });
    expect((await send({ method: 'GET', url: `/v1/events?cursor=${cursor}` })).status).toBe(200);
    const scored = cursorOf({ o: 'score', k: 0.75, id: 5 });
    expect((await send({ method: 'GET', url: `/v1/events?order=score&cursor=${scored}` })).status).toBe(200);
    const video = cursorOf({ t: '2026-11-29 22:51:43.123456+05:30', id: randomUUID() });
    expect((await send({ method: 'GET', url: `/v1/videos?cursor=${video}` })).status).toBe(200);
  });
});

describe('no internals in error bodies', () => {
  it('a uri outside the storage root: 400 without the root', async () => {
    for (const uri of ['/etc/hosts', '../x.mp4']) {
      const response = await send({ method: 'POST', url: '/v1/videos', payload: { uri } });
      expect(response.status).toBe(400);
      expect(absolutePathsIn(response.text, root), response.text).toEqual([]);
    }
  });

  it('a file that is not a video, a link loop: 422 with the reason, no absolute path', async () => {
    for (const uri of ['fixtures/notes.mp4', 'fixtures/loop.mp4', join(root, 'fixtures', 'notes.mp4')]) {
      const response = await send({ method: 'POST', url: '/v1/videos', payload: { uri } });
      expect(response.status, response.text).toBe(422);
      expect(response.body.field).toBe('body.uri');
      expect(absolutePathsIn(response.text, root), response.text).toEqual([]);
    }
  });

  it('an upload that is not a video: 422 naming ffprobe’s reason without the upload’s path', async () => {
    const { readFile } = await import('node:fs/promises');
    const response = await send({
      method: 'POST',
      url: '/v1/videos',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      payload: multipartBody('xyz', [['file', await readFile(join(root, 'fixtures', 'notes.mp4')), 'notes.mp4']]),
    });
    expect(response.status).toBe(422);
    expect(String(response.body.message)).toMatch(/not a readable video file/);
    expect(absolutePathsIn(response.text, root), response.text).toEqual([]);
  });

  it('shows stored paths relative to the storage root', async () => {
    const created = await send({ method: 'POST', url: '/v1/videos', payload: { uri: 'fixtures/plain.mp4' } });
    expect([200, 201]).toContain(created.status);
    const video = await send({ method: 'GET', url: `/v1/videos/${String(created.body.videoId)}` });
    expect(video.body.sourceUri).toBe('fixtures/plain.mp4');
    const list = await send({ method: 'GET', url: '/v1/videos' });
    expect(absolutePathsIn(list.text, root), list.text).toEqual([]);
  });
});
