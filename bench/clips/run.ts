/**
 * bench/clips: how fast the API makes an event's browser-playable clip
 * (makeEventClip: an H.264 source cut without re-encoding; others decoded,
 * scaled to 640 wide, libx264 ultrafast with deblocking and CABAC, CRF 28;
 * faststart MP4), as clip-seconds per wall-second (× real time),
 * beside the raw limit in the same run: plain ffmpeg decoding the same span
 * of the same file to nowhere (`-ss` before `-i`, `-f null -`), alternated
 * clip by clip so both see the same machine.
 *
 * Sources, 1280x720 25 fps, `--duration` long (default 600 s), cached in
 * bench/.cache: the camera-like H.264 MP4 the other benchmarks use (moving
 * test pattern with sensor noise, 1.8 Mbit/s: a hard case), the same as HEVC
 * in Matroska (what a browser cannot play), and a quiet scene (still
 * background, one moving object, light noise: what most cameras film).
 * `--clips` events of `--event` seconds at random positions (seeded), each
 * with the clip's pre- and post-roll.
 *
 *   npm run clips -w @vad/bench -- [--duration 600] [--clips 10] [--event 10] [--seed 13]
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  type ClipSpan,
  clipSpan,
  type EventClipOptions,
  makeEventClip,
  resolveFfmpegBinaries,
  synthesizeVideo,
} from '@vad/video';
import { benchVideo, CACHE_DIR } from '../lib/bench-video.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    clips: { type: 'string', default: '10' },
    event: { type: 'string', default: '10' },
    seed: { type: 'string', default: '13' },
  },
});
const durationS = Number(args.duration);
const clipCount = Number(args.clips);
const eventS = Number(args.event);
const binaries = resolveFfmpegBinaries();
const run = promisify(execFile);
const quiet = ['-hide_banner', '-loglevel', 'error', '-y'];

/** A long file made of a generated minute repeated by stream copy (as benchVideo does). */
async function looped(chunk: string, target: string, format: string): Promise<string> {
  if (existsSync(target)) return target;
  const tmp = `${target}.tmp`;
  const loops = Math.ceil(durationS / 60) - 1;
  await run(binaries.ffmpeg, [
    ...[...quiet, '-stream_loop', String(loops), '-i', chunk],
    ...['-t', String(durationS), '-map', '0:v:0', '-c', 'copy', '-f', format, tmp],
  ]);
  await rename(tmp, target);
  return target;
}

/** The camera-like pattern as HEVC (x265 ultrafast, the same bitrate) in Matroska. */
async function hevcMkv(h264Minute: string): Promise<string> {
  const chunk = join(CACHE_DIR, 'pattern-1280x720p25-60s-hevc.mkv');
  if (!existsSync(chunk)) {
    const tmp = `${chunk}.tmp`;
    await run(binaries.ffmpeg, [
      ...[...quiet, '-i', h264Minute, '-map', '0:v:0', '-c:v', 'libx265', '-preset', 'ultrafast'],
      ...['-b:v', '1778k', '-x265-params', 'log-level=error:keyint=50', '-f', 'matroska', tmp],
    ]);
    await rename(tmp, chunk);
  }
  return looped(chunk, join(CACHE_DIR, `pattern-1280x720p25-${durationS}s-hevc.mkv`), 'matroska');
}

/** A still grey yard with a box crossing it and light sensor noise, H.264 MP4. */
async function quietScene(): Promise<string> {
  const chunk = join(CACHE_DIR, 'quiet-1280x720p25-60s.mp4');
  if (!existsSync(chunk)) {
    const tmp = `${chunk}.tmp.mp4`;
    await synthesizeVideo(
      tmp,
      {
        durationS: 60,
        width: 1280,
        height: 720,
        fps: 25,
        source: 'color=c=0x606860',
        filters:
          "drawbox=x='mod(t*120,1280)':y=300:w=120:h=200:color=0x303840:t=fill," +
          'drawbox=x=100:y=80:w=300:h=120:color=0x8a8a80:t=fill,noise=alls=2:allf=t',
        preset: 'veryfast',
        bitrate: 1_000_000,
      },
      binaries,
    );
    await rename(tmp, chunk);
  }
  return looped(chunk, join(CACHE_DIR, `quiet-1280x720p25-${durationS}s.mp4`), 'mp4');
}

/** Seconds plain ffmpeg takes to decode the span, output to nowhere: the limit for any clip of it. */
function plainDecodeSpan(path: string, span: ClipSpan): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.ffmpeg, [
      ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-ss', String(span.fromMs / 1000), '-i', path],
      ...['-t', String((span.toMs - span.fromMs) / 1000), '-map', '0:v:0', '-f', 'null', '-'],
    ]);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`ffmpeg exited ${code}`)),
    );
  });
}

/** Deterministic event positions (mulberry32). */
function randomSpans(seed: number): ClipSpan[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: clipCount }, () => {
    const startMs = Math.round(next() * (durationS - eventS) * 1000);
    return clipSpan({ startMs, endMs: startMs + eventS * 1000 }, durationS * 1000);
  });
}

/**
 * CPU seconds the whole machine has spent busy (user, nice, system, irq,
 * softirq in /proc/stat; not idle, iowait or steal); null off Linux. Taken
 * around each clip, on an otherwise idle machine: the clip's CPU cost, steadier
 * than its wall time on a shared VM.
 */
async function busyCpuSeconds(): Promise<number | null> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => null);
  const fields = stat?.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
  if (!fields || fields.length < 7) return null;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return (user + nice + system + irq + softirq) / 100; // USER_HZ
}

interface Measured {
  clipS: number[];
  clipCpuS: number[];
  decodeS: number[];
  spanS: number[];
  bytes: number[];
}

const work = mkdtempSync(join(tmpdir(), 'vad-bench-clips-'));

async function measure(path: string, spans: ClipSpan[], options: EventClipOptions = {}): Promise<Measured> {
  const result: Measured = { clipS: [], clipCpuS: [], decodeS: [], spanS: [], bytes: [] };
  // Warm-up (page cache, binaries): not counted.
  const [first] = spans;
  if (first) {
    await makeEventClip(path, join(work, 'warm.mp4'), first, binaries, options);
    await plainDecodeSpan(path, first);
  }
  for (const [n, span] of spans.entries()) {
    const target = join(work, `${n}.mp4`);
    const cpuBefore = await busyCpuSeconds();
    const started = performance.now();
    const clip = await makeEventClip(path, target, span, binaries, options);
    result.clipS.push((performance.now() - started) / 1000);
    const cpuAfter = await busyCpuSeconds();
    if (cpuBefore !== null && cpuAfter !== null) result.clipCpuS.push(cpuAfter - cpuBefore);
    result.bytes.push(clip.bytes);
    result.decodeS.push(await plainDecodeSpan(path, span));
    result.spanS.push((span.toMs - span.fromMs) / 1000);
    await rm(target, { force: true });
  }
  return result;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const speeds = (seconds: number[], spanS: number[]) => seconds.map((s, i) => (spanS[i] ?? 0) / s);

try {
  const pattern = await benchVideo({ width: 1280, height: 720, fps: 25, durationS });
  const patternMinute = await benchVideo({ width: 1280, height: 720, fps: 25, durationS: 60 });
  const transcode = { method: 'transcode' } as const;
  const sources: [string, string, EventClipOptions][] = [
    ['quiet scene, H.264 MP4 (cut, as served)', await quietScene(), {}],
    ['camera-like pattern, H.264 MP4 (cut, as served)', pattern, {}],
    ['camera-like pattern, HEVC MKV (transcoded, as served)', await hevcMkv(patternMinute), {}],
    ['quiet scene, H.264 MP4, transcoded', await quietScene(), transcode],
    ['camera-like pattern, H.264 MP4, transcoded', pattern, transcode],
    ['camera-like pattern, H.264 MP4, transcoded, preset veryfast', pattern, { ...transcode, preset: 'veryfast' }],
  ];
  const spans = randomSpans(Number(args.seed));
  const summary: string[] = [];
  const detail: string[] = [];
  for (const [label, path, options] of sources) {
    const m = await measure(path, spans, options);
    const clipSpeed = sum(m.spanS) / sum(m.clipS);
    const decodeSpeed = sum(m.spanS) / sum(m.decodeS);
    const row =
      `| ${label} | ${clipSpeed.toFixed(1)}× | ${median(speeds(m.clipS, m.spanS)).toFixed(1)}× | ` +
      `${Math.min(...speeds(m.clipS, m.spanS)).toFixed(1)}× | ${median(m.clipS).toFixed(2)} s | ` +
      `${m.clipCpuS.length ? `${median(m.clipCpuS).toFixed(2)} s` : 'n/a'} | ` +
      `${decodeSpeed.toFixed(1)}× | ${((clipSpeed / decodeSpeed) * 100).toFixed(0)}% | ${Math.round(median(m.bytes) / 1024)} KiB |`;
    console.log(row);
    summary.push(row);
    detail.push(
      `| ${label} | ${m.clipS.map((s) => s.toFixed(2)).join(' / ')} | ${m.decodeS.map((s) => s.toFixed(2)).join(' / ')} |`,
    );
  }
  const cpu = cpus();
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim()}, ffmpeg from ${binaries.source.ffmpeg} (${binaries.ffmpeg.split('/').slice(-3).join('/')}).`,
    `${clipCount} events of ${eventS} s at random positions (seed ${args.seed}) in ${durationS} s 1280x720 25 fps sources; each clip spans the event plus 5 s before and 3 s after (${(sum(spans.map((s) => s.toMs - s.fromMs)) / 1000 / clipCount).toFixed(1)} s on average).`,
    'Clip: makeEventClip as the API runs it: an H.264 4:2:0 source up to 1080p in MP4 or Matroska is cut without re-encoding (stream copy from the key frame before the span, the frames before it hidden by an edit list); ' +
      'any other is transcoded (input seek, 640 px wide, libx264 ultrafast with deblocking and CABAC, CRF 28, 2 encoder threads). Both faststart MP4. ' +
      'The rows "transcoded" force the transcode on an H.264 source, "preset veryfast" with that preset instead. ' +
      'Raw limit: plain ffmpeg decoding the same span to nowhere (`-ss` before `-i`, `-f null -`), run after each clip. ' +
      "Speed = clip-seconds per wall-second (× real time). CPU time: the machine's busy time (/proc/stat) while the clip was made.",
    '',
    '| source | clips, overall | clips, median | clips, slowest | clip wall time, median | clip CPU time, median | raw decode limit | clip / limit | clip size, median |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summary,
    '',
    'Per clip, wall seconds (clip / plain decode of the same span):',
    '',
    '| source | clip | plain decode |',
    '| --- | --- | --- |',
    ...detail,
    '',
  ].join('\n');
  await writeFile(join(import.meta.dirname, '..', 'results', 'clips.md'), report);
  console.log(`\n${report}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
