/**
 * bench/search: how fast search over stored frame embeddings answers, side
 * by side with its floors.
 *
 * 1. Exact search of one camera-night: 8 hours at 2 fps = 57,600 frames of
 *    512-d float16 vectors in PostgreSQL (8 one-hour videos), searched through
 *    the SearchService (the planner, the vector cache, per-camera statistics,
 *    moments, ranking): the first query (vectors loaded from PostgreSQL),
 *    then `--queries` distinct queries with the vectors cached (p50/p95).
 *    Floor: the dot-product kernel alone over the same 57,600 vectors.
 * 2. The nearest-neighbour index at `--vectors` (1,000,000) vectors: build
 *    time, size, top-10 latency (p50/p95) and recall@10 against comparing with
 *    every vector (whose latency is the floor it replaces), for queries that
 *    look like stored frames (a look-alike search) and for queries that do not
 *    (a text query sits far from every frame).
 *
 * Vectors are synthetic, generated frame after frame the way a fixed
 * camera's CLIP embeddings come (each camera near its own direction, a few
 * scene states, a slow drift, a little noise), not independent random
 * vectors: those are the worst case of an HNSW index, and no camera gives
 * them. Query vectors are drawn the same way: vad's
 * benchmark model has no text encoder, so a query's text encoding (one run
 * of the model's text tower, then cached) is not part of these figures.
 *
 *   npm run search -w @vad/bench -- [--vectors 1000000] [--queries 100]
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipelineConfigSchema } from '@vad/config';
import { encodeEmbedding, videos } from '@vad/db';
import { searchSources } from '@vad/runtime';
import { DotProducts } from '@vad/scoring';
import { FrameIndex, SearchService, TextQueries, VectorCache } from '@vad/search';
import { createTestDatabase, seedScoredVideo } from '@vad/testing';
import { eq } from 'drizzle-orm';

const { values: args } = parseArgs({
  options: {
    vectors: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '100' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'search.md') },
  },
});
const VECTORS = Number(args.vectors);
const QUERIES = Number(args.queries);
const DIM = 512;
const NIGHT_VIDEOS = 8;
const FRAMES_PER_VIDEO = 3600 * 2;
const MODEL = 'vad-bench-vitb32';

const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const ms = (v: number) => (v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`);
const timed = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const out = fn();
  return [out, performance.now() - t];
};

/**
 * A seeded generator of camera-like unit vectors, frame after frame as a
 * video gives them: each camera near its own direction, in one of a few
 * scene states at a time (changing every few minutes), drifting slowly from
 * frame to frame, with a little noise: adjacent frames look alike, as they
 * do in footage.
 */
class CameraVectors {
  private state: number;
  private readonly cameras: Float32Array[];
  private readonly scenes: Float32Array[][];
  private readonly current: { scene: number; left: number; drift: Float32Array }[];

  constructor(seed: number, cameras: number) {
    this.state = seed;
    this.cameras = Array.from({ length: cameras }, () => this.gaussian(1));
    this.scenes = this.cameras.map(() => Array.from({ length: 12 }, () => this.gaussian(0.6)));
    this.current = this.cameras.map(() => ({ scene: 0, left: 0, drift: new Float32Array(DIM) }));
  }

  private random(): number {
    this.state = (this.state * 1664525 + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }

  private gaussian(scale: number): Float32Array {
    const out = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) {
      const u = Math.max(this.random(), 1e-12);
      out[i] = (scale / Math.sqrt(DIM)) * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
    }
    return out;
  }

  /** The next frame of `camera` into `out` at `offset`, unit length. */
  frame(camera: number, out: Float32Array, offset: number): void {
    const base = this.cameras[camera] as Float32Array;
    const state = this.current[camera] as { scene: number; left: number; drift: Float32Array };
    if (state.left-- <= 0) {
      state.scene = Math.floor(this.random() * 12);
      state.left = 300 + Math.floor(this.random() * 900);
    }
    const scene = (this.scenes[camera] as Float32Array[])[state.scene] as Float32Array;
    const step = this.gaussian(0.04);
    const noise = this.gaussian(0.05);
    let norm = 0;
    for (let i = 0; i < DIM; i++) {
      state.drift[i] = 0.995 * (state.drift[i] as number) + (step[i] as number);
      const v = (base[i] as number) + (scene[i] as number) + (state.drift[i] as number) + (noise[i] as number);
      out[offset + i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < DIM; i++) out[offset + i] = (out[offset + i] as number) / norm;
  }

  /** A stored vector seen again a little differently (another view of the same moment: a look-alike query). */
  near(vector: Float32Array): Float32Array {
    const noise = this.gaussian(0.05);
    const v = vector.map((x, i) => x + (noise[i] as number));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  }

  /** A query that looks like nothing stored in particular (a text: far from every frame). */
  textLike(): Float32Array {
    const v = this.gaussian(1);
    const camera = this.cameras[Math.floor(this.random() * this.cameras.length)] as Float32Array;
    let norm = 0;
    for (let i = 0; i < DIM; i++) {
      v[i] = (v[i] as number) + 0.4 * (camera[i] as number);
      norm += (v[i] as number) ** 2;
    }
    return v.map((x) => x / Math.sqrt(norm));
  }
}

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
out(`# Search benchmark`);
out();
out(
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. ` +
    `Vectors: ${DIM}-d, synthetic, frame after frame like a camera's CLIP embeddings (see bench/search/run.ts). ` +
    `\`npm run search -w @vad/bench -- --vectors ${VECTORS} --queries ${QUERIES}\`.`,
);

// 1. Exact search of one camera-night through the service.
{
  log('1. one camera-night in PostgreSQL…');
  const database = await createTestDatabase();
  try {
    const { repos } = database;
    const generator = new CameraVectors(7, 1);
    const pipelineConfig = pipelineConfigSchema.parse({
      model: MODEL,
      sampleFps: 2,
      segmentFrames: 256,
      clipFrames: 16,
      clipStride: 8,
      inputSize: 224,
    });
    const night = new Float32Array(NIGHT_VIDEOS * FRAMES_PER_VIDEO * DIM);
    const [, writeMs] = await (async () => {
      const t = performance.now();
      for (let v = 0; v < NIGHT_VIDEOS; v++) {
        const { videoId } = await seedScoredVideo(repos, {
          camera: 'yard',
          pipelineConfig,
          durationMs: FRAMES_PER_VIDEO * 500,
          recordedAt: new Date(Date.UTC(2026, 10, 28, 22 + v)),
        });
        // seedScoredVideo records the tiny model: this night is the benchmark model's.
        await database.db.update(videos).set({ model: MODEL }).where(eq(videos.id, videoId));
        for (let start = 0; start < FRAMES_PER_VIDEO; start += 1200) {
          const rows = [];
          for (let f = start; f < Math.min(FRAMES_PER_VIDEO, start + 1200); f++) {
            const offset = (v * FRAMES_PER_VIDEO + f) * DIM;
            generator.frame(0, night, offset);
            rows.push({
              videoId,
              frameIndex: f,
              model: MODEL,
              ptsMs: f * 500,
              dtype: 'float16' as const,
              embedding: encodeEmbedding(night.subarray(offset, offset + DIM), 'float16'),
            });
          }
          await repos.frameEmbeddings.upsertMany(rows);
        }
        await repos.videos.recordIngestProgress(videoId, FRAMES_PER_VIDEO, 1);
      }
      return [undefined, performance.now() - t] as const;
    })();
    log(`   wrote ${NIGHT_VIDEOS * FRAMES_PER_VIDEO} rows in ${(writeMs / 1000).toFixed(1)} s`);
    const queryVectors = new Map<string, Float32Array>();
    const texts = new TextQueries(
      async () => ({
        encode: async (prompts) => prompts.map((p) => queryVectors.get(p.slice(p.indexOf('#'))) as Float32Array),
        tokenCount: () => 10,
        contextLength: 77,
      }),
      repos.textEmbeddings,
    );
    const service = new SearchService({
      sources: searchSources(repos),
      texts,
      vectors: new VectorCache((id, model) => repos.frameEmbeddings.loadVectors(id, model), 2 ** 30),
      defaultModel: MODEL,
      exactMaxFrames: 250_000,
    });
    const query = (i: number) => {
      const text = `#${i}`;
      queryVectors.set(text, generator.textLike());
      return service.search({ text, limit: 10 });
    };
    const coldStart = performance.now();
    const cold = await query(-1);
    const coldMs = performance.now() - coldStart;
    if (cold.framesSearched !== NIGHT_VIDEOS * FRAMES_PER_VIDEO)
      throw new Error(`searched ${cold.framesSearched} frames`);
    const warm: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const t = performance.now();
      await query(i);
      warm.push(performance.now() - t);
    }
    warm.sort((a, b) => a - b);
    const kernel = new DotProducts(night.slice(), DIM);
    const scores = new Float32Array(night.length / DIM);
    const floor: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const q = generator.textLike();
      floor.push(timed(() => kernel.one(q, scores))[1]);
    }
    floor.sort((a, b) => a - b);
    out();
    out(
      `## Exact search of one camera-night (${NIGHT_VIDEOS * FRAMES_PER_VIDEO} frames, 8 videos, float16 in PostgreSQL)`,
    );
    out();
    out('| | p50 | p95 |');
    out('|---|---|---|');
    out(
      `| SearchService.search, vectors cached (${QUERIES} distinct queries) | ${ms(percentile(warm, 50))} | ${ms(percentile(warm, 95))} |`,
    );
    out(
      `| floor: the dot-product kernel alone over the same vectors | ${ms(percentile(floor, 50))} | ${ms(percentile(floor, 95))} |`,
    );
    out(`| first query: the night's vectors loaded from PostgreSQL | ${ms(coldMs)} | |`);
    out();
    out(
      `The search includes the text cache lookup in PostgreSQL, the videos in scope, per-camera statistics, ` +
        `moments and ranking; the vectors it keeps for the night take ${(kernel.bytes / 2 ** 20).toFixed(0)} MiB ` +
        `(VAD_SEARCH_CACHE_MB bounds them).`,
    );
  } finally {
    await database.destroy();
  }
}

// 2. The index at a million vectors.
{
  log(`2. ${VECTORS} vectors in the index…`);
  const cameras = 100;
  const perVideo = 10_000;
  const generator = new CameraVectors(11, cameras);
  const all = new Float32Array(VECTORS * DIM);
  for (let i = 0; i < VECTORS; i++) generator.frame(Math.floor(i / perVideo) % cameras, all, i * DIM);
  const index = FrameIndex.create(MODEL, DIM);
  const frames = Int32Array.from({ length: perVideo }, (_, i) => i);
  const buildStart = performance.now();
  for (let v = 0; v * perVideo < VECTORS; v++) {
    const n = Math.min(perVideo, VECTORS - v * perVideo);
    index.add(
      { id: `video-${v}`, cameraId: v % cameras },
      frames.subarray(0, n),
      all.subarray(v * perVideo * DIM, (v * perVideo + n) * DIM),
    );
    if (v % 10 === 9) log(`   ${(v + 1) * perVideo} added, ${((performance.now() - buildStart) / 1000).toFixed(0)} s`);
  }
  const buildMs = performance.now() - buildStart;
  const rss = process.memoryUsage().rss;
  const folder = await mkdtemp(join(tmpdir(), 'vad-bench-index-'));
  await index.save(folder);
  const fileBytes = (await stat(join(folder, 'index.usearch'))).size + (await stat(join(folder, 'index.json'))).size;
  const [, loadMs] = await (async () => {
    const t = performance.now();
    await FrameIndex.load(folder);
    return [undefined, performance.now() - t] as const;
  })();
  await rm(folder, { recursive: true, force: true });

  // Exact top-10 (the truth, and the latency the index saves) over shards of the kernel.
  const shard = 250_000;
  const kernels: DotProducts[] = [];
  for (let s = 0; s * shard < VECTORS; s++)
    kernels.push(new DotProducts(all.subarray(s * shard * DIM, Math.min(VECTORS, (s + 1) * shard) * DIM), DIM));
  const scores = new Float32Array(VECTORS);
  const exactTop = (q: Float32Array): number[] => {
    let offset = 0;
    for (const k of kernels) {
      const part = new Float32Array(k.rows);
      k.one(q, part);
      scores.set(part, offset);
      offset += k.rows;
    }
    const top: number[] = [];
    for (let i = 0; i < VECTORS; i++) {
      if (top.length < 10 || (scores[i] as number) > (scores[top[9] as number] as number)) {
        top.push(i);
        top.sort((a, b) => (scores[b] as number) - (scores[a] as number));
        if (top.length > 10) top.pop();
      }
    }
    return top;
  };
  const kinds = [
    [
      'look-alike (a stored frame seen again)',
      () => {
        const i = Math.floor(Math.random() * VECTORS);
        return generator.near(all.subarray(i * DIM, (i + 1) * DIM));
      },
    ],
    ['text-like (far from every frame)', () => generator.textLike()],
  ] as const;
  out();
  out(`## Nearest-neighbour index (usearch HNSW, float16, M=16, ef=512) at ${VECTORS.toLocaleString('en')} vectors`);
  out();
  out(
    `Built in ${(buildMs / 1000).toFixed(0)} s (${((VECTORS / buildMs) * 1000).toFixed(0)} vectors/s on ${cpus().length} threads); ` +
      `${(fileBytes / 2 ** 30).toFixed(2)} GiB on disk, loaded in ${(loadMs / 1000).toFixed(1)} s; process RSS ${(rss / 2 ** 30).toFixed(1)} GiB with the raw vectors.`,
  );
  out();
  out(
    '| queries | index top-10 p50 | p95 | recall@10 | recall@10 of 100 candidates re-scored | videos of the true top 10 found | exact (every vector) p50 | p95 |',
  );
  out('|---|---|---|---|---|---|---|---|');
  for (const [name, make] of kinds) {
    const indexMs: number[] = [];
    const exactMs: number[] = [];
    let hits = 0;
    let reranked = 0;
    let videosFound = 0;
    let videosWanted = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q = make();
      const [found, t1] = timed(() => index.search(q, 10, 1));
      indexMs.push(t1);
      const [truth, t2] = timed(() => exactTop(q));
      exactMs.push(t2);
      const key = (row: number) => `video-${Math.floor(row / perVideo)}/${row % perVideo}`;
      const want = new Set(truth.map(key));
      hits += found.filter((h) => want.has(`${h.videoId}/${h.frameIndex}`)).length;
      // What the search service does with the index: 100 candidates, scored exactly.
      const candidates = index.search(q, 100, 1).map((h) => Number(h.videoId.slice(6)) * perVideo + h.frameIndex);
      const dot = (row: number) => {
        let d = 0;
        for (let j = 0; j < DIM; j++) d += (all[row * DIM + j] as number) * (q[j] as number);
        return d;
      };
      const best = candidates.sort((a, b) => dot(b) - dot(a)).slice(0, 10);
      reranked += best.filter((row) => want.has(key(row))).length;
      const wantedVideos = new Set(truth.map((row) => Math.floor(row / perVideo)));
      const foundVideos = new Set(candidates.map((row) => Math.floor(row / perVideo)));
      videosWanted += wantedVideos.size;
      videosFound += [...wantedVideos].filter((v) => foundVideos.has(v)).length;
    }
    indexMs.sort((a, b) => a - b);
    exactMs.sort((a, b) => a - b);
    out(
      `| ${name} | ${ms(percentile(indexMs, 50))} | ${ms(percentile(indexMs, 95))} | ${(hits / (QUERIES * 10)).toFixed(3)} | ` +
        `${(reranked / (QUERIES * 10)).toFixed(3)} | ${(videosFound / videosWanted).toFixed(3)} | ` +
        `${ms(percentile(exactMs, 50))} | ${ms(percentile(exactMs, 95))} |`,
    );
  }
  out();
  out(
    "recall@10: the index's own top 10 against the exact top 10. A search through the index asks it for at least 100 " +
      'candidates and then scores the videos holding them exactly (as in part 1), so what counts for its results is ' +
      'whether those videos are found (last recall column) and the top 10 once re-scored.',
  );
}

await writeFile(args.out, `${lines.join('\n')}\n`);
log(`written to ${args.out}`);
