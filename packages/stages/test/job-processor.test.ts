import { createLogger } from '@vad/config';
import { type Job, UnrecoverableError } from '@vad/queue';
import { WaitingError } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { createJobProcessor } from '../src/index.js';

const logger = createLogger({ log: { level: 'silent' } }, 'test');
const videoId = '6b1f7c1e-6a43-4e4f-9d0a-2f0f6f0b9d11';

function fakeJob(attemptsMade: number, attempts = 3) {
  return {
    id: `ingest.${videoId}`,
    data: { videoId },
    attemptsMade,
    opts: { attempts },
    updateProgress: vi.fn(async () => {}),
    moveToWait: vi.fn(async () => 0),
  } as unknown as Job<{ videoId: string }, unknown, 'ingest'> & { moveToWait: ReturnType<typeof vi.fn> };
}

describe('createJobProcessor', () => {
  it('records a failure once it is final: bad input at once, transient faults on the last attempt', async () => {
    const onFinalFailure = vi.fn(async () => {});
    let error: Error = new UnrecoverableError('contains no video stream');
    const processor = createJobProcessor(
      {
        queue: 'ingest',
        handle: async () => {
          throw error;
        },
        onFinalFailure,
      },
      logger,
    );
    await expect(processor(fakeJob(0), 't', undefined)).rejects.toThrow('contains no video stream');
    expect(onFinalFailure).toHaveBeenLastCalledWith({ videoId }, 'contains no video stream');

    error = new Error('connection reset');
    onFinalFailure.mockClear();
    await expect(processor(fakeJob(0), 't', undefined)).rejects.toThrow('connection reset');
    await expect(processor(fakeJob(1), 't', undefined)).rejects.toThrow('connection reset');
    expect(onFinalFailure).not.toHaveBeenCalled();
    await expect(processor(fakeJob(2), 't', undefined)).rejects.toThrow('connection reset');
    expect(onFinalFailure).toHaveBeenCalledTimes(1);
  });

  it('hands a job interrupted by shutdown back to the queue instead of failing it', async () => {
    const onFinalFailure = vi.fn(async () => {});
    const controller = new AbortController();
    const processor = createJobProcessor(
      {
        queue: 'ingest',
        handle: async (_data, context) => {
          controller.abort();
          context.signal?.throwIfAborted();
        },
        onFinalFailure,
      },
      logger,
    );
    const job = fakeJob(2);
    await expect(processor(job, 'token', controller.signal)).rejects.toBeInstanceOf(WaitingError);
    expect(job.moveToWait).toHaveBeenCalledWith('token');
    expect(onFinalFailure).not.toHaveBeenCalled();
  });

  it('rejects a malformed payload as unrecoverable before running the handler', async () => {
    const handle = vi.fn();
    const processor = createJobProcessor({ queue: 'ingest', handle }, logger);
    const job = { ...fakeJob(0), data: { videoId: 'not-a-uuid' } } as unknown as Job<
      { videoId: string },
      unknown,
      'ingest'
    >;
    await expect(processor(job, 't', undefined)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(handle).not.toHaveBeenCalled();
  });

  it('passes progress through to the job', async () => {
    const processor = createJobProcessor(
      { queue: 'ingest', handle: async (_d, context) => context.updateProgress({ percent: 50 }) },
      logger,
    );
    const job = fakeJob(0);
    await processor(job, 't', undefined);
    expect(job.updateProgress).toHaveBeenCalledWith({ percent: 50 });
  });
});
