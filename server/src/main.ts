import { createLogger, exitOnSignals } from '@atspark/runtime'
import { parseServerEnv } from './env.js'
import { startEmbedded } from './embedded.js'

// `npm start`: the whole pipeline in one process on the embedded default.
const env = parseServerEnv()
const pipeline = await startEmbedded(env)
const { ingest, backoffice, demo } = pipeline.urls
console.log(`
atSpark telemetry is running (embedded: ingest → processor → ${env.CLICKHOUSE_URL ? env.CLICKHOUSE_URL : `chDB in ${env.ATSPARK_DATA_DIR}`})

  demo product page   ${demo}/
  ingest              ${ingest}/v1/batch   (SDK script: ${ingest}/sdk/atspark.min.js)
  back office         ${backoffice}/healthz  ${backoffice}/metrics  ${backoffice}/v1/stats/…  ${backoffice}/v1/privacy/…
  analyst dashboard   ${backoffice}/dashboard
${
  pipeline.demoAnalystKey
    ? `
  demo analyst key    ${pipeline.demoAnalystKey}
                      (dev only, new at every start, org "demo", role analyst: paste it into the dashboard's sign-in;
                      it is kept in that browser tab only, never in a URL)
`
    : ''
}${
  pipeline.demoPrivacyKey
    ? `
  demo privacy key    ${pipeline.demoPrivacyKey}
                      (dev only, new at every start, org "demo", role privacy; a tenants file replaces it)
                      curl -H "Authorization: Bearer ${pipeline.demoPrivacyKey}" "${backoffice}/v1/privacy/requests"
`
    : ''
}${
  pipeline.seedingDemoTraffic
    ? `
  demo traffic        generating ~3,000 visitors on site "demo" and ~1,200 on site "docs" over the last 30 days
                      in the background (once; DEMO_TRAFFIC=0 turns it off)
`
    : ''
}
Ctrl-C drains in-flight batches into the warehouse and stops.
`)

// Stop accepting, drain into the warehouse, close; past SHUTDOWN_TIMEOUT_MS the process exits 1 anyway.
exitOnSignals(() => pipeline.stop(), { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger: createLogger('atspark', env.LOG_LEVEL) })
// Re-reads the IP keys file (ATSPARK_IP_KEYS_FILE or the generated one in the data dir).
process.on('SIGHUP', () => void pipeline.reloadIpKeys())
// Re-reads ATSPARK_TENANTS_FILE: a bad file keeps the current tenants; either way it is logged and audited.
process.on('SIGHUP', () => void pipeline.reloadTenants())
