import { createLogger, exitOnSignals } from '@atspark/runtime'
import { displayPath, removeDevEnv, writeDevEnv } from './dev-env.js'
import { parseServerEnv } from './env.js'
import { startEmbedded } from './embedded.js'
import { humanLogDestination } from './tty-log.js'

// `npm start`: the whole pipeline in one process on the embedded default.
const env = parseServerEnv()
// At a terminal the log reads as lines around the banner; piped or redirected, it stays JSON for machines.
const logger = createLogger('atspark', env.LOG_LEVEL, process.stdout.isTTY ? humanLogDestination() : undefined)
const starting = startEmbedded(env, { logger })
// Registered before anything listens: a signal during start-up (Ctrl-C while chDB opens, a stop right after /healthz)
// waits for the start to finish and then drains, instead of killing the process half-open.
let stopRequested = false
exitOnSignals(
  async () => {
    stopRequested = true
    await (await starting).stop()
  },
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger },
)
const pipeline = await starting
const { ingest, backoffice, demo } = pipeline.urls
const { demoAnalystKey, demoPrivacyKey, demoAdminKey } = pipeline

// The demo's keys and address for a shell (`source data/dev.env`), so the docs' curl examples run as written.
let devEnvPath: string | undefined
if (stopRequested) {
  // Stopping already: no keys to hand out.
} else if (demoAnalystKey && demoPrivacyKey && demoAdminKey) {
  devEnvPath = await writeDevEnv(env.ATSPARK_DATA_DIR, {
    url: pipeline.backofficeLocalUrl,
    analystKey: demoAnalystKey,
    privacyKey: demoPrivacyKey,
    adminKey: demoAdminKey,
    ingestUrl: pipeline.ingestLocalUrl,
    demoUrl: demo,
  }).catch((err: Error) => {
    logger.warn({ reason: err.message }, 'could not write dev.env; the keys are in the banner')
    return undefined
  })
} else {
  // A tenants file: no demo keys, and an earlier demo start's file would hold only dead ones.
  await removeDevEnv(env.ATSPARK_DATA_DIR).catch(() => undefined)
}
if (!stopRequested) console.log(`
atSpark telemetry is running (embedded: ingest → processor → ${env.CLICKHOUSE_URL ? env.CLICKHOUSE_URL : `chDB in ${env.ATSPARK_DATA_DIR}`})

  demo product page   ${demo}/
  ingest              ${ingest}/v1/batch   (SDK script: ${ingest}/sdk/atspark.min.js)
  back office         ${backoffice}/healthz  ${backoffice}/metrics  ${backoffice}/v1/stats/…  ${backoffice}/v1/privacy/…
  analyst dashboard   ${backoffice}/dashboard
${
  demoAnalystKey
    ? `
  demo analyst key    ${demoAnalystKey}
                      (dev only, new at every start, org "demo", role analyst: paste it into the dashboard's sign-in;
                      it is kept in that browser tab only, never in a URL)
`
    : ''
}${
  demoPrivacyKey
    ? `
  demo privacy key    ${demoPrivacyKey}
                      (dev only, new at every start, org "demo", role privacy; a tenants file replaces it)
`
    : ''
}${
  demoAdminKey
    ? `
  demo admin key      ${demoAdminKey}
                      (dev only, new at every start, org "demo", role admin: stats, privacy and shared links)
`
    : ''
}${
  devEnvPath
    ? `
  in a shell          source ${displayPath(devEnvPath)}
                      (sets ATSPARK_URL, the three keys above and ATSPARK_INGEST_URL, ATSPARK_DEMO_URL, for the curl examples in README.md and docs/analysts.md)
                      curl -fsS -H "Authorization: Bearer $ATSPARK_ANALYST_KEY" "$ATSPARK_URL/v1/stats/aggregate?site=demo"
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

// Re-reads the IP keys file (ATSPARK_IP_KEYS_FILE or the generated one in the data dir).
process.on('SIGHUP', () => void pipeline.reloadIpKeys())
// Re-reads ATSPARK_TENANTS_FILE: a bad file keeps the current tenants; either way it is logged and audited.
process.on('SIGHUP', () => void pipeline.reloadTenants())
