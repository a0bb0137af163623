import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // tfjs keeps one global engine per process: run files in separate forks, one test at a time.
    pool: 'forks',
  },
});
