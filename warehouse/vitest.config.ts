import { defineConfig } from 'vitest/config'
import { reportersFor } from '../test/bin/reporters.mjs'

export default defineConfig({ test: { include: ['src/**/*.test.ts'], reporters: reportersFor('warehouse') } })
