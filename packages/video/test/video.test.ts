import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DecodedFrame,
  type DecodeOptions,
  type DisplayRotation,
  decodeFrames,
  InvalidVideoError,
  probeVideo,
  resolveFfmpegBinaries,
  setDisplayRotation,
  synthesizeAudioOnly,
  synthesizeVideo,
  truncateCopy,
  writeTextAsVideo,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vad-video-'));
const binaries = resolveFfmpegBinaries();
const files = {
  pattern: join(dir, 'pattern.mp4'),
  wide: join(dir, 'wide.mp4'),
  audio: join(dir, 'audio.m4a'),
  text: join(dir, 'text.mp4'),
  truncated: join(dir, 'truncated.mp4'),
  /** 0.12 s at 25 fps: 3 frames, shorter than one 2 fps sampling interval; only the first frame is red. */
  short: join(dir, 'short.mp4'),
  /** A single frame. */
  single: join(dir, 'single.mp4'),
  /** 640x360, top sixth red: rotated 90° clockwise for display by `setDisplayRotation`. */
  landscape: join(dir, 'landscape.mp4'),
  landscapeTurned: join(dir, 'landscape-turned.mp4'),
};

/** Upright footage of a phone held upright (rotation 90) or otherwise: top half red, bottom half blue. */
const upright = (rotation: DisplayRotation) => join(dir, `upright-${rotation}.mp4`);
const ROTATIONS = [90, 180, 270] as const;
const HALVES = { source: 'color=c=blue', filters: 'drawbox=x=0:y=0:w=iw:h=ih/2:color=red:t=fill' };

async function decodeAll(path: string, options: DecodeOptions): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeFrames(path, binaries, options)) frames.push(frame);
  return frames;
}

/** The colour of the pixel at (x, y) of a size×size RGB frame, roughly. */
function colourAt(frame: DecodedFrame | undefined, size: number, x: number, y: number): string {
  const i = (y * size + x) * 3;
  const [r = 0, g = 0, b = 0] = frame?.rgb.subarray(i, i + 3) ?? [];
  if (r > 180 && g < 80 && b < 80) return 'red';
  if (b > 180 && r < 80 && g < 80) return 'blue';
  if (r > 90 && r < 170 && Math.abs(r - g) < 20 && Math.abs(r - b) < 20) return 'gray';
  return `rgb(${r},${g},${b})`;
}

/** Width and height of the coded stream, as ffprobe says, ignoring any display rotation. */
async function codedSize(path: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binaries.ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json'],
    path,
  ]);
  const [stream] = (JSON.parse(stdout) as { streams: { width: number; height: number }[] }).streams;
  return `${stream?.width}x${stream?.height}`;
}

beforeAll(async () => {
  await synthesizeVideo(files.pattern, { durationS: 5, width: 320, height: 240, fps: 25 }, binaries);
  await synthesizeVideo(
    files.wide,
    { durationS: 2, width: 480, height: 160, source: 'color=c=red', fps: 10 },
    binaries,
  );
  await synthesizeAudioOnly(files.audio, 2, binaries);
  await writeTextAsVideo(files.text);
  await truncateCopy(files.pattern, files.truncated, 0.5);
  const firstFrameRed = { source: 'color=c=blue', filters: "drawbox=c=red:t=fill:enable='lt(t,0.02)'" };
  await synthesizeVideo(files.short, { durationS: 0.12, width: 320, height: 240, fps: 25, ...firstFrameRed }, binaries);
  await synthesizeVideo(
    files.single,
    { durationS: 0.04, width: 320, height: 240, fps: 25, ...firstFrameRed },
    binaries,
  );
  await synthesizeVideo(
    files.landscape,
    {
      durationS: 1,
      width: 640,
      height: 360,
      source: 'color=c=gray',
      filters: 'drawbox=x=0:y=0:w=iw:h=ih/6:color=red:t=fill',
    },
    binaries,
  );
  await setDisplayRotation(files.landscape, files.landscapeTurned, 90, binaries);
  for (const rotation of ROTATIONS) {
    await synthesizeVideo(upright(rotation), { durationS: 1, width: 360, height: 640, ...HALVES, rotation }, binaries);
  }
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resolveFfmpegBinaries', () => {
  it('finds ffmpeg and ffprobe without a manual install', () => {
    expect(binaries.ffmpeg).toMatch(/ffmpeg$/);
    expect(binaries.ffprobe).toMatch(/ffprobe$/);
    expect(['system', 'npm']).toContain(binaries.source.ffmpeg);
  });
  it('prefers a configured path and rejects one that is not executable', () => {
    expect(() => resolveFfmpegBinaries({ ffmpegPath: '/nonexistent/ffmpeg' })).toThrow(/not an executable file/);
    const configured = resolveFfmpegBinaries({ ffmpegPath: binaries.ffmpeg });
    expect(configured.source.ffmpeg).toBe('config');
  });
});

describe('probeVideo', () => {
  it('reads duration, dimensions, codec and frame rate', async () => {
    const probe = await probeVideo(files.pattern, binaries);
    expect(probe).toMatchObject({ width: 320, height: 240, codec: 'h264', fps: 25 });
    expect(probe.durationMs).toBeGreaterThanOrEqual(4900);
    expect(probe.durationMs).toBeLessThanOrEqual(5100);
  });

  it('reads a 3-frame video shorter than one sampling interval', async () => {
    const probe = await probeVideo(files.short, binaries);
    expect(probe).toMatchObject({ width: 320, height: 240, fps: 25, frameCount: 3, rotation: 0 });
    expect(probe.durationMs).toBe(120);
  });

  it('reports the display size and rotation of a stream rotated for display', async () => {
    expect(await codedSize(files.landscapeTurned)).toBe('640x360');
    const probe = await probeVideo(files.landscapeTurned, binaries);
    expect(probe).toMatchObject({ width: 360, height: 640, rotation: 90, codec: 'h264' });
    expect(await probeVideo(files.landscape, binaries)).toMatchObject({ width: 640, height: 360, rotation: 0 });
  });

  it.each(ROTATIONS)('reports the upright size of footage displayed at %i°', async (rotation) => {
    expect(await codedSize(upright(rotation))).toBe(rotation === 180 ? '360x640' : '640x360');
    expect(await probeVideo(upright(rotation), binaries)).toMatchObject({ width: 360, height: 640, rotation });
  });

  it.each([
    ['audio', /contains no video stream \(only audio\)/],
    ['text', /not a readable video file: .*Invalid data/],
    ['truncated', /not a readable video file: moov atom not found/],
  ] as const)('rejects the %s file with a readable reason', async (name, reason) => {
    const attempt = probeVideo(files[name], binaries);
    await expect(attempt).rejects.toBeInstanceOf(InvalidVideoError);
    await expect(attempt).rejects.toThrow(reason);
  });
});

describe('decodeFrames', () => {
  it('samples at sampleFps with decoder timestamps', async () => {
    const frames = [];
    for await (const frame of decodeFrames(files.pattern, binaries, { sampleFps: 2, size: 32 })) {
      frames.push({ index: frame.index, ptsMs: frame.ptsMs, bytes: frame.rgb.length });
    }
    expect(frames).toHaveLength(10);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
    expect(frames.every((f) => f.bytes === 32 * 32 * 3)).toBe(true);
    expect(frames.map((f) => f.index)).toEqual([...Array(10).keys()]);
  });

  it('stamps frames from 0 when the recording does not start at 0 (stream cut from a longer one, as NVRs write)', async () => {
    // Video from 10 s, audio a little earlier: ffmpeg shifts both by the container's start.
    const path = join(dir, 'offset.mp4');
    await promisify(execFile)(binaries.ffmpeg, [
      ...['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=d=3:r=25', '-f', 'lavfi', '-i', 'sine=d=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-output_ts_offset', '10', path],
    ]);
    const frames = await decodeAll(path, { sampleFps: 2, size: 32 });
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

  it('resizes the shortest side and centre-crops to RGB', async () => {
    const frames = [];
    for await (const frame of decodeFrames(files.wide, binaries, { sampleFps: 1, size: 16 })) frames.push(frame);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const rgb = frames[0]?.rgb ?? Buffer.alloc(0);
    expect(rgb.length).toBe(16 * 16 * 3);
    // Pure red after YUV round trip: R high, G and B low, for every pixel.
    for (let i = 0; i < rgb.length; i += 3) {
      expect(rgb[i]).toBeGreaterThan(230);
      expect(rgb[i + 1]).toBeLessThan(25);
      expect(rgb[i + 2]).toBeLessThan(25);
    }
  });

  it.each([
    ['short', files.short],
    ['single-frame', files.single],
  ])('gives the first frame of a %s video that sampling alone would skip', async (_, path) => {
    for (const sampleFps of [2, 1, 0.5]) {
      const frames = await decodeAll(path, { sampleFps, size: 32 });
      expect(frames.map((f) => ({ index: f.index, ptsMs: f.ptsMs, bytes: f.rgb.length }))).toEqual([
        { index: 0, ptsMs: 0, bytes: 32 * 32 * 3 },
      ]);
      // The red one: the frame at pts 0, not a later one.
      expect(colourAt(frames[0], 32, 16, 16)).toBe('red');
    }
  });

  it('keeps sampling on the fps grid for a video just over half an interval long', async () => {
    const frames = await decodeAll(files.short, { sampleFps: 5, size: 16 });
    expect(frames.map((f) => f.ptsMs)).toEqual([0]);
  });

  it.each(ROTATIONS)('decodes footage displayed at %i° upright', async (rotation) => {
    const [frame] = await decodeAll(upright(rotation), { sampleFps: 1, size: 32 });
    // Centre crop of the upright 360x640 picture: its upper half red, lower half blue.
    expect([colourAt(frame, 32, 16, 3), colourAt(frame, 32, 16, 28)]).toEqual(['red', 'blue']);
    expect([colourAt(frame, 32, 3, 16), colourAt(frame, 32, 28, 16)]).not.toContain('gray');
  });

  it('turns a stream rotated 90° clockwise for display upright', async () => {
    const [frame] = await decodeAll(files.landscapeTurned, { sampleFps: 1, size: 36 });
    // The red bar along the top of the coded 640x360 frame is along the right edge of the 360x640 display.
    expect(colourAt(frame, 36, 34, 18)).toBe('red');
    expect([colourAt(frame, 36, 1, 18), colourAt(frame, 36, 18, 1), colourAt(frame, 36, 18, 34)]).toEqual([
      'gray',
      'gray',
      'gray',
    ]);
  });

  it('kills ffmpeg when the consumer stops early', async () => {
    let seen = 0;
    for await (const _ of decodeFrames(files.pattern, binaries, { sampleFps: 10, size: 32 })) {
      seen += 1;
      if (seen === 3) break;
    }
    expect(seen).toBe(3);
  });

  it('fails with the reason ffmpeg gives', async () => {
    const attempt = async () => {
      for await (const _ of decodeFrames(files.text, binaries, { sampleFps: 2, size: 32 })) {
        // drain
      }
    };
    await expect(attempt()).rejects.toThrow(/ffmpeg failed: .*Invalid data/);
  });

  it('fails on a cut-short recording instead of falling back to one frame', async () => {
    await expect(decodeAll(files.truncated, { sampleFps: 2, size: 32 })).rejects.toThrow(
      /ffmpeg failed: .*(moov atom not found|Invalid data)/,
    );
  });
});
