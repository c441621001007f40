// Vitest for Stryker: the units of each package with that package's own config.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { projects: ['sdk/vitest.config.ts', 'runtime/vitest.config.ts', 'ingest/vitest.config.ts', 'warehouse/vitest.config.ts', 'processor/vitest.config.ts', 'backoffice/vitest.config.ts'] },
})
