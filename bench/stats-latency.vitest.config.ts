import { defineConfig } from 'vitest/config'

// A benchmark host, not a test suite: one long "test" that generates data, times the stats API and prints figures.
export default defineConfig({
  test: {
    include: ['stats-latency.bench-run.ts'],
    pool: 'forks',
    // Progress lines go straight to the terminal instead of being buffered per test.
    disableConsoleIntercept: true,
    testTimeout: 3_600_000,
  },
})
