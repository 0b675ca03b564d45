import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default leaves one core free (one worker on a 2-core machine): the suites spend
    // much of their time waiting on in-process stand-ins and child processes, so use every core.
    maxWorkers: Math.max(2, availableParallelism()),
    setupFiles: ['test/setup.ts'],
  },
});
