import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from './ports.js'

/** A single-node Apache Kafka (KRaft) broker for the real-broker suites, or the external one named by KAFKA_BROKERS. */
export interface KafkaBroker {
  /** Bootstrap addresses, `host:port`. */
  brokers: string[]
  /** The broker's `log.dirs` (empty for an external broker). */
  logDir: string
  /** True when KAFKA_BROKERS named the broker: the tests do not own it and cannot kill it. */
  external: boolean
  /** Graceful shutdown (SIGTERM, SIGKILL after a grace period), then deletes the log dir; final. No-op for an external broker. */
  stop(): Promise<void>
  /** SIGKILL, as a crash: the log dir stays for restart(). */
  kill(): Promise<void>
  /** Starts again on the same log dir and the same ports (stopping gracefully first if running); resolves when ready. */
  restart(): Promise<void>
}

const POM = fileURLToPath(new URL('../../kafka/pom.xml', import.meta.url))
const LOG4J_CONFIG = fileURLToPath(new URL('../../kafka/log4j2.properties', import.meta.url))
const READY_LINE = 'Kafka Server started'
const READY_TIMEOUT_MS = 60_000
const WARMUP_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 20_000
const OUTPUT_TAIL_LINES = 60
// Small heap, one GC thread: the broker shares 2 cores with the services under test.
const JVM_OPTS = ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true']

export interface StartKafkaOptions {
  /** Start a local broker even when KAFKA_BROKERS is set: for fault tests that must kill and restart it. */
  own?: boolean
}

/** Starts a fresh broker on free ports and a temp log dir, or wraps KAFKA_BROKERS when set (unless `own`). */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const external = process.env.KAFKA_BROKERS?.trim()
  if (external && !options.own) return externalBroker(external)

  const java = javaCommand()
  const classpath = await kafkaClasspath()
  const baseDir = await mkdtemp(join(tmpdir(), 'atspark-kafka-'))
  liveDirs.add(baseDir)
  const logDir = join(baseDir, 'data')
  const port = await freePort()
  let controllerPort = await freePort()
  while (controllerPort === port) controllerPort = await freePort()
  const config = join(baseDir, 'server.properties')
  writeFileSync(config, serverProperties({ port, controllerPort, logDir }))

  const broker = new LocalBroker(java, classpath, baseDir, config, logDir, port)
  try {
    // Static controller.quorum.voters means a static quorum: format takes neither --standalone nor --initial-controllers.
    const clusterId = newClusterId()
    await run(java, [...JVM_OPTS, `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config], 'kafka-storage format')
    await broker.launch()
  } catch (err) {
    await broker.stop().catch(() => {})
    throw err
  }
  return broker
}

/** A Kafka Uuid in its base64url form; like Kafka's own, never starting with '-', which the tool would parse as a flag. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function serverProperties({ port, controllerPort, logDir }: { port: number; controllerPort: number; logDir: string }): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    // One node: every internal topic must be satisfiable with a single replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Few internal partitions (default 50): less to create on first use and to recover after a restart.
    'offsets.topic.num.partitions=4',
    'transaction.state.log.num.partitions=4',
    'share.coordinator.state.topic.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=4',
    'auto.create.topics.enable=false',
    // After a SIGKILL the controller refuses the new incarnation until the old session expires (default 9 s);
    // 4 s still leaves a fenced-by-a-stall single node unlikely on 2 busy cores.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=4000',
    // Thread pools sized for 2 cores.
    'num.network.threads=2',
    'num.io.threads=4',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=2',
  ].join('\n')}\n`
}

class LocalBroker implements KafkaBroker {
  readonly brokers: string[]
  readonly external = false
  private child: ChildProcess | undefined
  private stopped = false

  constructor(
    private readonly java: string,
    private readonly classpath: string,
    private readonly baseDir: string,
    private readonly config: string,
    readonly logDir: string,
    port: number,
  ) {
    this.brokers = [`127.0.0.1:${port}`]
  }

  async launch(): Promise<void> {
    const args = [...JVM_OPTS, `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, '-cp', this.classpath, 'kafka.Kafka', this.config]
    const child = spawn(this.java, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    if (child.pid !== undefined) {
      liveJvms.add(child)
      child.once('exit', () => liveJvms.delete(child))
      watchParent(child.pid, this.baseDir)
    }
    // The whole output goes to a file beside the log dir; the tail goes into error messages.
    const file = createWriteStream(join(this.baseDir, 'broker.out'), { flags: 'a' })
    const tail: string[] = []
    let onLine: (line: string) => void = () => {}
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        file.write(`${line}\n`)
        tail.push(line)
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift()
        onLine(line)
      })
    }
    child.once('close', () => file.end())
    const describe = (what: string): Error =>
      new Error(`Kafka broker (${this.brokers[0]}, ${this.baseDir}) ${what}; last output:\n${tail.join('\n') || '(none)'}`)

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(describe(`did not log '${READY_LINE}' within ${READY_TIMEOUT_MS / 1000} s`))
      }, READY_TIMEOUT_MS)
      const settle = (err?: Error): void => {
        clearTimeout(timer)
        onLine = () => {}
        child.off('exit', onExit)
        child.off('error', onError)
        if (err) reject(err)
        else resolve()
      }
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        // Let readline flush the last lines before quoting them.
        setImmediate(() => settle(describe(`exited before it was ready (code ${code}, signal ${signal})`)))
      }
      const onError = (err: Error): void => settle(describe(`could not be started: ${err.message}`))
      onLine = (line) => {
        if (line.includes(READY_LINE)) settle()
      }
      child.once('exit', onExit)
      child.once('error', onError)
    })
    try {
      await warmGroupCoordinator(this.brokers)
    } catch (err) {
      child.kill('SIGKILL')
      throw describe(`started but its group coordinator never answered (${(err as Error).message})`)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.terminate('SIGTERM')
    liveDirs.delete(this.baseDir)
    rmSync(this.baseDir, { recursive: true, force: true })
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL')
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`Kafka broker ${this.brokers[0]} was stopped and its log dir deleted: restart() works after kill()`)
    await this.terminate('SIGTERM')
    await this.launch()
  }

  private async terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(grace)
  }
}

/**
 * Creates and loads __consumer_offsets before any suite runs: otherwise every fresh broker's first consumer group
 * meets GROUP_COORDINATOR_NOT_AVAILABLE then COORDINATOR_LOAD_IN_PROGRESS, which kafkajs logs as errors and answers
 * by crashing and restarting the consumer.
 */
async function warmGroupCoordinator(brokers: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'atspark-test-warmup', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  const deadline = Date.now() + WARMUP_TIMEOUT_MS
  try {
    for (;;) {
      try {
        await admin.connect()
        await admin.describeGroups(['atspark-test-warmup'])
        return
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } finally {
    await admin.disconnect()
  }
}

function externalBroker(list: string): KafkaBroker {
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
  const refuse = (what: string) => async (): Promise<never> => {
    throw new Error(`external broker (KAFKA_BROKERS=${list}): cannot ${what} it; unset KAFKA_BROKERS to let the tests start their own`)
  }
  return { brokers, logDir: '', external: true, stop: async () => {}, kill: refuse('kill'), restart: refuse('restart') }
}

// No broker outlives the test process: kill every JVM we started on exit and on the usual signals…
const liveJvms = new Set<ChildProcess>()
const liveDirs = new Set<string>()
let exitHooked = false

function killAllSync(): void {
  for (const child of liveJvms) child.kill('SIGKILL')
  liveJvms.clear()
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  liveDirs.clear()
}

function hookExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.once('exit', killAllSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync()
      // Keep the default behaviour (die by the signal) unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

// …and, should this process itself be SIGKILLed, a detached watchdog kills the JVM and removes its dir once we are gone.
function watchParent(jvmPid: number, baseDir: string): void {
  hookExit()
  const script = [
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done',
    'if ! kill -0 "$1" 2>/dev/null; then kill -9 "$2" 2>/dev/null; sleep 1; rm -rf "$3"; fi',
  ].join('\n')
  const args = ['-c', script, 'atspark-kafka-watchdog', String(process.pid), String(jvmPid), baseDir]
  spawn('/bin/sh', args, { detached: true, stdio: 'ignore' }).unref()
}

let javaChecked: string | undefined

/** `$JAVA_HOME/bin/java` or `java` on PATH, checked to be Java 17 or newer (Kafka 4's broker needs 17). */
function javaCommand(): string {
  if (javaChecked) return javaChecked
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(`Java is missing ('${java} -version' failed: ${probe.error?.message ?? probe.stderr}): the Kafka test broker needs a JDK/JRE 17+ (apt-get install openjdk-17-jre-headless) or JAVA_HOME`)
  }
  const major = Number(/version "(?:1\.)?(\d+)/.exec(probe.stderr)?.[1])
  if (!(major >= 17)) throw new Error(`Java 17+ is required for the Kafka test broker, found: ${probe.stderr.split('\n')[0]}`)
  javaChecked = java
  return java
}

/**
 * The broker's jars, resolved once by Maven from test/kafka/pom.xml into a cache keyed by the POM's hash,
 * so later runs need neither Maven nor the network.
 */
async function kafkaClasspath(): Promise<string> {
  const pom = readFileSync(POM, 'utf8')
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown'
  const cacheDir = process.env.ATSPARK_KAFKA_CACHE || join(homedir(), '.cache', 'atspark', 'kafka', version)
  const jarsDir = join(cacheDir, `jars-${createHash('sha256').update(pom).digest('hex').slice(0, 12)}`)
  if (!existsSync(jarsDir)) await resolveJars(jarsDir)
  return join(jarsDir, '*')
}

async function resolveJars(jarsDir: string): Promise<void> {
  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8' })
  if (mvn.error || mvn.status !== 0) {
    throw new Error(`Maven is missing ('mvn -v' failed: ${mvn.error?.message ?? mvn.stderr}): it resolves the Kafka broker jars on first use (apt-get install maven), or point ATSPARK_KAFKA_CACHE at a filled cache`)
  }
  // Copy into a private dir and rename, so a concurrent or interrupted resolve never leaves a half-filled cache.
  const partial = `${jarsDir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`
  mkdirSync(partial, { recursive: true })
  try {
    console.log(`[kafka] resolving broker jars with Maven into ${jarsDir}…`)
    await run('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`], 'mvn dependency:copy-dependencies')
    if (!readdirSync(partial).some((f) => f.startsWith('kafka_2.13-'))) throw new Error(`Maven finished but ${partial} holds no kafka_2.13 jar`)
    try {
      renameSync(partial, jarsDir)
    } catch (err) {
      if (!existsSync(jarsDir)) throw err
    }
  } finally {
    rmSync(partial, { recursive: true, force: true })
  }
}

/** Runs a command to completion; on failure, throws with the tail of its output. */
function run(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8_000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.once('error', (err) => reject(new Error(`${what} could not be started: ${err.message}`)))
    child.once('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${what} failed (code ${code}, signal ${signal}):\n${output.trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n')}`))
    })
  })
}
