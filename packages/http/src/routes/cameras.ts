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
