import { recentNights } from '@vad/schedule';
import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { cameraParams, errorSchema } from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

const cameraSchema = z
  .object({
    name: z.string(),
    weight: z.number().int().describe('Share of processing against other cameras (100 = normal)'),
    threshold: z
      .number()
      .nullable()
      .describe('Event threshold calibrated on its own scores (vad cameras calibrate); null: the configured one'),
    scoringMode: z
      .string()
      .nullable()
      .describe('The scoring mode it is scored in and its threshold was calibrated for; null: the configured one'),
    waiting: z.number().int(),
    processing: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
  })
  .meta({ id: 'Camera' });

const nightsQuery = z.object({
  nights: z.coerce.number().int().min(1).max(90).default(14).describe('How many nights, up to the current one'),
});

const nightCountsSchema = z.object({
  events: z.number().int(),
  trueAlarms: z.number().int().describe('Events reviewed as real incidents'),
  falseAlarms: z.number().int().describe('Events reviewed as false alarms'),
});

const cameraNightsSchema = z
  .object({
    timeZone: z.string(),
    nights: z
      .array(z.string())
      .describe("The nights, oldest first, each named by its evening's date (a night runs noon to noon)"),
    items: z.array(
      z.object({
        camera: z.string(),
        weight: z.number().int(),
        nights: z.array(nightCountsSchema).describe('One entry per night of `nights`, in its order'),
        events: z.number().int(),
        reviewed: z.number().int(),
        falseAlarms: z.number().int(),
        falseAlarmShare: z.number().nullable().describe('False alarms among the reviewed events; null: none reviewed'),
      }),
    ),
  })
  .meta({ id: 'CameraNights' });

const cameraBody = z.object({ weight: z.number().int().min(1).max(1000) }).strict();

/** Cameras and their fair share of processing. */
export function registerCameraRoutes(app: ZodApp, ctx: ApiContext): void {
  const { repos } = ctx;

  app.get(
    '/v1/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: "Cameras with their weight and their videos' state",
        response: { 200: z.object({ items: z.array(cameraSchema) }) },
      },
    },
    async () => {
      const rows = await repos.cameras.list();
      return {
        items: rows.map(({ name, weight, threshold, scoringMode, waiting, processing, done, failed }) => ({
          name,
          weight,
          threshold: threshold === null ? null : Number(threshold.toFixed(6)),
          scoringMode,
          waiting,
          processing,
          done,
          failed,
        })),
      };
    },
  );

  app.get(
    '/v1/cameras/nights',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Events per camera per night, with the share of false alarms among reviewed ones',
        querystring: nightsQuery,
        response: { 200: cameraNightsSchema, 400: errorSchema },
      },
    },
    async (request) => {
      const { timeZone } = ctx.config.schedule;
      const { names, since } = recentNights(new Date(), request.query.nights, timeZone);
      const [cameras, counts] = await Promise.all([repos.cameras.list(), repos.cameras.nightlyEvents(since, timeZone)]);
      const empty = () => ({ events: 0, trueAlarms: 0, falseAlarms: 0 });
      // Each camera's counts by night, in the order of `names`.
      const byCamera = new Map<string, ReturnType<typeof empty>[]>();
      for (const { camera, night, ...count } of counts) {
        const i = names.indexOf(night);
        if (i < 0) continue;
        const nights = byCamera.get(camera) ?? names.map(empty);
        nights[i] = count;
        byCamera.set(camera, nights);
      }
      return {
        timeZone,
        nights: names,
        items: cameras.map((camera) => {
          const nights = byCamera.get(camera.name) ?? names.map(empty);
          const sum = (key: keyof ReturnType<typeof empty>) => nights.reduce((total, n) => total + n[key], 0);
          const falseAlarms = sum('falseAlarms');
          const reviewed = sum('trueAlarms') + falseAlarms;
          return {
            camera: camera.name,
            weight: camera.weight,
            nights,
            events: sum('events'),
            reviewed,
            falseAlarms,
            falseAlarmShare: reviewed === 0 ? null : falseAlarms / reviewed,
          };
        }),
      };
    },
  );

  app.put(
    '/v1/cameras/:name',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['cameras'],
        summary: "Set a camera's weight (created if new); applies to videos submitted from then on",
        params: cameraParams,
        body: cameraBody,
        response: { 200: z.object({ name: z.string(), weight: z.number().int() }), 400: errorSchema },
      },
    },
    async (request) => {
      const camera = await repos.cameras.setWeight(request.params.name, request.body.weight);
      return { name: camera.name, weight: camera.weight };
    },
  );
}
