import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default leaves one core free (one worker on a 2-core machine). The suites spend
    // much of their time waiting (the SDK's real-time retry backoff under injected throttling,
    // child processes), so one worker more than cores keeps both busy: 249 s -> ~130 s on 2 cores.
    maxWorkers: availableParallelism() + 1,
    setupFiles: ['test/setup.ts'],
  },
});
