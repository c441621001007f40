import { parseProcessorEnv } from './env.js'
import { startEmbedded } from './embedded.js'

// `npm start`: the whole pipeline in one process on the embedded default.
const env = parseProcessorEnv()
const pipeline = await startEmbedded(env)
const { ingest, backoffice, demo } = pipeline.urls
console.log(`
atSpark telemetry is running (embedded: ingest → processor → ${env.CLICKHOUSE_URL ? env.CLICKHOUSE_URL : `chDB in ${env.ATSPARK_DATA_DIR}`})

  demo product page   ${demo}/
  ingest              ${ingest}/v1/batch   (SDK script: ${ingest}/sdk/atspark.min.js)
  back office         ${backoffice}/healthz  ${backoffice}/metrics  ${backoffice}/v1/privacy/…
${
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
  demo traffic        generating ~3,000 visitors over the last 30 days in the background (once; DEMO_TRAFFIC=0 turns it off)
`
    : ''
}
Ctrl-C drains in-flight batches into the warehouse and stops.
`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    pipeline.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('shutdown failed', err)
        process.exit(1)
      },
    )
  })
}
// Re-reads the IP keys file (ATSPARK_IP_KEYS_FILE or the generated one in the data dir).
process.on('SIGHUP', () => void pipeline.reloadIpKeys())
// Re-reads ATSPARK_TENANTS_FILE: a bad file keeps the current tenants; either way it is logged and audited.
process.on('SIGHUP', () => void pipeline.reloadTenants())
