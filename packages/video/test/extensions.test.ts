import { mkdtempSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_EXTENSIONS, generateVideoWithExtension } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DecodedFrame,
  decodeFrames,
  isStaticElf,
  probeVideo,
  resolveFfmpegBinaries,
  STATIC_GLIBC_WORKAROUND,
  VIDEO_EXTENSIONS,
} from '../src/index.js';

/**
 * Every extension vad accepts (`vad submit DIR`, `vad watch`), as a file the
 * binaries vad picks (on a fresh machine: the static builds from npm) made
 * from lavfi's testsrc, probed and decoded as ingest does.
 */
const dir = mkdtempSync(join(tmpdir(), 'vad-extensions-'));
const binaries = resolveFfmpegBinaries();
const DURATION_S = 3;
const FPS = 25;
const WIDTH = 160;
const HEIGHT = 120;
/** vad's default VAD_SAMPLE_FPS. */
const SAMPLE_FPS = 2;
const SIZE = 32;

const EXTENSIONS = [...VIDEO_EXTENSIONS];

const CODECS: Record<string, string> = {
  '.avi': 'mpeg4',
  '.webm': 'vp8',
  '.mpg': 'mpeg2video',
  '.mpeg': 'mpeg2video',
  '.wmv': 'wmv2',
  '.h265': 'hevc',
  '.hevc': 'hevc',
};

const files = new Map<string, string>();
const decoded = new Map<string, DecodedFrame[]>();

beforeAll(async () => {
  // Two at a time: ffmpeg runs single-threaded at this size, and the test machine has two cores.
  const queue = [...EXTENSIONS];
  const worker = async () => {
    for (let ext = queue.shift(); ext; ext = queue.shift()) {
      const path = await generateVideoWithExtension(dir, ext, {
        durationS: DURATION_S,
        width: WIDTH,
        height: HEIGHT,
        fps: FPS,
        source: 'testsrc',
      });
      files.set(ext, path);
    }
  };
  await Promise.all([worker(), worker()]);
}, 60_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

async function decodeAll(path: string): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeFrames(path, binaries, { sampleFps: SAMPLE_FPS, size: SIZE })) frames.push(frame);
  return frames;
}

function meanAbsoluteDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

it('has a generator for every accepted extension', () => {
  expect([...GENERATED_EXTENSIONS.keys()].sort()).toEqual([...EXTENSIONS].sort());
});

it('works around the static glibc builds (MPEG-TS crashed the npm ffprobe)', () => {
  if ([binaries.ffmpeg, binaries.ffprobe].some(isStaticElf) && process.platform === 'linux') {
    expect(process.env.GCONV_PATH).toBeDefined();
    expect(binaries.workarounds?.length).toBe(1);
    if (binaries.workarounds?.[0]?.startsWith('GCONV_PATH set (empty)')) {
      expect(binaries.workarounds).toEqual([STATIC_GLIBC_WORKAROUND]);
    }
  } else expect(binaries.workarounds).toEqual([]);
  if (binaries.source.ffprobe === 'npm') expect(binaries.version?.ffprobe).toMatch(/\d/);
});

it('measures streams without a usable duration from their packets, at their own frame rate', async () => {
  // ffprobe says 25 fps (the raw demuxer's default) and no duration; ffmpeg decodes at the stream's 10 fps.
  const raw = await generateVideoWithExtension(dir, '.h264', {
    durationS: 3,
    width: WIDTH,
    height: HEIGHT,
    fps: 10,
    name: 'slow',
  });
  expect(await probeVideo(raw, binaries)).toMatchObject({ durationMs: 3000, fps: 10, frameCount: 30 });
  expect((await decodeAll(raw)).map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  // DHAV under a second: its demuxer's whole-second duration is 0, vad measures 0.8 s.
  const dav = await generateVideoWithExtension(dir, '.dav', {
    durationS: 0.8,
    width: WIDTH,
    height: HEIGHT,
    fps: 10,
    name: 'short',
  });
  expect(await probeVideo(dav, binaries)).toMatchObject({ container: 'dhav', durationMs: 800, fps: 10, frameCount: 8 });
  // Slot 1 (500 ms) comes too only where ffmpeg knows the last frame's duration (DHAV packets say 1 ms):
  // not with the 2018 npm ffmpeg.
  const shortFrames = (await decodeAll(dav)).map((f) => f.ptsMs);
  expect([[0], [0, 500]]).toContainEqual(shortFrames);
});

describe.each(EXTENSIONS)('%s', (ext) => {
  it('is generated', async () => {
    const path = files.get(ext);
    expect(path?.endsWith(ext)).toBe(true);
    expect((await stat(path ?? '')).size).toBeGreaterThan(1000);
  });

  it('probes: size, codec, frame rate and duration', async () => {
    const probe = await probeVideo(files.get(ext) ?? '', binaries);
    expect(probe).toMatchObject({ width: WIDTH, height: HEIGHT, rotation: 0, hasAudio: false });
    expect(probe.codec).toBe(CODECS[ext] ?? 'h264');
    expect(probe.fps).toBeCloseTo(FPS, 1);
    if (ext === '.dav') {
      // The DHAV demuxer measures whole seconds between its first and last frames' dates: 0 to 2 s here.
      expect(probe.durationMs).toBe((DURATION_S - 1) * 1000);
    } else {
      expect(probe.durationMs).toBeGreaterThanOrEqual(DURATION_S * 1000 - 100);
      expect(probe.durationMs).toBeLessThanOrEqual(DURATION_S * 1000 + 100);
    }
    // Raw streams have no duration: it is measured from the packets, which counts the frames too.
    if (['.h264', '.h265', '.hevc'].includes(ext)) expect(probe.frameCount).toBe(DURATION_S * FPS);
  });

  it('decodes every sampling slot, in order, with the picture', async () => {
    const frames = await decodeAll(files.get(ext) ?? '');
    decoded.set(ext, frames);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    for (const frame of frames) expect(frame.rgb.length).toBe(SIZE * SIZE * 3);
    // The same testsrc picture as the MP4's (lossy codecs differ a little, a wrong or grey frame a lot).
    const reference = decoded.get('.mp4') ?? (await decodeAll(files.get('.mp4') ?? ''));
    for (const [i, frame] of frames.entries()) {
      expect(meanAbsoluteDifference(frame.rgb, reference[i]?.rgb ?? Buffer.alloc(0))).toBeLessThan(8);
    }
  });
});
