import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobIds } from '@vad/queue';
import { generateAudioOnly, generateVideo, truncateCopy, writeTextAsVideo } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useE2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, waitFor } from '../support/processes.js';

const fixtures = mkdtempSync(join(tmpdir(), 'vad-e2e-'));
const footage = join(fixtures, 'footage');
const e2e = useE2eEnvironment({ VAD_SEGMENT_FRAMES: '8', VAD_MAX_PENDING_SEGMENTS: '2' }, { migrate: false });

beforeAll(async () => {
  await mkdir(join(footage, 'night'), { recursive: true });
  await Promise.all([
    generateVideo(join(footage, 'night', 'cam1-0001.mp4'), { durationS: 6 }),
    generateVideo(join(footage, 'long.mp4'), { durationS: 40, source: 'testsrc' }),
    generateAudioOnly(join(footage, 'night', 'audio-only.mp4'), 2),
    writeTextAsVideo(join(footage, 'night', 'notes.mp4')),
  ]);
  writeFileSync(join(footage, 'night', 'empty.mp4'), '');
  await truncateCopy(join(footage, 'long.mp4'), join(footage, 'night', 'cut-short.mp4'), 0.5);
});

afterAll(() => rm(fixtures, { recursive: true, force: true }));

describe('vad CLI and ingest worker as processes', () => {
  it('refuses to start on a bad configuration value, naming the variable', async () => {
    const result = await runVad(['status', '00000000-0000-4000-8000-000000000000'], {
      ...e2e.env,
      VAD_SAMPLE_FPS: 'lots',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/VAD_SAMPLE_FPS: .*\(got "lots"\)/);
  });

  it('--help says what the commands take (a prompt file is YAML or JSON; roles by name)', async () => {
    const rescore = await runVad(['rescore', '--help'], e2e.env);
    expect(rescore.stdout).toMatch(/--prompts <file>\s+prompt set file, YAML \(\.yaml\/\.yml\) or JSON/);
    const workers = await runVad(['workers', '--help'], e2e.env);
    expect(workers.stdout).toContain('ingest | embed | aggregate | scheduler');
  });

  it('creates and migrates the database', async () => {
    const result = await runVad(['db', 'migrate'], e2e.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/created database vad_test_\w+ on 127\.0\.0\.1:5432: migrations applied/);
  });

  it('submits a folder: queues the video, rejects each bad file with its reason', async () => {
    const result = await runVad(
      ['submit', join(footage, 'night'), join(footage, 'missing.mp4'), '--camera', 'cam1'],
      e2e.env,
    );
    expect(result.code).toBe(1);
    const queued = result.stdout.trim().split('\n');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatch(/^queued\s+[0-9a-f-]{36}\s+0m06s\s+.*cam1-0001\.mp4$/);
    expect(result.stderr).toContain('audio-only.mp4: contains no video stream (only audio)');
    expect(result.stderr).toContain('empty.mp4: file is empty (0 bytes)');
    expect(result.stderr).toMatch(/notes\.mp4: not a readable video file: .*Invalid data found/);
    expect(result.stderr).toMatch(/cut-short\.mp4: not a readable video file: moov atom not found/);
    expect(result.stderr).toContain('missing.mp4: no such file');
    expect(result.stderr).toContain('1 queued, 0 duplicate, 5 rejected');
  });

  it('rejects a malformed --recorded-at, naming the option', async () => {
    const result = await runVad(['submit', join(footage, 'long.mp4'), '--recorded-at', 'yesterday'], e2e.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/option --recorded-at: must be an ISO 8601 date-time/);
  });

  it('ends cleanly when every file is rejected (no Redis error after the output), several times over', async () => {
    for (let run = 0; run < 3; run++) {
      const result = await runVad(['submit', join(footage, 'night', 'notes.mp4')], e2e.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('0 queued, 0 duplicate, 1 rejected');
      expect(result.stderr).not.toMatch(/Stream isn't writeable|Uncaught|triggerUncaughtException/);
    }
  });

  it('vad results of a failed video says why and exits 1', async () => {
    const { video } = await e2e.repos.videos.insertOrGet({
      sourceUri: join(footage, 'broken.mp4'),
      sha256: 'e'.repeat(64),
      bytes: 1,
      model: e2e.config.models.model,
      pipelineConfig: { ...e2e.config.pipeline, inputSize: 224 },
      configHash: 'failed-video',
      status: 'failed',
      error: 'ingest failed: ffmpeg failed: Invalid data found when processing input',
    });
    const result = await runVad(['results', video.id], e2e.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`video ${video.id} failed: ingest failed: ffmpeg failed: Invalid data found`);
  });

  it('ingests in a worker process; status shows progress; a second submit is a duplicate', async () => {
    const submitted = await runVad(['submit', join(footage, 'night', 'cam1-0001.mp4'), '--json'], e2e.env);
    const [line] = submitted.stdout.trim().split('\n');
    const outcome = JSON.parse(line ?? '{}') as { result: { videoId: string; created: boolean } };
    expect(outcome.result.created).toBe(false);
    const videoId = outcome.result.videoId;

    const worker = startWorkerProcess('ingest-worker', e2e.env);
    try {
      // The job's state, not the row: the row turns to `embedding` just before BullMQ stores the result.
      await waitFor(
        'ingest job completed',
        () => e2e.queues.ingest.getJobState(jobIds.ingest(videoId)),
        (s) => s === 'completed',
      );
      const status = await runVad(['status', videoId], e2e.env);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/status\s+embedding/);
      expect(status.stdout).toMatch(/video\s+320x240 h264 25\.00 fps/);
      expect(status.stdout).toMatch(/frames decoded\s+12/);
      expect(status.stdout).toMatch(/segments\s+2 written, 0 embedded/);
      expect(status.stdout).toMatch(/ingest\s+completed \(100%\)/);
      expect(status.stdout).toMatch(/queue\s+priority 2$/m);
      // With a processing window that is closed now, the rest of its work waits for it.
      const hour = (new Date().getUTCHours() + 2) % 24;
      const hh = (h: number) => String(h % 24).padStart(2, '0');
      const closed = `${hh(hour)}:00-${hh(hour + 1)}:00`;
      const later = await runVad(['status', videoId], {
        ...e2e.env,
        VAD_PROCESSING_WINDOW: closed,
        VAD_TIMEZONE: 'UTC',
      });
      expect(later.stdout).toMatch(
        new RegExp(`queue\\s+priority 2; waits for the processing window ${closed} UTC, opens `),
      );
      const files = await readdir(join(e2e.config.storage.root, 'segments', videoId));
      expect(files).toEqual(['000000.seg', '000001.seg']);
      const video = await e2e.repos.videos.get(videoId);
      expect(video?.cameraId).not.toBeNull();
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });

  it('stops on SIGTERM in the middle of a video, handing the job back; a new worker finishes it', async () => {
    const submitted = await runVad(['submit', join(footage, 'long.mp4'), '--json'], e2e.env);
    const { videoId } = (JSON.parse(submitted.stdout) as { result: { videoId: string } }).result;
    const first = startWorkerProcess('ingest-worker', e2e.env);
    // No embed worker: decoding stalls at 2 pending segments, in the middle of the video.
    await waitFor(
      'stall',
      () => readdir(join(e2e.config.storage.root, 'segments', videoId)).catch(() => []),
      (f) => f.filter((name) => name.endsWith('.seg')).length === 2,
    );
    const started = Date.now();
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(first.output()).toContain('job released on shutdown');
    expect(['waiting', 'prioritized']).toContain(await e2e.queues.ingest.getJobState(jobIds.ingest(videoId)));
    expect((await e2e.repos.videos.get(videoId))?.status).toBe('ingesting');

    // Drain segments by hand, as the embed stage will, and let a second worker finish.
    const second = startWorkerProcess('ingest-worker', e2e.env);
    const drain = setInterval(async () => {
      const dir = join(e2e.config.storage.root, 'segments', videoId);
      for (const name of await readdir(dir).catch(() => [])) {
        if (name.endsWith('.seg')) await rm(join(dir, name), { force: true });
      }
    }, 200);
    try {
      const video = await waitFor(
        'finished',
        () => e2e.repos.videos.get(videoId),
        (v) => v?.status === 'embedding',
      );
      expect(video?.framesDecoded).toBe(80);
      // The row turns to `embedding` just before BullMQ stores the job's result.
      await waitFor(
        'ingest job completed',
        () => e2e.queues.ingest.getJobState(jobIds.ingest(videoId)),
        (s) => s === 'completed',
      );
      const job = await e2e.queues.ingest.getJob(jobIds.ingest(videoId));
      expect(job?.returnvalue).toMatchObject({ frames: 80, segments: 10, segmentsSkipped: 2 });
      expect(job?.stacktrace).toEqual([]);
    } finally {
      clearInterval(drain);
      expect(await second.stop()).toBe(0);
    }
  });
});
