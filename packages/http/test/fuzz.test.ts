import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipelineConfigOf } from '@vad/runtime';
import type { TestEnvironment } from '@vad/testing';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absolutePathsIn, auth, createApiEnvironment, openApi, type TestApi } from './support.js';

/**
 * Property: whatever a client with an admin token sends to any route — random
 * Unicode (NUL, lone surrogates), huge, negative, NaN and infinite numbers,
 * dates from year 0 to 275760, overlong strings, random bytes as cursors and
 * bodies, wrong types, broken multipart — the API answers below 500, and no
 * answer shows an absolute path of this machine.
 *
 * VAD_FUZZ_RUNS requests per route (default 100, for `npm test`); e.g.
 * `VAD_FUZZ_RUNS=1000 npx vitest run test/fuzz.test.ts` for a long run, and
 * VAD_FUZZ_SEED to replay one.
 */
const RUNS = Number(process.env.VAD_FUZZ_RUNS ?? 100);
const SEED = process.env.VAD_FUZZ_SEED === undefined ? undefined : Number(process.env.VAD_FUZZ_SEED);

let env: TestEnvironment;
let api: TestApi;
let root: string;
let videoId: string;
let eventId: number;
let runId: string;

beforeAll(async () => {
  env = await createApiEnvironment();
  root = env.config.storage.root;
  await mkdir(join(root, 'thumbnails'), { recursive: true });
  await writeFile(join(root, 'thumbnails', 'peak.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  // A finished video with a scoring run and events, so ids can hit real rows.
  const camera = await env.db.repos.cameras.ensure('gate');
  const { video } = await env.db.repos.videos.insertOrGet({
    cameraId: camera.id,
    sourceUri: join(root, 'fixtures', 'seeded.mp4'),
    sha256: randomUUID(),
    bytes: 1,
    durationMs: 60_000,
    recordedAt: new Date('2026-11-28T22:00:00Z'),
    model: 'vad-test-tiny',
    pipelineConfig: pipelineConfigOf(env.config),
    configHash: randomUUID(),
  });
  videoId = video.id;
  runId = randomUUID();
  await env.db.repos.scoring.saveRun(
    { id: runId, videoId, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
    [],
    Array.from({ length: 3 }, (_, i) => ({
      startMs: i * 10_000,
      endMs: i * 10_000 + 5_000,
      peakMs: i * 10_000 + 2_000,
      startAt: new Date(Date.parse('2026-11-28T22:00:00Z') + i * 10_000),
      endAt: new Date(Date.parse('2026-11-28T22:00:05Z') + i * 10_000),
      peakScore: 0.6 + i / 10,
      label: 'Fighting',
      thumbnailPath: i === 0 ? 'thumbnails/peak.jpg' : null,
    })),
    camera.id,
    { markVideoDone: true },
  );
  const [event] = await env.db.repos.scoring.findEvents({ videoId, order: 'time', limit: 1 });
  eventId = event?.id ?? 1;
  api = await openApi(env.config, env.logger);
  await api.ctx.listening;
}, 60_000);

/** Statuses seen per route, printed at the end. */
const seen = new Map<string, Map<number, number>>();

afterAll(async () => {
  const lines = [...seen].map(([route, statuses]) => {
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    const detail = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
    return `${route.padEnd(44)} ${String(total).padStart(6)}  ${detail.join(' ')}`;
  });
  console.log(`fuzz: ${RUNS} runs per route\n${lines.join('\n')}`);
  await api?.close();
  await env?.destroy();
});

// ---------------------------------------------------------------- values

const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Any UTF-16 string: NUL, control characters and lone surrogates included. */
const rawString = fc.string({ unit: anyUnit, maxLength: 64 });
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: rawString },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300, minLength: 201 }) },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'gate\u0000',
      '\ud800',
      'a\udfffb',
      '\ufeff',
      'null',
      'undefined',
      'NaN',
      'Infinity',
      '-1',
      '0',
      '1e308',
      '-1e308',
      '9007199254740993',
      'true',
      '[]',
      '{}',
      '__proto__',
      'constructor',
      "'; drop table videos; --",
      '%00',
      '%',
      '../../etc/passwd',
      'gate',
      'Fighting',
    ),
  },
);

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Date-times of every shape: years 0–99999, months 0–13, offsets out of range, fractions, no zone. */
const dateText = fc.oneof(
  fc
    .record({
      y: fc.integer({ min: 0, max: 99_999 }),
      mo: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 61 }),
      s: fc.integer({ min: 0, max: 61 }),
      frac: fc.option(fc.integer({ min: 0, max: 999_999_999 })),
      zone: fc.constantFrom('Z', '', '+00:00', '-05:00', '+14:00', '-12:00', '+99:99', '+2400', 'z'),
    })
    .map(
      ({ y, mo, d, h, mi, s, frac, zone }) =>
        `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac === null ? '' : `.${frac}`}${zone}`,
    ),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59-05:00',
    '+275760-09-13T00:00:00Z',
    '1969-12-31T23:59:59Z',
  ),
);

/** Numbers as text: what JSON.stringify never writes (1e999, NaN, -0) and what it does. */
const numberText = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom('1e308', '-1e308', '1e999', '-1e999', 'NaN', 'Infinity', '-0', '1e-400', '0x10', '01', '.5', '1.'),
);

const scalarText = fc.oneof(hostileString, dateText, numberText);

/** Percent-encoded bytes, not necessarily UTF-8 (%ED%A0%80, %FF, %00…). */
const rawBytes = fc.uint8Array({ maxLength: 48 });
const percentBytes = rawBytes.map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
/** A string as it goes into a URL: UTF-8 percent-encoded (lone surrogates become U+FFFD on the way). */
const encode = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16)}`))
    .join('');
const urlValue = fc.oneof({ weight: 4, arbitrary: scalarText.map(encode) }, { weight: 1, arbitrary: percentBytes });

/** Query strings over a route's own keys (and some others), repeated keys and all. */
function queryOf(keys: string[], extra: Record<string, fc.Arbitrary<string>> = {}) {
  const key = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: hostileString.map(encode) },
  );
  const pair = key.chain((k) =>
    (Object.hasOwn(extra, k) ? (extra[k] as fc.Arbitrary<string>) : urlValue).map((v) => `${k}=${v}`),
  );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));
}

/** Cursors: random bytes, random JSON, or the right keys with impossible values. */
const cursorJson = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc
    .record({ o: fc.constantFrom('"time"', '"score"', '"x"', '1'), k: numberText, id: numberText })
    .map(({ o, k, id }) => `{"o":${o},"k":${k},"id":${id}}`),
  fc
    .record({ t: fc.oneof(dateText, hostileString), id: fc.oneof(fc.uuid(), hostileString) })
    .map((c) => JSON.stringify({ t: c.t.replace('T', ' '), id: c.id })),
);
const cursor = fc
  .oneof(
    rawBytes.map((b) => Buffer.from(b).toString('base64url')),
    cursorJson.map((text) => Buffer.from(text).toString('base64url')),
    cursorJson.map((text) => Buffer.from(text).toString('base64')),
  )
  .map(encode);

/** Path segments: real ids sometimes, anything else otherwise. */
const segment = (...real: fc.Arbitrary<string>[]) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.oneof(...real) },
    { weight: 4, arbitrary: scalarText.filter((s) => s.length > 0).map(encode) },
    { weight: 1, arbitrary: percentBytes.filter((s) => s.length > 0) },
  );
const videoIdSegment = () => segment(fc.constant(videoId), fc.uuid());
const eventIdSegment = () =>
  segment(fc.constant(String(eventId)), fc.integer({ min: -5, max: 2 ** 40 }).map(String), fc.constant('1e3'));
const queueSegment = segment(fc.constantFrom('ingest', 'embed', 'aggregate', 'Ingest', 'maintenance'));

/** JSON bodies: random JSON, the route's own keys with hostile values, or text that is not JSON. */
function jsonBody(fields: Record<string, fc.Arbitrary<string>>) {
  const valueText = fc.oneof(
    scalarText.map((v) => JSON.stringify(v)),
    numberText,
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  );
  const entry = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(...Object.keys(fields))
        .chain((k) => (fields[k] ?? valueText).map((v) => [k, v] as const)),
    },
    { weight: 1, arbitrary: fc.tuple(hostileString, valueText) },
  );
  const object = fc
    .array(entry, { maxLength: 7 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
  return fc.oneof(
    { weight: 6, arbitrary: object },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.oneof(
        rawString,
        rawBytes.map((b) => Buffer.from(b).toString('latin1')),
      ),
    },
  );
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-16',
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'application/json; charset=latin1',
    ),
  },
);

/** JSON text that is also valid JSON for sure (for routes whose body is optional). */
const uriValue = fc.oneof(
  hostileString.map((v) => JSON.stringify(v)),
  fc
    .constantFrom(
      'fixtures/plain.mp4',
      'fixtures/notes.mp4',
      'fixtures/loop.mp4',
      'fixtures',
      'fixtures/missing.mp4',
      'fixtures/../../x',
      '/etc/passwd',
      '',
      '.',
    )
    .map((v) => JSON.stringify(v)),
  fc.constant(null).map(() => JSON.stringify(join(root, 'fixtures', 'notes.mp4'))),
);

const promptSetValue = fc
  .record(
    {
      name: hostileString,
      templates: fc.array(fc.oneof(hostileString, fc.constant('a photo of {}')), { maxLength: 3 }),
      normal: fc.oneof(hostileString, fc.constant('normal')),
      classes: fc.dictionary(
        fc.oneof(hostileString, fc.constantFrom('normal', 'fire')),
        fc.array(hostileString, { maxLength: 3 }),
      ),
    },
    { requiredKeys: [] },
  )
  .map((v) => JSON.stringify(v));

// ---------------------------------------------------------------- multipart

const fieldName = fc.oneof(
  fc.constantFrom('file', 'camera', 'recordedAt', 'priority', 'urgent', '__proto__', 'constructor', 'toString'),
  hostileString,
);
const part = fc.record({
  name: fieldName,
  value: fc.oneof(
    scalarText,
    rawBytes.map((b) => Buffer.from(b).toString('latin1')),
  ),
  filename: fc.option(fc.oneof(hostileString, fc.constantFrom('a.mp4', '../../x.mp4', 'x.MP4', '.mp4'))),
  type: fc.option(fc.constantFrom('application/json', 'text/plain', 'video/mp4', 'application/octet-stream')),
});
const multipart = fc
  .record({
    boundary: fc.oneof(fc.constant('fuzzBoundary'), fc.string({ unit: 'binary-ascii', maxLength: 90 })),
    header: fc.constantFrom('plain', 'quoted', 'missing', 'other', 'empty'),
    parts: fc.array(part, { maxLength: 5 }),
    file: fc.oneof(rawBytes, fc.constant(null)),
    truncate: fc.option(fc.nat()),
    garbage: fc.option(rawBytes),
  })
  .map(({ boundary, header, parts, file, truncate, garbage }) => {
    const chunks: Buffer[] = [];
    if (garbage) chunks.push(Buffer.from(garbage));
    const all = file ? [...parts, { name: 'file', value: '', filename: 'clip.mp4', type: 'video/mp4', file }] : parts;
    for (const p of all) {
      const filename = p.filename === null ? '' : `; filename="${p.filename}"`;
      const type = p.type === null ? '' : `\r\nContent-Type: ${p.type}`;
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${filename}${type}\r\n\r\n`,
          'latin1',
        ),
      );
      chunks.push('file' in p && p.file ? Buffer.from(p.file) : Buffer.from(p.value, 'latin1'));
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
    let body = Buffer.concat(chunks);
    if (truncate !== null) body = body.subarray(0, truncate % (body.length + 1));
    const type = {
      plain: `multipart/form-data; boundary=${boundary}`,
      quoted: `multipart/form-data; boundary="${boundary}"`,
      missing: 'multipart/form-data',
      other: 'multipart/form-data; boundary=somethingElse',
      empty: 'multipart/form-data; boundary=',
    }[header];
    return { body, type };
  });

/** The real video, uploaded now and then, so the whole upload path runs too. */
const realUpload = fc.record({
  camera: fc.oneof(hostileString, fc.constant('gate')),
  recordedAt: fc.oneof(dateText, fc.constant('2026-11-28T22:00:00Z')),
});

// ---------------------------------------------------------------- routes

type Request = Omit<InjectOptions, 'headers'> & { headers?: Record<string, string> };

const get = (url: fc.Arbitrary<string>) => url.map((u): Request => ({ method: 'GET', url: u }));
const withBody = (method: 'POST' | 'PUT', url: fc.Arbitrary<string>, body: fc.Arbitrary<string>) =>
  fc
    .record({ u: url, body, type: contentType, send: fc.boolean() })
    .map(
      ({ u, body: payload, type, send }): Request =>
        send || method === 'PUT' ? { method, url: u, payload, headers: { 'content-type': type } } : { method, url: u },
    );

const routes: [string, () => fc.Arbitrary<Request>][] = [
  ['GET /healthz', () => get(queryOf(['x']).map((q) => `/healthz${q}`))],
  ['GET /readyz', () => get(queryOf(['x']).map((q) => `/readyz${q}`))],
  ['GET /metrics', () => get(queryOf(['name[]', 'x']).map((q) => `/metrics${q}`))],
  [
    'POST /v1/videos',
    () =>
      fc.oneof(
        {
          weight: 4,
          arbitrary: withBody(
            'POST',
            fc.constant('/v1/videos'),
            jsonBody({
              uri: uriValue,
              camera: scalarText.map((v) => JSON.stringify(v)),
              recordedAt: dateText.map((v) => JSON.stringify(v)),
              priority: numberText,
              urgent: fc.constantFrom('true', '"true"', '"yes"', '1', 'null'),
            }),
          ),
        },
        {
          weight: 4,
          arbitrary: multipart.map(
            ({ body, type }): Request => ({
              method: 'POST',
              url: '/v1/videos',
              payload: body,
              headers: { 'content-type': type },
            }),
          ),
        },
        {
          weight: 1,
          arbitrary: realUpload.map(
            ({ camera, recordedAt }): Request => ({
              method: 'POST',
              url: '/v1/videos',
              payload: Buffer.concat([
                Buffer.from(
                  `--b\r\nContent-Disposition: form-data; name="camera"\r\n\r\n${camera}\r\n--b\r\nContent-Disposition: form-data; name="recordedAt"\r\n\r\n${recordedAt}\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="plain.mp4"\r\n\r\n`,
                ),
                plainVideo,
                Buffer.from('\r\n--b--\r\n'),
              ]),
              headers: { 'content-type': 'multipart/form-data; boundary=b' },
            }),
          ),
        },
      ),
  ],
  [
    'GET /v1/videos',
    () =>
      get(
        queryOf(['camera', 'status', 'since', 'limit', 'cursor'], {
          cursor,
          status: fc.oneof(fc.constantFrom('queued', 'done', 'failed'), urlValue),
        }).map((q) => `/v1/videos${q}`),
      ),
  ],
  ['GET /v1/videos/:id', () => get(videoIdSegment().map((id) => `/v1/videos/${id}`))],
  [
    'GET /v1/videos/:id/scores',
    () =>
      get(
        fc
          .tuple(videoIdSegment(), queryOf(['run'], { run: fc.oneof(fc.constant(runId), fc.uuid(), urlValue) }))
          .map(([id, q]) => `/v1/videos/${id}/scores${q}`),
      ),
  ],
  [
    'POST /v1/videos/:id/rescore',
    () =>
      withBody(
        'POST',
        videoIdSegment().map((id) => `/v1/videos/${id}/rescore`),
        jsonBody({
          promptSet: promptSetValue,
          aggregator: fc.oneof(
            fc.constantFrom('"mean"', '"attention"', '"onnx"'),
            scalarText.map((v) => JSON.stringify(v)),
          ),
          mode: fc.oneof(
            fc.constantFrom('"prompts"', '"normality"', '"fused"', '"learned"'),
            scalarText.map((v) => JSON.stringify(v)),
          ),
          head: fc.oneof(
            fc.constantFrom('"../../etc/passwd"', '"night-head"', '""'),
            scalarText.map((v) => JSON.stringify(v)),
          ),
          threshold: numberText,
          smoothingClips: numberText,
          minDurationMs: numberText,
          mergeGapMs: numberText,
        }),
      ),
  ],
  [
    'GET /v1/events',
    () =>
      get(
        queryOf(['camera', 'since', 'until', 'minScore', 'label', 'order', 'verdict', 'limit', 'cursor'], {
          cursor,
          order: fc.oneof(fc.constantFrom('time', 'score'), urlValue),
          verdict: fc.oneof(fc.constantFrom('true', 'false', 'unreviewed'), urlValue),
          since: fc.oneof(dateText.map(encode), urlValue),
          until: fc.oneof(dateText.map(encode), urlValue),
        }).map((q) => `/v1/events${q}`),
      ),
  ],
  ['GET /v1/events/:id', () => get(eventIdSegment().map((id) => `/v1/events/${id}`))],
  ['GET /v1/events/:id/thumbnail', () => get(eventIdSegment().map((id) => `/v1/events/${id}/thumbnail`))],
  [
    'PUT /v1/events/:id/review',
    () =>
      withBody(
        'PUT',
        eventIdSegment().map((id) => `/v1/events/${id}/review`),
        jsonBody({
          verdict: fc.oneof(
            fc.constantFrom('"true"', '"false"', 'true', 'false', '"maybe"'),
            scalarText.map((v) => JSON.stringify(v)),
          ),
          note: scalarText.map((v) => JSON.stringify(v)),
        }),
      ),
  ],
  [
    'DELETE /v1/events/:id/review',
    () => eventIdSegment().map((id): Request => ({ method: 'DELETE', url: `/v1/events/${id}/review` })),
  ],
  ['GET /v1/queues', () => get(queryOf(['x']).map((q) => `/v1/queues${q}`))],
  ...(['pause', 'resume', 'retry-failed'] as const).map((action): [string, () => fc.Arbitrary<Request>] => [
    `POST /v1/queues/:name/${action}`,
    () =>
      withBody(
        'POST',
        queueSegment.map((name) => `/v1/queues/${name}/${action}`),
        jsonBody({ x: numberText }),
      ),
  ]),
  ['GET /v1/cameras', () => get(queryOf(['x']).map((q) => `/v1/cameras${q}`))],
  [
    'PUT /v1/cameras/:name',
    () =>
      withBody(
        'PUT',
        segment(fc.constantFrom('gate', 'door', 'a'.repeat(200))).map((name) => `/v1/cameras/${name}`),
        jsonBody({ weight: fc.oneof(numberText, fc.integer({ min: 1, max: 1000 }).map(String)) }),
      ),
  ],
  ['GET /docs/json', () => get(queryOf(['x']).map((q) => `/docs/json${q}`))],
  [
    'GET /admin/queues/api/…',
    () =>
      get(
        fc.oneof(
          queryOf(['activeQueue', 'status', 'page', 'jobsPerPage']).map((q) => `/admin/queues/api/queues${q}`),
          fc
            .tuple(queueSegment, segment(fc.constantFrom('ingest.x', 'aggregate.y')))
            .map(([q, j]) => `/admin/queues/api/queues/${q}/${j}`),
        ),
      ),
  ],
];

let plainVideo: Buffer;

describe(`fuzz: ${RUNS} hostile requests per route, admin token`, () => {
  beforeAll(async () => {
    const { readFile } = await import('node:fs/promises');
    plainVideo = await readFile(join(root, 'fixtures', 'plain.mp4'));
  });

  it.each(routes)(
    '%s: below 500, no absolute path in any answer',
    async (route, requests) => {
      const statuses = new Map<number, number>();
      seen.set(route, statuses);
      await fc.assert(
        fc.asyncProperty(requests(), async (request) => {
          const response = await api.app.inject({
            ...request,
            headers: { ...auth(), ...request.headers },
          } as InjectOptions);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const what = `${request.method} ${String(request.url).slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 500)}`;
          expect(response.statusCode, what).toBeLessThan(500);
          expect(absolutePathsIn(response.body, root), what).toEqual([]);
          if (response.statusCode >= 400 && !route.startsWith('GET /admin')) {
            expect(response.json(), what).toMatchObject({
              statusCode: response.statusCode,
              error: expect.any(String),
              message: expect.any(String),
            });
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    },
    60_000 + RUNS * 300,
  );
});
