import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type IpKeyring, sealIp } from '@atspark/runtime'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from './ports.js'
import { ENTRY, type Service, spawnService } from './service.js'

/** The origin every distributed test posts from (no browser here, just the header). */
export const TEST_ORIGIN = 'http://localhost:3999'

/** Two orgs, so tests can show the same event id under two orgs is two events. */
export const WRITE_KEYS = { a: 'pk_org_a', b: 'pk_org_b' } as const

/** IP keys as a test hands them to a service: the kid ingest seals with, and kid → base64 key. */
export interface TestIpKeys {
  active: string
  keys: Record<string, string>
}

/** Fresh random keys under the given kids; the first is active. */
export function generateIpKeys(...kids: [string, ...string[]]): TestIpKeys {
  return { active: kids[0], keys: Object.fromEntries(kids.map((kid) => [kid, randomBytes(32).toString('base64')])) }
}

export function ipKeyring(keys: TestIpKeys): IpKeyring {
  return { active: keys.active, keys: new Map(Object.entries(keys.keys).map(([kid, b64]) => [kid, Buffer.from(b64, 'base64')])) }
}

/** Seals an address the way ingest does with `keys` (its active kid), for envelopes a test writes straight to the raw topic. */
export function sealTestIp(keys: TestIpKeys, ip: string, orgId: string, siteId: string): string {
  return sealIp(ip, ipKeyring(keys), { orgId, siteId })
}

export interface DistributedOptions {
  /** Extra environment for ingest only (e.g. TRUSTED_PROXIES). */
  ingestEnv?: Record<string, string>
  /**
   * IP keys per service, written to keys files (ATSPARK_IP_KEYS_FILE) so `setIpKeys` can rotate
   * them with SIGHUP. Default: one generated key shared by both, passed as ATSPARK_IP_KEYS.
   */
  ipKeys?: { ingest: TestIpKeys; processor: TestIpKeys }
  /**
   * Run the processor with the back office in its process (`server/dist/main-single-node.js`), for suites that call the
   * privacy or stats API: chDB lets one process open the data dir. Default: `processor/dist/main.js`, whose port serves
   * only /healthz, /readyz, /metrics (and the failpoint switch).
   */
  withBackoffice?: boolean
}

export type DistributedService = 'ingest' | 'processor'

export interface Distributed {
  ingestUrl: string
  backofficeUrl: string
  rawTopic: string
  dlqTopic: string
  groupId: string
  dataDir: string
  kafka: Kafka
  ingest: Service
  /** The processor; `backofficeUrl` is its operator port (or its back office with `withBackoffice`). */
  processor: Service
  /** The IP keys each service holds now. */
  ipKeys: Record<DistributedService, TestIpKeys>
  /** Seals with ingest's current keys, as ingest would for that tenant. */
  sealIp(ip: string, orgId: string, siteId: string): string
  /** Rewrites a service's keys file atomically and sends it SIGHUP; resolves once it logged the reload (needs `options.ipKeys`). */
  setIpKeys(service: DistributedService, keys: TestIpKeys): Promise<void>
  /** Starts a new processor process on the same topics, group and data dir (after a kill or stop); `env` overrides the first start's. */
  restartProcessor(env?: Record<string, string>): Promise<Service>
  /** Resolves when the group has committed every offset the raw topic holds. */
  waitDrained(timeoutMs?: number): Promise<void>
  /** Committed-offset lag summed over the raw topic's partitions. */
  lag(): Promise<number>
  stopAll(): Promise<void>
}

/** Ingest and processor as separate built processes on a real broker, with fresh topics and group per call. */
export async function startDistributed(brokers: string, extraProcessorEnv: Record<string, string> = {}, options: DistributedOptions = {}): Promise<Distributed> {
  const id = randomUUID().slice(0, 8)
  const rawTopic = `atspark.events.raw.t${id}`
  const dlqTopic = `atspark.events.dlq.t${id}`
  const groupId = `atspark-processor-t${id}`
  const dir = mkdtempSync(join(tmpdir(), 'atspark-dist-'))
  const tenantsFile = join(dir, 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      orgs: [
        { id: 'org-a', name: 'A', sites: [{ id: 'web', write_key: WRITE_KEYS.a, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }] },
        { id: 'org-b', name: 'B', sites: [{ id: 'web', write_key: WRITE_KEYS.b, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }] },
      ],
    }),
  )
  const shared = {
    KAFKA_BROKERS: brokers,
    ATSPARK_TOPIC_RAW: rawTopic,
    ATSPARK_TOPIC_DLQ: dlqTopic,
    KAFKA_RAW_PARTITIONS: '4',
    ATSPARK_TENANTS_FILE: tenantsFile,
    LOG_LEVEL: 'info',
  }
  const sharedKey = generateIpKeys('t1')
  const ipKeys: Record<DistributedService, TestIpKeys> = options.ipKeys ? { ...options.ipKeys } : { ingest: sharedKey, processor: sharedKey }
  const keysFiles: Record<DistributedService, string> = { ingest: join(dir, 'ingest-ip-keys.json'), processor: join(dir, 'processor-ip-keys.json') }
  const writeKeys = (service: DistributedService, keys: TestIpKeys) => {
    // Rename is atomic: a SIGHUP never reads a half-written file.
    writeFileSync(`${keysFiles[service]}.tmp`, JSON.stringify(keys), { mode: 0o600 })
    renameSync(`${keysFiles[service]}.tmp`, keysFiles[service])
  }
  const keyEnv = (service: DistributedService): Record<string, string> => {
    if (!options.ipKeys) return { ATSPARK_IP_KEYS: `${sharedKey.active}:${sharedKey.keys[sharedKey.active]}`, ATSPARK_IP_KEY_ACTIVE: sharedKey.active }
    writeKeys(service, ipKeys[service])
    return { ATSPARK_IP_KEYS_FILE: keysFiles[service] }
  }
  const [ingestPort, backofficePort] = [await freePort(), await freePort()]
  const ingestUrl = `http://127.0.0.1:${ingestPort}`
  const backofficeUrl = `http://127.0.0.1:${backofficePort}`
  const ingest = await spawnService(
    ENTRY.ingest,
    { ...shared, ...keyEnv('ingest'), INGEST_PORT: String(ingestPort), KAFKA_PRODUCE_TIMEOUT_MS: '3000', ...options.ingestEnv },
    [`${ingestUrl}/healthz`],
  )
  const processorEnv = {
    ...shared,
    ...keyEnv('processor'),
    PROCESSOR_PORT: String(backofficePort),
    BACKOFFICE_PORT: String(backofficePort),
    ATSPARK_DATA_DIR: join(dir, 'warehouse'),
    KAFKA_GROUP_ID: groupId,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...extraProcessorEnv,
  }
  const startProcessor = (env: Record<string, string> = {}) => spawnService(options.withBackoffice ? ENTRY.singleNode : ENTRY.processor, { ...processorEnv, ...env }, [`${backofficeUrl}/readyz`])
  const kafka = new Kafka({ clientId: 'atspark-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()

  const lag = async () => {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(rawTopic), admin.fetchOffsets({ groupId, topics: [rawTopic] })])
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [])
    return ends.reduce((sum, p) => sum + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0)
  }
  const d: Distributed = {
    ingestUrl,
    backofficeUrl,
    rawTopic,
    dlqTopic,
    groupId,
    dataDir: processorEnv.ATSPARK_DATA_DIR,
    kafka,
    ingest,
    processor: await startProcessor(),
    ipKeys,
    sealIp: (ip, orgId, siteId) => sealTestIp(ipKeys.ingest, ip, orgId, siteId),
    setIpKeys: async (service, keys) => {
      if (!options.ipKeys) throw new Error('setIpKeys needs startDistributed(…, { ipKeys }) (keys files, not ATSPARK_IP_KEYS)')
      const target = service === 'ingest' ? d.ingest : d.processor
      const reloadsBefore = target.output().split('IP keys reloaded').length
      writeKeys(service, keys)
      process.kill(target.pid()!, 'SIGHUP')
      const deadline = Date.now() + 10_000
      while (target.output().split('IP keys reloaded').length === reloadsBefore) {
        if (target.output().includes('IP keys reload failed')) throw new Error(`${service} refused the new IP keys:\n${target.output().slice(-2000)}`)
        if (Date.now() > deadline) throw new Error(`${service} did not log an IP keys reload within 10 s`)
        await new Promise((r) => setTimeout(r, 20))
      }
      ipKeys[service] = keys
    },
    restartProcessor: async (env) => {
      d.processor = await startProcessor(env)
      return d.processor
    },
    lag,
    waitDrained: async (timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const remaining = await lag().catch(() => Number.NaN)
        if (remaining === 0) return
        if (Date.now() > deadline) throw new Error(`consumer lag still ${remaining} after ${timeoutMs} ms:\n${d.processor.output().slice(-3000)}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    },
    stopAll: async () => {
      await Promise.all([d.ingest.stop(), d.processor.stop()])
      await admin.disconnect()
    },
  }
  return d
}
