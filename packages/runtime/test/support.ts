import { createTestEnvironment, type TestEnvironment, useTestEnvironment, waitFor } from '@vad/testing';
import { ProducerContext } from '../src/index.js';

export interface RuntimeTestEnvironment extends TestEnvironment {
  /** Submit, queues and repositories, as the CLI and the API have them. */
  producer: ProducerContext;
}

/** A test file's environment (tiny model, own database and prefix) with a producer context on it. */
export function useRuntimeEnvironment(env: Record<string, string>): RuntimeTestEnvironment {
  return useTestEnvironment({ env }, async (options) => {
    const base = await createTestEnvironment(options);
    const producer = base.track(
      new ProducerContext(base.config, base.logger, { poolSize: 2, applicationName: 'vad-test' }),
    );
    return { ...base, producer };
  });
}

/** Waits until the video is done or failed, and returns it. */
export function finished(t: TestEnvironment, videoId: string, timeoutMs = 60_000) {
  return waitFor(
    `video ${videoId} finished`,
    () => t.db.repos.videos.get(videoId),
    (v) => v?.status === 'done' || v?.status === 'failed',
    timeoutMs,
  );
}
