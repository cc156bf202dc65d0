import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DecodedFrame, type DecodeOptions, decodeFrames, resolveFfmpegBinaries } from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vad-resume-'));
const binaries = resolveFfmpegBinaries();
const SIZE = 48;
const SAMPLE_FPS = 2;
/** Frames per segment, as VAD_SEGMENT_FRAMES: resuming at segment k starts at frame k × 8 (4 s). */
const SEGMENT = 8;

type Resume = Parameters<NonNullable<DecodeOptions['onResume']>>[0];

/** 30-second recordings whose keyframes are not on the sampling grid, as cameras write them. */
const fixtures = {
  /** 25 fps, B-frames, a keyframe every 37 frames (1.48 s). */
  bframes: {
    path: join(dir, 'bframes.mp4'),
    args: ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=30', '-c:v', 'libx264', '-preset', 'veryfast'],
    extra: ['-g', '37', '-bf', '3'],
  },
  /** NTSC rate (30000/1001), a keyframe every 10 s: most of a GOP is decoded and dropped after the seek. */
  ntsc: {
    path: join(dir, 'ntsc.mp4'),
    args: ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=30000/1001:d=30', '-c:v', 'libx264', '-preset', 'ultrafast'],
    extra: ['-g', '300'],
  },
  /** The picture starts 0.62 s after the sound: a decode from the start has its first frame at slot 1 (500 ms). */
  late: {
    path: join(dir, 'late.mkv'),
    args: [
      ...['-itsoffset', '0.62', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=30'],
      ...['-f', 'lavfi', '-i', 'sine=d=31', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
    ],
    extra: ['-g', '50'],
  },
  /**
   * The same as MPEG-TS: there ffmpeg moves the start to the picture's own (frame 0 at 0 ms), but only
   * when it does not seek; a seek with plain timestamps would shift every frame by 0.62 s.
   */
  lateTransport: {
    path: join(dir, 'late.ts'),
    args: [
      ...['-itsoffset', '0.62', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=30'],
      ...['-f', 'lavfi', '-i', 'sine=d=31', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
    ],
    extra: ['-g', '50', '-f', 'mpegts'],
  },
  /** MPEG-TS cut from a longer stream (starts at 10 s), as NVRs write. */
  transport: {
    path: join(dir, 'nvr.ts'),
    args: ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=30', '-c:v', 'libx264', '-preset', 'ultrafast'],
    extra: ['-g', '50', '-output_ts_offset', '10', '-f', 'mpegts'],
  },
  /** MPEG-TS with a keyframe every 10 s: a seek there lands on the next keyframe after the seek point. */
  transportLongGop: {
    path: join(dir, 'nvr-long-gop.ts'),
    args: ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=30', '-c:v', 'libx264', '-preset', 'ultrafast'],
    extra: ['-g', '250', '-sc_threshold', '0', '-f', 'mpegts'],
  },
} as const;
type Fixture = keyof typeof fixtures;

async function decodeAll(path: string, options: Partial<DecodeOptions> = {}): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeFrames(path, binaries, { sampleFps: SAMPLE_FPS, size: SIZE, ...options })) {
    frames.push(frame);
  }
  return frames;
}

/** The largest difference of one colour value between two frames. */
function maxDifference(a: Buffer, b: Buffer): number {
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

const full = new Map<Fixture, DecodedFrame[]>();

beforeAll(async () => {
  for (const fixture of Object.values(fixtures)) {
    await run(binaries.ffmpeg, ['-y', '-loglevel', 'error', ...fixture.args, ...fixture.extra, fixture.path]);
  }
  for (const name of Object.keys(fixtures) as Fixture[]) full.set(name, await decodeAll(fixtures[name].path));
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('decodeFrames resuming at a frame', () => {
  it('decodes the fixtures from the start on the sampling grid', () => {
    for (const name of ['bframes', 'ntsc', 'transport', 'lateTransport'] as const) {
      const frames = full.get(name) ?? [];
      expect(frames.length).toBeGreaterThanOrEqual(59);
      expect(frames.slice(0, 3).map((f) => f.ptsMs)).toEqual([0, 500, 1000]);
    }
    // The picture starts late: its first frame is the grid's second slot.
    const late = full.get('late') ?? [];
    expect(late.slice(0, 3).map((f) => [f.index, f.ptsMs])).toEqual([
      [0, 500],
      [1, 1000],
      [2, 1500],
    ]);
  });

  it.each([
    ['bframes', 1],
    ['bframes', 4],
    ['bframes', 6],
    ['ntsc', 3],
    ['ntsc', 5],
    ['late', 2],
    ['late', 5],
    ['lateTransport', 2],
    ['lateTransport', 5],
    ['transport', 3],
  ] as const)('gives the frames a full decode gives, from segment k on (%s, k = %i)', async (name, k) => {
    const expected = (full.get(name) ?? []).slice(k * SEGMENT);
    const resumes: Resume[] = [];
    const resumed = await decodeAll(fixtures[name].path, {
      startIndex: k * SEGMENT,
      onResume: (resume) => resumes.push(resume),
    });
    expect(resumed.map((f) => [f.index, f.ptsMs])).toEqual(expected.map((f) => [f.index, f.ptsMs]));
    // The same pictures: decoded from the same keyframe on, they are normally identical to the byte.
    const differences = resumed.map((frame, i) => maxDifference(frame.rgb, expected[i]?.rgb ?? Buffer.alloc(0)));
    expect(Math.max(...differences)).toBeLessThanOrEqual(2);
    expect(resumed.every((frame) => frame.rgb.length === SIZE * SIZE * 3)).toBe(true);
    // It seeked: ffmpeg started at least 2 s before the resume point, and not from the start.
    expect(resumes).toHaveLength(1);
    expect(resumes[0]?.fromStart).toBeUndefined();
    expect(resumes[0]?.seekS).toBeGreaterThan(0);
    expect(resumes[0]?.seekS).toBeLessThanOrEqual((expected[0]?.ptsMs ?? 0) / 1000 - 2);
  });

  it('seeks further back when the seek lands after the resume point (MPEG-TS lands on the next keyframe)', async () => {
    // Resume at 16 s: a seek to 14 s lands on the keyframe at 20 s, one to 6 s on the keyframe at 10 s.
    const resumes: Resume[] = [];
    const resumed = await decodeAll(fixtures.transportLongGop.path, {
      startIndex: 32,
      onResume: (resume) => resumes.push(resume),
    });
    const expected = (full.get('transportLongGop') ?? []).slice(32);
    expect(resumed.map((f) => [f.index, f.ptsMs])).toEqual(expected.map((f) => [f.index, f.ptsMs]));
    expect(resumed.every((f, i) => maxDifference(f.rgb, expected[i]?.rgb ?? Buffer.alloc(0)) <= 2)).toBe(true);
    expect(resumes).toEqual([{ startIndex: 32, seekS: 6 }]);
  });

  it('decodes from the start, dropping what comes before, when the resume point is too early for a seek', async () => {
    const resumes: Resume[] = [];
    const resumed = await decodeAll(fixtures.bframes.path, { startIndex: 3, onResume: (r) => resumes.push(r) });
    const expected = (full.get('bframes') ?? []).slice(3);
    expect(resumed.map((f) => [f.index, f.ptsMs])).toEqual(expected.map((f) => [f.index, f.ptsMs]));
    expect(resumed.every((f, i) => f.rgb.equals(expected[i]?.rgb ?? Buffer.alloc(0)))).toBe(true);
    expect(resumes).toEqual([{ startIndex: 3, seekS: undefined, fromStart: expect.stringMatching(/too close/) }]);
  });

  it('gives nothing when the resume point is past the end (every segment was written)', async () => {
    const count = full.get('bframes')?.length ?? 0;
    const resumes: Resume[] = [];
    const resumed = await decodeAll(fixtures.bframes.path, { startIndex: count, onResume: (r) => resumes.push(r) });
    expect(resumed).toEqual([]);
    expect(resumes[0]?.seekS).toBeGreaterThan(0);
  });
});

describe('decodeFrames when ffmpeg exits late', () => {
  it('waits for the exit status after the output closes, instead of failing a good video (as under load)', async () => {
    // ffmpeg closes its output, then takes 300 ms to exit: fluent-ffmpeg alone would report
    // "Output stream closed" 20 ms after the output closed and kill it.
    const slow = join(dir, 'slow-exit-ffmpeg');
    await writeFile(slow, `#!/bin/sh\n"${binaries.ffmpeg}" "$@"\nstatus=$?\nexec 1>&-\nsleep 0.3\nexit $status\n`);
    await chmod(slow, 0o755);
    const frames: DecodedFrame[] = [];
    for await (const frame of decodeFrames(
      fixtures.bframes.path,
      { ...binaries, ffmpeg: slow },
      { sampleFps: 2, size: SIZE },
    )) {
      frames.push(frame);
    }
    expect(frames).toHaveLength(60);
  });
});
