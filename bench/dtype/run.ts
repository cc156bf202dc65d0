/**
 * bench/dtype: what storing frame embeddings as float16 instead of float32
 * costs and saves. Embeds a camera-like video (bench/lib) at 2 fps with vad's
 * benchmark image encoder (ViT-B/32 architecture, random weights; not CLIP),
 * stores every vector both ways in PostgreSQL (frame_embeddings, as the embed
 * worker writes them) and reports: bytes per camera-hour (table, index and
 * TOAST as PostgreSQL counts them), the cosine between each float16 vector and
 * its float32 original, and how far clip scores move: clips of 16 frames every
 * 8, mean-pooled, scored against 14 seeded prompt vectors with CLIP's logit
 * scale (100), anomaly = 1 − p(normal), the way the aggregator scores them.
 *
 *   npm run dtype -w @vad/bench -- [--duration 120]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createSession, getModelSpec, imageIo, imageTensor, resolveModelPaths } from '@vad/clip';
import { hashPipelineConfig } from '@vad/config';
import { decodeEmbedding, type EmbeddingDtype, encodeEmbedding } from '@vad/db';
import { buildModel } from '@vad/models';
import { dot, normalize, softmax } from '@vad/scoring';
import { createTestDatabase } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { benchVideo, CACHE_DIR } from '../lib/bench-video.js';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    'model-dir': { type: 'string', default: join(CACHE_DIR, 'models') },
  },
});
const MODEL = 'vad-bench-vitb32';
const FPS = 2;
const CLIP_FRAMES = 16;
const CLIP_STRIDE = 8;
const CAMERA_HOUR_FRAMES = 3600 * FPS;
const spec = getModelSpec(MODEL);
const size = spec.inputSize;
const modelDir = args['model-dir'];
try {
  resolveModelPaths(modelDir, MODEL, spec, ['image']);
} catch {
  console.log(`building ${MODEL} into ${modelDir} …`);
  await buildModel(MODEL, modelDir);
}

/** The video's frames at 2 fps, 224×224 RGB, as the ingest worker stores them. */
async function frames(path: string): Promise<{ rgb: Uint8Array; count: number }> {
  const { ffmpeg } = resolveFfmpegBinaries();
  const { stdout } = await run(
    ffmpeg,
    [
      ...['-v', 'error', '-i', path, '-vf', `fps=${FPS},scale=${size}:${size}:flags=bilinear`],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    ],
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  return { rgb: new Uint8Array(stdout), count: Math.floor(stdout.byteLength / (size * size * 3)) };
}

async function embed(rgb: Uint8Array, count: number): Promise<Float32Array[]> {
  const { session } = await createSession(resolveModelPaths(modelDir, MODEL, spec, ['image']).image as string, {
    provider: 'cpu',
    threads: 0,
    graphOptimization: 'all',
  });
  const io = imageIo(session, spec.tensors.image);
  const out: Float32Array[] = [];
  const frameBytes = size * size * 3;
  for (let start = 0; start < count; start += 32) {
    const n = Math.min(32, count - start);
    const frames = rgb.subarray(start * frameBytes, (start + n) * frameBytes);
    const result = await session.run({ [io.input]: imageTensor(io.format, frames, n, size, spec.mean, spec.std) });
    const data = result[io.output]?.data as Float32Array;
    const width = data.length / n;
    for (let i = 0; i < n; i += 1) out.push(normalize(data.slice(i * width, (i + 1) * width)));
  }
  await session.release();
  return out;
}

/** A seeded unit vector (the prompts: "normal" first). */
function seededVector(seed: number, length: number): Float32Array {
  let state = seed * 2654435761;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return normalize(Float32Array.from({ length }, next));
}

function clipScores(vectors: Float32Array[], prompts: Float32Array[]): number[] {
  const scores: number[] = [];
  for (let start = 0; start + CLIP_FRAMES <= vectors.length; start += CLIP_STRIDE) {
    const width = vectors[0]?.length ?? 0;
    const mean = new Float32Array(width);
    for (const v of vectors.slice(start, start + CLIP_FRAMES)) {
      for (let k = 0; k < width; k += 1) mean[k] = (mean[k] ?? 0) + (v[k] ?? 0);
    }
    const feature = normalize(mean);
    const probabilities = softmax(prompts.map((p) => 100 * dot(feature, p)));
    scores.push(1 - (probabilities[0] ?? 0));
  }
  return scores;
}

const durationS = Number(args.duration);
const video = await benchVideo({ width: 1280, height: 720, fps: 25, durationS });
const { rgb, count } = await frames(video);
console.log(`embedding ${count} frames with ${MODEL} …`);
const vectors = await embed(rgb, count);
const halves = vectors.map((v) => decodeEmbedding(encodeEmbedding(v, 'float16'), 'float16'));
const cosines = vectors.map(
  (v, i) => dot(v, halves[i] as Float32Array) / Math.sqrt(dot(halves[i] as Float32Array, halves[i] as Float32Array)),
);
const maxDelta = Math.max(
  ...vectors.map((v, i) =>
    Math.sqrt(v.reduce((sum, x, k) => sum + (x - ((halves[i] as Float32Array)[k] ?? 0)) ** 2, 0)),
  ),
);
const prompts = Array.from({ length: 14 }, (_, i) => seededVector(i + 1, spec.embeddingSize));
// Prompts near the frames, as real prompts are (random ones would all score alike). This random-weight model maps
// every frame to nearly the same direction, so each prompt is a frame's vector with its difference from the mean
// frame stretched 20-fold: clips then score apart, as they do under CLIP.
const centroid = normalize(
  vectors.reduce((sum, v) => sum.map((x, k) => x + (v[k] ?? 0)), new Float32Array(spec.embeddingSize)),
);
const near = prompts.map((p, i) => {
  const frame = vectors[(i * 37) % count] as Float32Array;
  return normalize(Float32Array.from(frame, (x, k) => x + 20 * (x - (centroid[k] ?? 0)) + 0.01 * (p[k] ?? 0)));
});
const full = clipScores(vectors, near);
const half = clipScores(halves, near);
const diffs = full.map((s, i) => Math.abs(s - (half[i] as number)));

// Bytes per camera-hour, as PostgreSQL stores the rows (heap, TOAST, primary key index).
const db = await createTestDatabase();
const bytes: Record<EmbeddingDtype, number> = { float16: 0, float32: 0 };
try {
  for (const dtype of ['float32', 'float16'] as const) {
    await db.pool.query('truncate frame_embeddings cascade');
    const { video: row } = await db.repos.videos.insertOrGet({
      sourceUri: `/bench/${randomUUID()}.mp4`,
      sha256: randomUUID(),
      bytes: 1,
      model: MODEL,
      pipelineConfig: { bench: dtype } as never,
      configHash: hashPipelineConfig({ bench: dtype } as never),
    });
    for (let start = 0; start < CAMERA_HOUR_FRAMES; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, CAMERA_HOUR_FRAMES - start) }, (_, i) => {
        const frameIndex = start + i;
        const vector = vectors[frameIndex % count] as Float32Array;
        return {
          videoId: row.id,
          model: MODEL,
          frameIndex,
          ptsMs: frameIndex * 500,
          dtype,
          embedding: encodeEmbedding(vector, dtype),
        };
      });
      await db.repos.frameEmbeddings.upsertMany(batch);
    }
    await db.pool.query('vacuum analyze frame_embeddings');
    // frame_embeddings is partitioned by day (its own size is 0): the sum of its partitions.
    const size = await db.pool.query<{ bytes: string }>(
      "select sum(pg_total_relation_size(relid)) as bytes from pg_partition_tree('frame_embeddings')",
    );
    bytes[dtype] = Number(size.rows[0]?.bytes ?? 0);
  }
} finally {
  await db.destroy();
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const sorted = [...diffs].sort((a, b) => a - b);
const cpu = cpus();
const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim()}: ${count} frames (${durationS} s of camera-like 720p at ${FPS} fps) embedded by ${MODEL} (ViT-B/32 architecture, random weights; not CLIP), ${spec.embeddingSize}-d.`,
  '',
  '| | float32 | float16 |',
  '| --- | --- | --- |',
  `| bytes per vector | ${spec.embeddingSize * 4} | ${spec.embeddingSize * 2} |`,
  `| frame_embeddings per camera-hour (${CAMERA_HOUR_FRAMES} rows: heap, TOAST, primary key) | ${mib(bytes.float32)} | ${mib(bytes.float16)} (${((bytes.float16 / bytes.float32) * 100).toFixed(0)} %) |`,
  `| cosine to the float32 vector, lowest | 1 | ${Math.min(...cosines).toFixed(8)} |`,
  `| clip anomaly score, largest difference (${diffs.length} clips) | — | ${Math.max(...diffs).toExponential(2)} |`,
  `| clip anomaly score, median difference | — | ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toExponential(2)} |`,
  `| clip anomaly scores, range | ${Math.min(...full).toFixed(3)}–${Math.max(...full).toFixed(3)} | ${Math.min(...half).toFixed(3)}–${Math.max(...half).toFixed(3)} |`,
  '',
  'Scores: clips of 16 frames every 8, mean-pooled, softmax over 14 prompt vectors near the frames at logit scale 100, anomaly = 1 − p(normal). ' +
    'This random-weight model maps every frame to nearly one direction, so its scores span little; for any prompts and model: ' +
    `the largest change of a stored unit vector is ‖Δv‖ = ${maxDelta.toExponential(2)}, so a frame's logit against a unit prompt moves by at most 100·‖Δv‖ = ${(100 * maxDelta).toExponential(2)} ` +
    `and a softmax probability by at most half that (${(50 * maxDelta).toExponential(2)}), divided by the norm of the clip's mean vector.`,
  '',
].join('\n');
await writeFile(join(import.meta.dirname, '..', 'results', 'dtype.md'), report);
console.log(`\n${report}`);
