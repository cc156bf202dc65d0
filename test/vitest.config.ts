import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.js';

export default defineProject({
  ...sharedTestConfig,
  test: { ...sharedTestConfig.test, include: ['**/*.test.ts'], exclude: ['**/node_modules/**'], testTimeout: 180_000 },
});
