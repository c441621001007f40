import { defineConfig } from 'vitest/config'

// A benchmark host, not a test suite: it reuses the test harness (real broker, built services) and prints figures.
export default defineConfig({
  test: {
    include: ['kafka-e2e.bench-run.ts'],
    globalSetup: ['../test/src/support/kafka-global-setup.ts'],
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 120_000,
  },
})
