import { defineConfig } from 'vitest/config'
import { reportersFor } from './bin/reporters.mjs'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: reportersFor('e2e'),
    globalSetup: ['./src/support/global-setup.ts', './src/support/kafka-global-setup.ts'],
    // chDB binds one data directory per process, and each suite runs its own pipeline: one fork per file, one at a time on 2 cores.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
})
