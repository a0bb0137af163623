import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A method's own tests live in its folder (workers/methods/<id>/), beside its code.
    include: ['test/unit/**/*.test.ts', 'workers/methods/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // tfjs keeps one global engine per process: run files in separate forks, one test at a time.
    pool: 'forks',
    // Two forks on the two-core CI machine (vitest's default there is one): the suite is CPU-bound
    // tfjs work in each fork, and nothing in it is timed, so two at once halves the wall time.
    maxWorkers: 2,
  },
});
