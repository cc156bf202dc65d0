import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Shared by every package's vitest.config.ts: resolve workspace packages to
 * their TypeScript sources (the `vad-source` export condition) so tests never
 * need a build first, and give integration tests (real Postgres, Redis,
 * ffmpeg) room to run on a 2-core machine.
 */
export const sharedTestConfig: UserWorkspaceConfig = {
  resolve: { conditions: ['vad-source'] },
  ssr: { resolve: { conditions: ['vad-source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
};
