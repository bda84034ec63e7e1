// The benchmark suite of issue 5: the broker against the reference server (bench/reference-server.ts, the
// least a Node process must do for the same Produce and Fetch work), alternating, with a fresh process and log
// dir per run; the load generator (bench/loadgen.ts) runs in this process. Progress goes to stderr, the summary
// (machine, command, figures, PASS/FAIL, profiles) to stdout.
//
//   npm run bench                                   # scenarios 1-5, 11 and 12 (a few minutes; the 10 GiB data
//                                                   # set of scenario 5 is built once, into /tmp/bench-10g)
//   npm run bench -- --scenario 2 --seconds 5       # one scenario (or a list: --scenario 1,3), shorter runs
//   npm run bench -- --profile --scenario 1         # broker under --cpu-prof; prints its top self-time functions
//   npm run bench:soak [-- --minutes 5]             # scenario 1 for 5 minutes, broker RSS sampled every second
//
// Scenarios and targets (2-core machine, load generator included; broker / reference, same run):
//   1 throughput  1 KiB records, 100/batch, 8 partitions (one batch each per request), 4 connections,
//                 5 requests in flight each, acks=1               records/s ≥ 0.95×, p99 ≤ 1.5×
//   2 latency     100-byte single-record batches, 1 connection, 1 in flight, acks=1   records/s ≥ 0.7×, p99 ≤ 1.5×
//   3 width       1,000 partitions, 1 record (1 KiB) per partition per request, as 1 otherwise   records/s ≥ 0.6×
//   4 fetch       1 GiB produced into one partition (1,000-record batches), then read from offset 0 with Fetch
//                 (32 MiB max bytes), 3 reads                      MB/s ≥ 0.95×
//   5 start-up    spawn → first answered ApiVersions on 10 GiB of cleanly shut-down logs, 5 starts, each
//                 followed by one on an empty log dir             < 150 ms
//   6 transactions  scenario 1 with a transactional producer per connection committing every 100 record
//                 batches (--txn-batches), against the same with idempotent producers: broker only, the ratio
//                 is the cost of transactions (no target: reported)
//   7 cleaner     scenario 1 while the broker's log cleaner compacts another topic of it (4 partitions, 512 MiB
//                 of dirty log written before the broker starts by bench/cleaner.ts's writer: --cleaner-mib,
//                 --cleaner-codec; 1 KiB values over 10,000 keys a partition, segment.bytes 16 MiB,
//                 min.cleanable.dirty.ratio 0.01, log.cleaner.backoff.ms 100; produce starts once the cleaner
//                 rewrites its first segment), against the same broker and logs with log.cleaner.enable=false:
//                 broker only, the ratio is what the cleaner costs produce; the cleaner's busy share of the
//                 measured time (from its log lines) is shown (no target: reported)
//   8 tls         scenario 1 against a SASL_SSL listener (TLS with a self-signed PEM keystore made by openssl,
//                 SASL/PLAIN login per connection) and against the same broker's PLAINTEXT listener: broker
//                 only, the ratio is what TLS costs (no target: reported)
//   9 console     scenario 1 with the console and /metrics on (console.listener), scraped as Prometheus and an
//                 open console page would (GET /metrics, /api/rates, /api/overview, /api/topics/<t>: each once a
//                 second), against the same broker without a console: broker only, the ratio is what the console
//                 and metrics cost produce (no target: reported)
//   10 postgresql scenario 1's and scenario 2's loads against the broker on files, against one broker with
//                 storage.url on a throwaway PostgreSQL (bench/postgres.ts: initdb in a temp dir, fsync off, a
//                 fresh database per run), and against three brokers (node.id 1-3) over one database, each
//                 partition's batches sent to its leader as Metadata names it (scenario 1: each of the 4
//                 connections becomes one to every leader): broker only, the ratios PostgreSQL / files are what
//                 the database costs; RSS is the largest broker's (no target: reported)
//   11 consumer   scenario 2's producer (100-byte single-record batches, 1 connection, 1 in flight, acks=1) while a
//                 consumer on a connection of its own tails the partition as a caught-up consumer does: one Fetch in
//                 flight, from its next offset, max_wait_ms 500 and min_bytes 1, so that the long poll answers as
//                 soon as the record is appended (the reference has a minimal long poll: a Fetch with nothing to
//                 return waits for its partition's next append). Produce and fetch requests/s, end-to-end latency
//                 (produce sent → record fetched) p50/p99/p999 (no target: reported)
//   12 clients    200 connections with one produce in flight each, 100-byte single-record batches, each request
//                 to one partition of 8 (each connection rotating over them), acks=1: requests/s, p50/p99/p999,
//                 requests answered per connection (fewest, median: a server starving some connections) (no
//                 target: reported)
//   soak          scenario 1 without pause                        broker max RSS < 150 MB
// Figures are medians over the rounds. MB = 10^6 bytes; "payload" counts record values only. Scenarios 1-3, 11
// and 12 also show the CPU of the server under test (utime + stime of /proc/<pid>/stat, all its threads) and of
// the load generator (this process) during the load, warm-up included, as % of one core: the load generator
// not near 100% means it is not what limits the rate. Steal is the hypervisor's share of the machine's CPU time
// during the runs (/proc/stat): per run in the progress lines, the median of the runs in the rows of those
// scenarios, and for the whole invocation at the end.
import { execFileSync, execSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from "node:fs"
import { cpus, release, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { BIG_TOPIC, ensureBigLogs } from "./biglogs.ts"
import { codecOf, type DirtyLog, writeDirtyLog } from "./cleaner.ts"
import { apiVersions, clusterView, createTopics, endOffsets, type ProducerMode, runFetch, runProduce, runProduceAndTail, type ProduceResult, type Security, type TailOptions, type TailResult } from "./loadgen.ts"
import { postgresBin, startPostgres } from "./postgres.ts"
import { summarizeProfile } from "./profile.ts"
import { launcherEntry, root, sampleRss, startBroker, startReference, writeBrokerConfig, type BrokerEntry, type ServerProcess } from "./servers.ts"

const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string", default: "1,2,3,4,5,11,12" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    inflight: { type: "string", default: "5" },
    starts: { type: "string", default: "5" },
    "fetch-gib": { type: "string", default: "1" },
    "fetch-reads": { type: "string", default: "3" },
    "big-dir": { type: "string", default: "/tmp/bench-10g" },
    "big-gib": { type: "string", default: "10" },
    io: { type: "string", default: "auto" },
    entry: { type: "string", default: "launcher" },
    profile: { type: "boolean", default: false },
    soak: { type: "boolean", default: false },
    minutes: { type: "string", default: "5" },
    "txn-batches": { type: "string", default: "100" },
    "cleaner-mib": { type: "string", default: "512" },
    "cleaner-codec": { type: "string", default: "none" },
    help: { type: "boolean", short: "h", default: false }
  }
})

if (flags.help) {
  console.log(`Usage: npm run bench -- [options]      (or node bench/run.ts [options])

  --scenario LIST     scenarios to run, e.g. 1 or 1,3,5 (default 1,2,3,4,5,11,12; 6 to 10 on request)
  --seconds N         measured seconds per produce run (scenarios 1-3, 6-12; default 5)
  --warmup N          unmeasured seconds before each (default 2)
  --rounds N          reference/broker pairs per scenario; medians are reported (default 3)
  --inflight N        requests in flight per connection in scenarios 1 and 3 (default 5)
  --starts N          measured starts in scenario 5 (default 5)
  --fetch-gib N       GiB produced then fetched in scenario 4 (default 1); --fetch-reads N reads (default 3)
  --big-dir DIR       cached data set of scenario 5 (default /tmp/bench-10g); --big-gib N its size (default 10)
  --io MODE           reference server writes: auto, sync or async (default auto)
  --entry E           broker started through your_program.sh ("launcher", default) or as node src/Main.ts ("sources")
  --profile           run the broker with --cpu-prof and summarise its profile per scenario
  --soak              scenario 1 without pause for --minutes N (default 5), broker RSS every second
  --txn-batches N     record batches per transaction in scenario 6 (default 100; not run by default)
  --cleaner-mib N     MiB of dirty log the cleaner has to compact in scenario 7 (default 512, over 4 partitions)
  --cleaner-codec C   its batches' codec: none, gzip, snappy, lz4 or zstd (default none)

  Scenarios 1-3, 11 and 12 compare the broker with the reference server: 1 throughput, 2 latency, 3 width
  (1,000 partitions), 11 consumer (scenario 2's producer while a consumer tails the partition with Fetch long
  polls, max_wait_ms 500: produce and fetch requests/s, end-to-end latency produce sent → record fetched),
  12 clients (200 connections, one single-record produce in flight each, over 8 partitions: requests/s, latency,
  requests answered per connection). 4 fetch and 5 start-up have targets of their own.
  Scenarios 6-10 measure the broker against itself (no reference): 6 transactions, 7 the log cleaner, 8 TLS and
  SASL, 9 the console and /metrics, 10 PostgreSQL storage (scenarios 1 and 2 on files, on one broker over a
  throwaway PostgreSQL, and on three brokers over one database; needs Debian's postgresql)`)
  process.exit(0)
}

const num = (k: keyof typeof flags) => Number(flags[k])
const seconds = num("seconds")
const warmup = num("warmup")
const rounds = Math.max(1, num("rounds"))
const inflight = num("inflight")
const selected = new Set(flags.scenario.split(",").map((s) => Number(s.trim())))
const entry: BrokerEntry = flags.entry === "sources" ? "sources" : "launcher"
const profileRoot = flags.profile ? mkdtempSync(join(tmpdir(), "bench-profiles-")) : undefined

// ---------------------------------------------------------------------------------------------------------
// Output

const out = (line = "") => console.log(line)
const progress = (line: string) => console.error(line)
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-")
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-")
const msOf = (us: number) => (Number.isFinite(us) ? (us < 10_000 ? (us / 1000).toFixed(3) : (us / 1000).toFixed(0)) : "-")
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const median = (xs: ReadonlyArray<number>): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const command = (() => {
  const argv = process.argv.slice(2)
  const event = process.env["npm_lifecycle_event"]
  const direct = `node bench/run.ts${argv.length > 0 ? " " + argv.join(" ") : ""}`
  if (event === undefined) return direct
  const own = (process.env["npm_lifecycle_script"] ?? "").split(/\s+/).slice(2)
  const extra = own.every((a, i) => argv[i] === a) ? argv.slice(own.length) : argv
  return `npm run ${event}${extra.length > 0 ? " -- " + extra.join(" ") : ""}   (${direct})`
})()

const gitState = (() => {
  try {
    const head = execSync("git rev-parse --short HEAD", { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim()
    const dirty = execSync("git status --porcelain -- src", { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim()
    return `${head}${dirty === "" ? "" : " + uncommitted changes in src/"}`
  } catch {
    return "unknown"
  }
})()

out(`# Kafka broker benchmark, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`)
out(`command: ${command}`)
out(`machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}`)
out(`code:    broker ${gitState}, ${entry === "launcher" ? `your_program.sh → ${launcherEntry()}` : "node src/Main.ts"}`)
out(`         reference bench/reference-server.ts (${flags.io} writes); load generator (bench/loadgen.ts) in the runner's process`)
if (!flags.soak) {
  out(`method:  scenarios 1-3, 11, 12: ${rounds} rounds of reference and broker alternating (order swapped each round), fresh process and`)
  out(`         log dir per run, ${warmup} s warm-up + ${seconds} s measured; medians. MB = 10^6 B; payload = record values.`)
}
if (profileRoot !== undefined) out(`profile: broker runs under --cpu-prof (figures include its overhead); profiles in ${profileRoot}`)
out()

// ---------------------------------------------------------------------------------------------------------
// Produce scenarios against the reference (1-3, 11, 12)

interface ProduceScenario {
  readonly id: number
  readonly name: string
  readonly topic: string
  readonly partitions: number
  /** Partitions per request (one batch each), rotating over all of them; default: all in every request. */
  readonly partitionsPerRequest?: number
  readonly recordSize: number
  readonly recordsPerBatch: number
  readonly connections: number
  readonly inflight: number
  /** A consumer tailing the (one) partition meanwhile, with these long polls (loadgen's runProduceAndTail). */
  readonly tail?: TailOptions
  readonly describe: string
}

const produceScenarios: ReadonlyArray<ProduceScenario> = [
  { id: 1, name: "throughput", topic: "s1", partitions: 8, recordSize: 1024, recordsPerBatch: 100, connections: 4, inflight, describe: `1 KiB records × 100/batch, 8 partitions per request, 4 conns × ${inflight} in flight, acks=1` },
  { id: 2, name: "latency", topic: "s2", partitions: 1, recordSize: 100, recordsPerBatch: 1, connections: 1, inflight: 1, describe: "100-byte single-record batches, 1 conn × 1 in flight, acks=1" },
  { id: 3, name: "width", topic: "s3", partitions: 1000, recordSize: 1024, recordsPerBatch: 1, connections: 4, inflight, describe: `1,000 partitions × 1 record (1 KiB) per request, 4 conns × ${inflight} in flight, acks=1` },
  {
    id: 11, name: "consumer", topic: "s11", partitions: 1, recordSize: 100, recordsPerBatch: 1, connections: 1, inflight: 1, tail: { maxWaitMs: 500, minBytes: 1 },
    describe: "100-byte single-record batches, 1 conn × 1 in flight, acks=1, one partition tailed by a consumer on its own conn (Fetch from its next offset, 1 in flight, max_wait_ms 500, min_bytes 1)"
  },
  {
    id: 12, name: "clients", topic: "s12", partitions: 8, partitionsPerRequest: 1, recordSize: 100, recordsPerBatch: 1, connections: 200, inflight: 1,
    describe: "100-byte single-record batches, 200 conns × 1 in flight, each request to one of 8 partitions (each conn rotating over them), acks=1"
  }
]

type Target = "reference" | "broker"

interface RunResult {
  readonly result: ProduceResult | undefined
  /** The tailing consumer's figures (scenarios with `tail`). */
  readonly tail?: TailResult
  readonly error: string | undefined
  readonly rssMax: number
  readonly profile: string | undefined
  /** Percentage of CPU time stolen by the hypervisor during the run. */
  readonly steal: number
  /** CPU used during the load (warm-up included), as a percentage of one core: the load generator's (this process), the servers'. */
  readonly loadCpu?: number
  readonly serverCpu?: number
}

/** Aggregate CPU ticks from /proc/stat: total and stolen by the hypervisor (a noisy neighbour shows here). */
const cpuTicks = (): { total: number; steal: number } => {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 }
  } catch {
    return { total: 0, steal: 0 }
  }
}
const stealSince = (from: { total: number; steal: number }) => {
  const now = cpuTicks()
  return now.total > from.total ? (100 * (now.steal - from.steal)) / (now.total - from.total) : NaN
}

/** CPU used from now to `stop()`, as percentages of one core: this process's (the load generator's) and the servers' together. */
const cpuMeter = (servers: ReadonlyArray<ServerProcess>) => {
  const serverSeconds = () => servers.reduce((sum, server) => sum + (server.cpu() ?? NaN), 0)
  const started = performance.now()
  const own = process.cpuUsage()
  const theirs = serverSeconds()
  return {
    stop: () => {
      const wall = (performance.now() - started) / 1000
      const used = process.cpuUsage(own)
      return { loadCpu: (100 * (used.user + used.system)) / 1e6 / wall, serverCpu: (100 * (serverSeconds() - theirs)) / wall }
    }
  }
}

const freshDir = (label: string) => mkdtempSync(join(tmpdir(), `bench-${label}-`))

const profileArgs = (label: string): { args: Array<string>; dir: string } | undefined => {
  if (profileRoot === undefined) return undefined
  const dir = join(profileRoot, label)
  return { args: ["--cpu-prof", `--cpu-prof-dir=${dir}`], dir }
}

const findProfile = (dir: string | undefined): string | undefined => {
  if (dir === undefined) return undefined
  try {
    const f = readdirSync(dir).find((n) => n.endsWith(".cpuprofile"))
    return f === undefined ? undefined : join(dir, f)
  } catch {
    return undefined
  }
}

/**
 * Starts the target with `topics` created: `server` is the one the load connects to, `servers` all of them. With
 * `brokers` > 1, brokers with node ids 1..n (each with its own log dir, sharing the storage.url of `brokerExtra`),
 * ready once each lists all of them and knows every partition's leader; the first one is profiled.
 */
const startTarget = async (target: Target, dir: string, topics: Readonly<Record<string, number>>, label: string, brokerExtra: Readonly<Record<string, string>> = {}, brokers = 1) => {
  if (target === "reference") {
    const server = await startReference(join(dir, "data"), { io: flags.io })
    return { server, servers: [server], profileDir: undefined }
  }
  const prof = profileArgs(label)
  const servers: Array<ServerProcess> = []
  try {
    for (let id = 1; id <= brokers; id++) {
      const nodeDir = brokers === 1 ? dir : join(dir, `node-${id}`)
      mkdirSync(nodeDir, { recursive: true })
      const config = writeBrokerConfig(nodeDir, join(nodeDir, "logs"), { ...brokerExtra, "node.id": String(id) })
      servers.push(await startBroker(config, { nodeArgs: id === 1 ? prof?.args ?? [] : [], entry }))
    }
    if (brokers > 1) await clusterReady(servers, Object.keys(topics)[0]!, () => createTopics(servers[0]!.port, topics))
    else await createTopics(servers[0]!.port, topics)
  } catch (e) {
    for (const server of servers) await server.stop()
    throw e
  }
  return { server: servers[0]!, servers, profileDir: prof?.dir }
}

/** Reads `get` every 100 ms until `check` holds of it; fails naming `what` (and the last state seen) after `timeoutMs`. */
const eventually = async <A>(what: string, get: () => Promise<A>, check: (a: A) => boolean, timeoutMs = 30_000): Promise<A> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    let last: unknown
    try {
      const a = await get()
      if (check(a)) return a
      last = a
    } catch (e) {
      last = (e as Error).message
    }
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s: ${JSON.stringify(last)}`)
    await sleep(100)
  }
}

/**
 * Brokers over one database: `create` (the topic) once every broker lists all of them (so that its partitions
 * are placed over every node), then ready once every broker names the same live leader for each partition.
 */
const clusterReady = async (servers: ReadonlyArray<ServerProcess>, topic: string, create: () => Promise<void>) => {
  const ids = (view: Awaited<ReturnType<typeof clusterView>>) => view.brokers.map((b) => b.nodeId).join(",")
  const all = servers.map((_, i) => i + 1).join(",")
  for (const server of servers) await eventually(`broker on port ${server.port} listing nodes ${all}`, () => clusterView(server.port, topic), (v) => ids(v) === all)
  await create()
  const leaders = (view: Awaited<ReturnType<typeof clusterView>>) => view.partitions.map((p) => p.leader).join(",")
  const first = await eventually(`leaders of ${topic}`, () => clusterView(servers[0]!.port, topic), (v) => v.partitions.length > 0 && v.partitions.every((p) => p.leader > 0))
  for (const server of servers.slice(1)) {
    await eventually(`broker on port ${server.port} naming the leaders of ${topic} as the first does (${leaders(first)})`, () => clusterView(server.port, topic), (v) => leaders(v) === leaders(first))
  }
  progress(`    ${servers.length} brokers; leaders of ${topic}'s partitions 0-${first.partitions.length - 1}: nodes ${leaders(first)}`)
}

const stopTarget = async (servers: ServerProcess | ReadonlyArray<ServerProcess>, dir: string) => {
  const all = Array.isArray(servers) ? servers : [servers as ServerProcess]
  const codes = await Promise.all(all.map((server) => server.stop()))
  rmSync(dir, { recursive: true, force: true })
  // Let the deletion of the run's files (and the disk's discards) settle before the next run.
  await new Promise((r) => setTimeout(r, 500))
  all.forEach((server, i) => {
    if (codes[i] !== 0) progress(`    ${server.kind}${all.length > 1 ? ` ${i + 1}` : ""} exited with code ${codes[i]}: ${server.output().trim().split("\n").slice(-3).join(" | ")}`)
  })
}

/** How one produce run differs from its scenario's: the producer, the broker's extra config, the listener loaded. */
interface RunOptions {
  readonly producer?: ProducerMode
  readonly brokerExtra?: Readonly<Record<string, string>>
  /** The listener to load (its name as the broker logs it), and how to connect to it; default: the first. */
  readonly listener?: { readonly name: string; readonly security: Security }
  readonly label?: string
  /** Started once the broker is up, stopped after the load (returns its stopper). */
  readonly alongside?: (server: ServerProcess) => () => Promise<void>
  /** Brokers of one cluster (default 1): more need a storage.url in brokerExtra; RSS is then the largest one's. */
  readonly brokers?: number
  /** Each partition's batches to its leader (loadgen's byLeader), as a client of a cluster sends them. */
  readonly byLeader?: boolean
}

/** The port of the broker's listener `name`, from its "listening on host:port (NAME" line. */
const listenerPort = (server: ServerProcess, name: string) => {
  const m = new RegExp(`listening on [^ ]*:(\\d+) \\(${name}[,)]`).exec(server.output())
  if (m === null) throw new Error(`the broker has no ${name} listener`)
  return Number(m[1])
}

const produceRun = async (target: Target, s: ProduceScenario, round: number, options: RunOptions = {}): Promise<RunResult> => {
  const dir = freshDir(target)
  let servers: ReadonlyArray<ServerProcess> | undefined
  let profileDir: string | undefined
  let rss: ReturnType<typeof sampleRss> | undefined
  const { producer, listener } = options
  try {
    ;({ servers, profileDir } = await startTarget(target, dir, { [s.topic]: s.partitions }, `s${s.id}-r${round}${options.label === undefined ? "" : `-${options.label}`}`, options.brokerExtra, options.brokers))
    const server = servers[0]!
    const each = servers
    rss = sampleRss(() => Math.max(...each.map((x) => x.rss() ?? 0)) || undefined)
    const ticks = cpuTicks()
    const port = listener === undefined ? server.port : listenerPort(server, listener.name)
    const stopAlongside = options.alongside?.(server)
    const cpu = cpuMeter(each)
    const load = { port, topic: s.topic, partitions: s.partitions, partitionsPerRequest: s.partitionsPerRequest, recordSize: s.recordSize, recordsPerBatch: s.recordsPerBatch, connections: s.connections, inflight: s.inflight, acks: 1, warmupSeconds: warmup, seconds, producer, security: listener?.security, byLeader: options.byLeader }
    const { produce: result, tail } = s.tail === undefined ? { produce: await runProduce(load), tail: undefined } : await runProduceAndTail({ ...load, ...s.tail })
    const { loadCpu, serverCpu } = cpu.stop()
    await stopAlongside?.()
    const steal = stealSince(ticks)
    const rssMax = rss.stop()
    await stopTarget(servers, dir)
    return { result, tail, error: undefined, rssMax, profile: findProfile(profileDir), steal, loadCpu, serverCpu }
  } catch (e) {
    const rssMax = rss?.stop() ?? NaN
    if (servers !== undefined) await stopTarget(servers, dir)
    else rmSync(dir, { recursive: true, force: true })
    return { result: undefined, error: (e as Error).message.split("\n")[0]!, rssMax, profile: undefined, steal: NaN }
  }
}

const describeRun = (r: RunResult) =>
  r.result === undefined
    ? `error: ${r.error}`
    : `${int(r.result.recordsPerSec)} records/s, ${fixed(r.result.payloadMBps)} MB/s,${r.result.commits > 0 ? ` ${int(r.result.commits)} commits,` : ""} p50 ${msOf(r.result.latency.p50)} p99 ${msOf(r.result.latency.p99)} p999 ${msOf(r.result.latency.p999)} ms, ` +
      (r.tail === undefined ? "" : `consumer ${int(r.tail.requestsPerSec)} fetches/s (${int(r.tail.empty)} empty), end to end p50 ${msOf(r.tail.latency.p50)} p99 ${msOf(r.tail.latency.p99)} ms, `) +
      (r.result.perConnection.min < r.result.perConnection.median / 2 ? `answered per connection ${int(r.result.perConnection.min)} to ${int(r.result.perConnection.max)} (median ${int(r.result.perConnection.median)}), ` : "") +
      `RSS ${mb(r.rssMax)} MB, CPU server ${fixed(r.serverCpu ?? NaN, 0)}% load ${fixed(r.loadCpu ?? NaN, 0)}%, steal ${fixed(r.steal, 0)}%` +
      (r.result.errors > 0 ? `, ${r.result.errors} partition errors (first ${r.result.firstError})` : "")

interface Figures {
  readonly recordsPerSec: number
  readonly requestsPerSec: number
  readonly MBps: number
  readonly p50: number
  readonly p99: number
  readonly p999: number
  readonly rss: number
  readonly errors: number
  readonly failed: number
  /** Requests answered per connection within the measured time (medians of the runs'): fewest, median. */
  readonly perConnectionMin: number
  readonly perConnectionMedian: number
  /** Medians of the runs': hypervisor steal and CPU (% of one core), see RunResult. */
  readonly steal: number
  readonly loadCpu: number
  readonly serverCpu: number
  /** The tailing consumer's, where there is one (NaN otherwise): Fetches answered per second, end-to-end latencies. */
  readonly fetchesPerSec: number
  readonly emptyFetches: number
  readonly e2eP50: number
  readonly e2eP99: number
  readonly e2eP999: number
}

const figures = (runs: ReadonlyArray<RunResult>): Figures => {
  const ok = runs.flatMap((r) => (r.result === undefined ? [] : [r.result]))
  const done = runs.filter((r) => r.result !== undefined)
  const tails = done.flatMap((r) => (r.tail === undefined ? [] : [r.tail]))
  return {
    recordsPerSec: median(ok.map((r) => r.recordsPerSec)),
    requestsPerSec: median(ok.map((r) => r.requests / r.seconds)),
    MBps: median(ok.map((r) => r.payloadMBps)),
    p50: median(ok.map((r) => r.latency.p50)),
    p99: median(ok.map((r) => r.latency.p99)),
    p999: median(ok.map((r) => r.latency.p999)),
    rss: runs.some((r) => Number.isFinite(r.rssMax)) ? Math.max(...runs.map((r) => r.rssMax).filter(Number.isFinite)) : NaN,
    errors: ok.reduce((n, r) => n + r.errors, 0),
    failed: runs.length - ok.length,
    perConnectionMin: median(ok.map((r) => r.perConnection.min)),
    perConnectionMedian: median(ok.map((r) => r.perConnection.median)),
    steal: median(done.map((r) => r.steal)),
    loadCpu: median(done.map((r) => r.loadCpu ?? NaN)),
    serverCpu: median(done.map((r) => r.serverCpu ?? NaN)),
    fetchesPerSec: median(tails.map((t) => t.requestsPerSec)),
    emptyFetches: median(tails.map((t) => t.empty)),
    e2eP50: median(tails.map((t) => t.latency.p50)),
    e2eP99: median(tails.map((t) => t.latency.p99)),
    e2eP999: median(tails.map((t) => t.latency.p999))
  }
}

// ---------------------------------------------------------------------------------------------------------
// Summary table

const summary: Array<string> = []
const profiles: Array<string> = []
const row = (label: string, ref: string, broker: string, ratio: string, target = "", result = "") =>
  summary.push(`${label.padEnd(22)}${ref.padStart(16)} ${broker.padStart(16)}${ratio.padStart(7)}   ${target.padEnd(28)}${result}`.trimEnd())
const verdict = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "PASS" : "FAIL")
const ratioOf = (b: number, r: number) => (Number.isFinite(b) && Number.isFinite(r) && r !== 0 ? (b / r).toFixed(2) : "-")

const addProfile = (title: string, file: string | undefined) => {
  if (file === undefined) return
  profiles.push(`${title} (${file}):`)
  for (const line of summarizeProfile(file, 12)) profiles.push(`  ${line}`)
}

const produced = new Map<number, { ref: Figures; broker: Figures }>()

const runProduceScenario = async (s: ProduceScenario) => {
  progress(`scenario ${s.id} ${s.name}: ${s.describe}`)
  const runs: Record<Target, Array<RunResult>> = { reference: [], broker: [] }
  for (let round = 1; round <= rounds; round++) {
    const order: Array<Target> = round % 2 === 1 ? ["reference", "broker"] : ["broker", "reference"]
    for (const target of order) {
      const r = await produceRun(target, s, round)
      runs[target].push(r)
      progress(`  round ${round} ${target.padEnd(9)} ${describeRun(r)}`)
    }
  }
  const ref = figures(runs.reference)
  const broker = figures(runs.broker)
  produced.set(s.id, { ref, broker })
  addProfile(`broker profile, scenario ${s.id} (last round)`, runs.broker.at(-1)?.profile)
  return { ref, broker }
}

const failures = (f: Figures) => (f.failed > 0 ? ` (${f.failed} runs failed)` : "") + (f.errors > 0 ? ` (${f.errors} partition errors)` : "")

const reportProduce = (s: ProduceScenario, ref: Figures, broker: Figures) => {
  summary.push(`${s.id} ${s.name}: ${s.describe}`)
  const latencyCells = (f: Figures) => `${msOf(f.p50)}/${msOf(f.p99)}/${msOf(f.p999)}`
  if (s.id === 1) {
    const ok = Number.isFinite(broker.recordsPerSec) && Number.isFinite(ref.recordsPerSec) ? broker.recordsPerSec >= 0.95 * ref.recordsPerSec : undefined
    row("  records/s", int(ref.recordsPerSec), int(broker.recordsPerSec), ratioOf(broker.recordsPerSec, ref.recordsPerSec), "≥ 0.95 × reference", verdict(ok) + failures(broker))
    row("  MB/s (payload)", fixed(ref.MBps), fixed(broker.MBps), ratioOf(broker.MBps, ref.MBps))
    const tail = Number.isFinite(broker.p99) && Number.isFinite(ref.p99) ? broker.p99 <= 1.5 * ref.p99 : undefined
    row("  p50/p99/p999 ms", latencyCells(ref), latencyCells(broker), ratioOf(broker.p99, ref.p99), "p99 ≤ 1.5 × reference", verdict(tail))
  } else if (s.id === 2) {
    const ok = Number.isFinite(broker.p99) && Number.isFinite(ref.p99) ? broker.p99 <= 1.5 * ref.p99 : undefined
    row("  p99 ms", msOf(ref.p99), msOf(broker.p99), ratioOf(broker.p99, ref.p99), "≤ 1.5 × reference", verdict(ok) + failures(broker))
    row("  p50/p999 ms", `${msOf(ref.p50)}/${msOf(ref.p999)}`, `${msOf(broker.p50)}/${msOf(broker.p999)}`, ratioOf(broker.p50, ref.p50))
    const rate = Number.isFinite(broker.recordsPerSec) && Number.isFinite(ref.recordsPerSec) ? broker.recordsPerSec >= 0.7 * ref.recordsPerSec : undefined
    row("  records/s", int(ref.recordsPerSec), int(broker.recordsPerSec), ratioOf(broker.recordsPerSec, ref.recordsPerSec), "≥ 0.7 × reference", verdict(rate))
  } else if (s.id === 11) {
    row("  produce requests/s", int(ref.requestsPerSec), int(broker.requestsPerSec), ratioOf(broker.requestsPerSec, ref.requestsPerSec), "reported", failures(broker) || "-")
    row("  fetch requests/s", int(ref.fetchesPerSec), int(broker.fetchesPerSec), ratioOf(broker.fetchesPerSec, ref.fetchesPerSec), "answered, in the measured time")
    row("  end to end p50 ms", msOf(ref.e2eP50), msOf(broker.e2eP50), ratioOf(broker.e2eP50, ref.e2eP50), "produce sent → record fetched")
    row("  end to end p99 ms", msOf(ref.e2eP99), msOf(broker.e2eP99), ratioOf(broker.e2eP99, ref.e2eP99))
    row("  end to end p999 ms", msOf(ref.e2eP999), msOf(broker.e2eP999), ratioOf(broker.e2eP999, ref.e2eP999))
    row("  produce p50/p99 ms", `${msOf(ref.p50)}/${msOf(ref.p99)}`, `${msOf(broker.p50)}/${msOf(broker.p99)}`, ratioOf(broker.p99, ref.p99), "produce sent → answered")
    row("  empty fetches", int(ref.emptyFetches), int(broker.emptyFetches), "", "long polls timed out")
  } else if (s.id === 12) {
    row("  requests/s", int(ref.requestsPerSec), int(broker.requestsPerSec), ratioOf(broker.requestsPerSec, ref.requestsPerSec), "reported", failures(broker) || "-")
    row("  p50 ms", msOf(ref.p50), msOf(broker.p50), ratioOf(broker.p50, ref.p50))
    row("  p99 ms", msOf(ref.p99), msOf(broker.p99), ratioOf(broker.p99, ref.p99))
    row("  p999 ms", msOf(ref.p999), msOf(broker.p999), ratioOf(broker.p999, ref.p999))
    const perConnection = (f: Figures) => `${int(f.perConnectionMin)}/${int(f.perConnectionMedian)}`
    row("  answered/conn min/med", perConnection(ref), perConnection(broker), "", "requests, in the measured time")
  } else {
    const ok = Number.isFinite(broker.recordsPerSec) && Number.isFinite(ref.recordsPerSec) ? broker.recordsPerSec >= 0.6 * ref.recordsPerSec : undefined
    row("  records/s", int(ref.recordsPerSec), int(broker.recordsPerSec), ratioOf(broker.recordsPerSec, ref.recordsPerSec), "≥ 0.6 × reference", verdict(ok) + failures(broker))
    row("  MB/s (payload)", fixed(ref.MBps), fixed(broker.MBps), ratioOf(broker.MBps, ref.MBps))
    row("  p50/p99/p999 ms", latencyCells(ref), latencyCells(broker), ratioOf(broker.p99, ref.p99))
  }
  row("  CPU % server, loadgen", `${fixed(ref.serverCpu, 0)}, ${fixed(ref.loadCpu, 0)}`, `${fixed(broker.serverCpu, 0)}, ${fixed(broker.loadCpu, 0)}`, ratioOf(broker.serverCpu, ref.serverCpu), "of one core, warm-up included")
  row("  steal %", fixed(ref.steal), fixed(broker.steal), "", "hypervisor, during the runs")
  row("  max RSS MB", mb(ref.rss), mb(broker.rss), ratioOf(broker.rss, ref.rss))
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 6: transactions (broker only)

const runTransactionScenario = async () => {
  const s1 = produceScenarios[0]!
  const commitEvery = Math.max(1, num("txn-batches"))
  const modes: Record<"idempotent" | "transactional", ProducerMode> = {
    idempotent: { kind: "idempotent" },
    transactional: { kind: "transactional", commitEvery }
  }
  const describe = `scenario 1 (${s1.describe}) with a producer per connection: transactional, committing every ${commitEvery} record batches, against idempotent`
  progress(`scenario 6 transactions: ${describe}`)
  const runs: Record<keyof typeof modes, Array<RunResult>> = { idempotent: [], transactional: [] }
  for (let round = 1; round <= rounds; round++) {
    const order: Array<keyof typeof modes> = round % 2 === 1 ? ["idempotent", "transactional"] : ["transactional", "idempotent"]
    for (const mode of order) {
      const r = await produceRun("broker", { ...s1, id: 6 }, round, { producer: modes[mode], label: mode })
      runs[mode].push(r)
      progress(`  round ${round} ${mode.padEnd(13)} ${describeRun(r)}`)
    }
  }
  const idem = figures(runs.idempotent)
  const txn = figures(runs.transactional)
  const commitsPerSec = median(runs.transactional.flatMap((r) => (r.result === undefined ? [] : [r.result.commits / r.result.seconds])))
  summary.push(`6 transactions: ${describe}`)
  summary.push(`  (columns: idempotent, transactional, transactional / idempotent)`)
  row("  records/s", int(idem.recordsPerSec), int(txn.recordsPerSec), ratioOf(txn.recordsPerSec, idem.recordsPerSec), "reported", failures(txn) || "-")
  row("  MB/s (payload)", fixed(idem.MBps), fixed(txn.MBps), ratioOf(txn.MBps, idem.MBps))
  row("  p50/p99/p999 ms", `${msOf(idem.p50)}/${msOf(idem.p99)}/${msOf(idem.p999)}`, `${msOf(txn.p50)}/${msOf(txn.p99)}/${msOf(txn.p999)}`, ratioOf(txn.p99, idem.p99))
  row("  commits/s", "", fixed(commitsPerSec), "")
  row("  max RSS MB", mb(idem.rss), mb(txn.rss), ratioOf(txn.rss, idem.rss))
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 8: TLS and SASL (broker only)

/** A self-signed certificate for 127.0.0.1 and its key in one PEM file (Kafka's PEM keystore), made by openssl. */
const selfSignedKeystore = (dir: string): string => {
  execSync(
    `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null && cat key.pem cert.pem > keystore.pem`,
    { cwd: dir }
  )
  return join(dir, "keystore.pem")
}

const runTlsScenario = async () => {
  const s1 = produceScenarios[0]!
  const certDir = mkdtempSync(join(tmpdir(), "bench-tls-"))
  const brokerExtra = {
    "listeners": "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
    "ssl.keystore.type": "PEM",
    "ssl.keystore.location": selfSignedKeystore(certDir),
    "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_ssl.plain.sasl.jaas.config":
      `org.apache.kafka.common.security.plain.PlainLoginModule required user_bench="bench-secret";`
  }
  const modes = {
    plaintext: { name: "PLAINTEXT", security: {} },
    sasl_ssl: { name: "SASL_SSL", security: { tls: true, plain: { username: "bench", password: "bench-secret" } } }
  } as const
  const describe = `scenario 1 (${s1.describe}) against a SASL_SSL listener (TLS, SASL/PLAIN), against the same broker's PLAINTEXT listener`
  progress(`scenario 8 tls: ${describe}`)
  const runs: Record<keyof typeof modes, Array<RunResult>> = { plaintext: [], sasl_ssl: [] }
  try {
    for (let round = 1; round <= rounds; round++) {
      const order: Array<keyof typeof modes> = round % 2 === 1 ? ["plaintext", "sasl_ssl"] : ["sasl_ssl", "plaintext"]
      for (const mode of order) {
        const r = await produceRun("broker", { ...s1, id: 8 }, round, { brokerExtra, listener: modes[mode], label: mode })
        runs[mode].push(r)
        progress(`  round ${round} ${mode.padEnd(10)} ${describeRun(r)}`)
      }
    }
  } finally {
    rmSync(certDir, { recursive: true, force: true })
  }
  const plain = figures(runs.plaintext)
  const secured = figures(runs.sasl_ssl)
  summary.push(`8 tls: ${describe}`)
  summary.push(`  (columns: PLAINTEXT, SASL_SSL, SASL_SSL / PLAINTEXT)`)
  row("  records/s", int(plain.recordsPerSec), int(secured.recordsPerSec), ratioOf(secured.recordsPerSec, plain.recordsPerSec), "reported", failures(secured) || "-")
  row("  MB/s (payload)", fixed(plain.MBps), fixed(secured.MBps), ratioOf(secured.MBps, plain.MBps))
  row("  p50/p99/p999 ms", `${msOf(plain.p50)}/${msOf(plain.p99)}/${msOf(plain.p999)}`, `${msOf(secured.p50)}/${msOf(secured.p99)}/${msOf(secured.p999)}`, ratioOf(secured.p99, plain.p99))
  row("  max RSS MB", mb(plain.rss), mb(secured.rss), ratioOf(secured.rss, plain.rss))
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 9: the console and /metrics on (broker only)

/** Polls the console as Prometheus and an open page do, once a second each; counts the answers. */
const watchConsole = (server: ServerProcess, topic: string, counts: { scrapes: number; failures: number }) => {
  const m = /console listening on (http:\/\/[^\s"]+)/.exec(server.output())
  if (m === null) throw new Error("the broker logged no console address")
  const url = m[1]!
  const paths = ["/metrics", "/api/rates", "/api/overview", `/api/topics/${topic}`]
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now()
      for (const path of paths) {
        const ok = await fetch(url + path).then(async (r) => (await r.arrayBuffer(), r.ok), () => false)
        if (ok) counts.scrapes++
        else counts.failures++
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))))
    }
  })()
  return async () => {
    stopped = true
    await loop
  }
}

const runConsoleScenario = async () => {
  const s1 = produceScenarios[0]!
  const describe = `scenario 1 (${s1.describe}) with console.listener on, /metrics, /api/rates, /api/overview and a topic page fetched once a second each, against no console`
  progress(`scenario 9 console: ${describe}`)
  const runs: Record<"off" | "on", Array<RunResult>> = { off: [], on: [] }
  const counts = { scrapes: 0, failures: 0 }
  for (let round = 1; round <= rounds; round++) {
    const order: Array<"off" | "on"> = round % 2 === 1 ? ["off", "on"] : ["on", "off"]
    for (const mode of order) {
      const r = await produceRun("broker", { ...s1, id: 9 }, round, mode === "off"
        ? { label: "console-off" }
        : { label: "console-on", brokerExtra: { "console.listener": "http://127.0.0.1:0" }, alongside: (server) => watchConsole(server, s1.topic, counts) })
      runs[mode].push(r)
      progress(`  round ${round} ${mode.padEnd(4)} ${describeRun(r)}`)
    }
  }
  const off = figures(runs.off)
  const on = figures(runs.on)
  summary.push(`9 console: ${describe}`)
  summary.push(`  (columns: console off, console on, on / off; ${counts.scrapes} console answers, ${counts.failures} failed)`)
  row("  records/s", int(off.recordsPerSec), int(on.recordsPerSec), ratioOf(on.recordsPerSec, off.recordsPerSec), "reported", failures(on) || "-")
  row("  MB/s (payload)", fixed(off.MBps), fixed(on.MBps), ratioOf(on.MBps, off.MBps))
  row("  p50/p99/p999 ms", `${msOf(off.p50)}/${msOf(off.p99)}/${msOf(off.p999)}`, `${msOf(on.p50)}/${msOf(on.p99)}/${msOf(on.p999)}`, ratioOf(on.p99, off.p99))
  row("  max RSS MB", mb(off.rss), mb(on.rss), ratioOf(on.rss, off.rss))
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 10: the broker's state in PostgreSQL, one broker and three (broker only)

/** Where the broker keeps its state: files, or a PostgreSQL database shared by `brokers` brokers. */
const storages = {
  files: { title: "files", brokers: 1 },
  pg1: { title: "PostgreSQL, 1 broker", brokers: 1 },
  pg3: { title: "PostgreSQL, 3 brokers", brokers: 3 }
} as const
type Storage = keyof typeof storages

const runPostgresScenario = async () => {
  const loads = [produceScenarios[0]!, produceScenarios[1]!]
  const pg = await startPostgres()
  const version = execFileSync(join(postgresBin!, "postgres"), ["--version"]).toString().trim().replace(/^postgres \(PostgreSQL\) /, "")
  const describe = `scenario 1's and 2's loads against the broker on files, against one broker with storage.url on a throwaway PostgreSQL ${version} ` +
    `on this machine (fsync off, a fresh database per run), and against three brokers over one database, each partition's batches sent to its leader`
  progress(`scenario 10 postgresql: ${describe}`)
  const runs = new Map(loads.map((load) => [load.id, { files: [], pg1: [], pg3: [] } as Record<Storage, Array<RunResult>>]))
  const names = Object.keys(storages) as Array<Storage>
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = names.map((_, i) => names[(i + round - 1) % names.length]!)
      for (const load of loads) {
        for (const storage of order) {
          const { brokers } = storages[storage]
          const url = storage === "files" ? undefined : await pg.createDatabase()
          const r = await produceRun("broker", { ...load, id: 10 }, round, {
            label: `${load.name}-${storage}`,
            brokers,
            byLeader: true,
            brokerExtra: url === undefined ? {} : { "storage.url": url }
          })
          if (url !== undefined) await pg.dropDatabase(url)
          runs.get(load.id)![storage].push(r)
          progress(`  round ${round} s${load.id} ${storages[storage].title.padEnd(21)} ${describeRun(r)}`)
        }
      }
    }
  } finally {
    await pg.stop()
  }
  const [s1, s2] = loads.map((load) => {
    const of = runs.get(load.id)!
    return { files: figures(of.files), pg1: figures(of.pg1), pg3: figures(of.pg3) }
  }) as [Record<Storage, Figures>, Record<Storage, Figures>]
  const latencies = (f: Figures, ...ks: Array<"p50" | "p99" | "p999">) => ks.map((k) => msOf(f[k])).join("/")
  summary.push(`10 postgresql: ${describe}`)
  summary.push(`  (columns: files, PostgreSQL, PostgreSQL / files; ×1: one broker over PostgreSQL, ×3: three brokers, 4 connections to each leader in s1; ms)`)
  for (const pg of ["pg1", "pg3"] as const) {
    const n = `×${storages[pg].brokers}`
    row(`  s1 records/s ${n}`, int(s1.files.recordsPerSec), int(s1[pg].recordsPerSec), ratioOf(s1[pg].recordsPerSec, s1.files.recordsPerSec), "reported", failures(s1[pg]) + failures(s1.files) || "-")
  }
  for (const pg of ["pg1", "pg3"] as const) {
    row(`  s1 p50/p99/p999 ×${storages[pg].brokers}`, latencies(s1.files, "p50", "p99", "p999"), latencies(s1[pg], "p50", "p99", "p999"), ratioOf(s1[pg].p99, s1.files.p99))
  }
  for (const pg of ["pg1", "pg3"] as const) {
    row(`  s2 p99 ms ×${storages[pg].brokers}`, msOf(s2.files.p99), msOf(s2[pg].p99), ratioOf(s2[pg].p99, s2.files.p99), "reported", failures(s2[pg]) + failures(s2.files) || "-")
  }
  for (const pg of ["pg1", "pg3"] as const) {
    row(`  s2 p50/p999 ×${storages[pg].brokers}`, latencies(s2.files, "p50", "p999"), latencies(s2[pg], "p50", "p999"), ratioOf(s2[pg].p50, s2.files.p50))
  }
  for (const pg of ["pg1", "pg3"] as const) {
    row(`  s2 records/s ×${storages[pg].brokers}`, int(s2.files.recordsPerSec), int(s2[pg].recordsPerSec), ratioOf(s2[pg].recordsPerSec, s2.files.recordsPerSec))
  }
  for (const pg of ["pg1", "pg3"] as const) {
    const rss = Math.max(s1[pg].rss, s2[pg].rss)
    const files = Math.max(s1.files.rss, s2.files.rss)
    row(`  max RSS MB ×${storages[pg].brokers}`, mb(files), mb(rss), ratioOf(rss, files), storages[pg].brokers > 1 ? "the largest broker's" : "")
  }
  addProfile("broker profile, scenario 10 (last round, scenario 1's load, PostgreSQL, 1 broker)", runs.get(1)!.pg1.at(-1)?.profile)
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 7: produce while the cleaner works (broker only)

/** One clean as the broker logged it, with when its line arrived (performance.now()). */
interface CleanLine {
  readonly partition: string
  readonly ms: number
  readonly at: number
}

const CLEAN_LINE = /log cleaner: (\S+): cleaned \[\d+, \d+\) in (\d+) ms:/

/**
 * Follows the cleaner of a broker from outside, every `everyMs`: the lines it logs at the end of each clean
 * (timed as they arrive), and the `.log.cleaned` files it writes in the partitions' folders, one for each group
 * of segments it rewrites (the first appears once the key map of its first clean is built; one that lives
 * less than `everyMs` may be missed, so their count is a floor).
 */
const watchCleaner = (server: ServerProcess, logDir: string, dirty: DirtyLog, everyMs = 25) => {
  const lines: Array<CleanLine> = []
  const groups: Array<number> = []
  const seenFiles = new Set<string>()
  let seen = 0
  const poll = () => {
    const at = performance.now()
    const output = server.output()
    const end = output.lastIndexOf("\n") + 1
    if (end > seen) {
      for (const line of output.slice(seen, end).split("\n")) {
        const m = CLEAN_LINE.exec(line)
        if (m !== null) lines.push({ partition: m[1]!, ms: Number(m[2]), at })
      }
      seen = end
    }
    for (let p = 0; p < dirty.partitions; p++) {
      let names: Array<string>
      try {
        names = readdirSync(join(logDir, `${dirty.topic}-${p}`))
      } catch {
        continue
      }
      for (const name of names) {
        if (!name.endsWith(".log.cleaned") || seenFiles.has(`${p}/${name}`)) continue
        seenFiles.add(`${p}/${name}`)
        groups.push(at)
      }
    }
  }
  const timer = setInterval(poll, everyMs)
  return {
    lines,
    groups,
    stop: () => {
      poll()
      clearInterval(timer)
    }
  }
}

interface CleanerRun extends RunResult {
  /** Of the measured time, the share during which a clean was running (cleaner on). */
  readonly busy: number
  /** Groups of segments the cleaner was seen to start rewriting during the measured time. */
  readonly groups: number
  /** From the broker's start to its first group being rewritten (cleaner on). */
  readonly startedMs: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const cleanerRun = async (s: ProduceScenario, dirty: DirtyLog, round: number, cleaning: boolean): Promise<CleanerRun> => {
  const dir = freshDir(cleaning ? "cleaner" : "no-cleaner")
  const logDir = join(dir, "logs")
  let server: ServerProcess | undefined
  let profileDir: string | undefined
  let rss: ReturnType<typeof sampleRss> | undefined
  let watch: ReturnType<typeof watchCleaner> | undefined
  try {
    const filled = await writeDirtyLog(logDir, dirty, { "min.cleanable.dirty.ratio": "0.01" })
    progress(`    dirty log: ${mb(filled.bytes)} MiB (${int(filled.records)} records) written in ${fixed(filled.seconds)} s`)
    await sleep(500)
    const extra: Record<string, string> = cleaning ? { "log.cleaner.enable": "true", "log.cleaner.backoff.ms": "100" } : { "log.cleaner.enable": "false" }
    ;({ server, profileDir } = await startTarget("broker", dir, { [s.topic]: s.partitions }, `s7-r${round}-${cleaning ? "cleaner" : "off"}`, extra))
    const started = server.spawnedAt
    watch = watchCleaner(server, logDir, dirty)
    // Produce starts once the cleaner is at work (its first group being rewritten), and not before a second
    // has passed in either mode.
    await sleep(1000)
    const deadline = performance.now() + 60_000
    while (cleaning && watch.groups.length === 0) {
      if (performance.now() > deadline) throw new Error("the cleaner did not start within 60 s")
      await sleep(20)
    }
    const startedMs = cleaning ? watch.groups[0]! - started : NaN
    rss = sampleRss(server.rss)
    const ticks = cpuTicks()
    const from = performance.now() + warmup * 1000
    const result = await runProduce({ port: server.port, topic: s.topic, partitions: s.partitions, recordSize: s.recordSize, recordsPerBatch: s.recordsPerBatch, connections: s.connections, inflight: s.inflight, acks: 1, warmupSeconds: warmup, seconds })
    const to = performance.now()
    const steal = stealSince(ticks)
    const rssMax = rss.stop()
    // The clean running at the end of the measured time finishes (its line gives its duration), the broker idle.
    const lines = watch.lines
    const until = performance.now() + 120_000
    while (cleaning && !lines.some((l) => l.at > to) && new Set(lines.map((l) => l.partition)).size < dirty.partitions && performance.now() < until) await sleep(50)
    watch.stop()
    // The union of the cleans' spans within the measured time (their ends are known to the polling interval, so
    // consecutive spans may overlap a little).
    let busyMs = 0
    let covered = from
    for (const l of [...lines].sort((x, y) => x.at - x.ms - (y.at - y.ms))) {
      const start = Math.max(l.at - l.ms, covered)
      const end = Math.min(l.at, to)
      if (end > start) busyMs += end - start
      covered = Math.max(covered, end)
    }
    await stopTarget(server, dir)
    return {
      result, error: undefined, rssMax, profile: findProfile(profileDir), steal,
      busy: cleaning ? busyMs / (to - from) : NaN,
      groups: watch.groups.filter((at) => at >= from && at <= to).length,
      startedMs
    }
  } catch (e) {
    watch?.stop()
    const rssMax = rss?.stop() ?? NaN
    if (server !== undefined) await stopTarget(server, dir)
    else rmSync(dir, { recursive: true, force: true })
    return { result: undefined, error: (e as Error).message.split("\n")[0]!, rssMax, profile: undefined, steal: NaN, busy: NaN, groups: 0, startedMs: NaN }
  }
}

const runCleanerScenario = async () => {
  const s1 = produceScenarios[0]!
  const partitions = 4
  const dirty: DirtyLog = {
    topic: "compacted",
    partitions,
    mibPerPartition: num("cleaner-mib") / partitions,
    keys: 10_000,
    valueSize: 1024,
    recordsPerBatch: 100,
    codec: codecOf(flags["cleaner-codec"]),
    segmentBytes: 16 * 2 ** 20
  }
  const describe = `scenario 1 (${s1.describe}) while the cleaner compacts topic ${dirty.topic} of the same broker: ${flags["cleaner-mib"]} MiB of dirty log ` +
    `(${partitions} partitions, 1 KiB values over 10,000 keys each, 100/batch, codec ${flags["cleaner-codec"]}, 16 MiB segments) written before the broker starts, ` +
    `produce from 1 s after the start and, cleaner on, once it rewrites its first segment; against the same broker and logs with log.cleaner.enable=false`
  progress(`scenario 7 cleaner: ${describe}`)
  const runs: Record<"off" | "cleaning", Array<CleanerRun>> = { off: [], cleaning: [] }
  for (let round = 1; round <= rounds; round++) {
    const order: Array<keyof typeof runs> = round % 2 === 1 ? ["off", "cleaning"] : ["cleaning", "off"]
    for (const mode of order) {
      const r = await cleanerRun({ ...s1, id: 7 }, dirty, round, mode === "cleaning")
      runs[mode].push(r)
      const cleaner = mode === "cleaning" && r.result !== undefined
        ? `; cleaner at work ${fixed(r.startedMs / 1000)} s after the spawn, busy ${fixed(100 * r.busy, 0)}% of the measured time, ${r.groups} segments rewritten in it`
        : ""
      progress(`  round ${round} ${(mode === "off" ? "cleaner off" : "cleaning").padEnd(13)} ${describeRun(r)}${cleaner}`)
    }
  }
  const off = figures(runs.off)
  const on = figures(runs.cleaning)
  const ok = runs.cleaning.filter((r) => r.result !== undefined)
  const busy = median(ok.map((r) => r.busy))
  const groups = median(ok.map((r) => r.groups))
  summary.push(`7 cleaner: ${describe}`)
  summary.push(`  (columns: cleaner off, cleaner working, working / off)`)
  row("  records/s", int(off.recordsPerSec), int(on.recordsPerSec), ratioOf(on.recordsPerSec, off.recordsPerSec), "reported", failures(on) + failures(off) || "-")
  row("  MB/s (payload)", fixed(off.MBps), fixed(on.MBps), ratioOf(on.MBps, off.MBps))
  row("  p50/p99/p999 ms", `${msOf(off.p50)}/${msOf(off.p99)}/${msOf(off.p999)}`, `${msOf(on.p50)}/${msOf(on.p99)}/${msOf(on.p999)}`, ratioOf(on.p99, off.p99))
  row("  max RSS MB", mb(off.rss), mb(on.rss), ratioOf(on.rss, off.rss))
  row("  cleaner busy %", "", fixed(100 * busy, 0), "", "of the measured time", busy < 0.95 ? "less than all of it: raise --cleaner-mib" : "")
  row("  segments rewritten", "", fixed(groups, 0), "", `16 MiB each, in the measured ${seconds} s (at least)`)
  addProfile("broker profile, scenario 7 (last round, cleaner working)", runs.cleaning.at(-1)?.profile)
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 4: fetch

const fetchRun = async (target: Target, gib: number, reads: number) => {
  const dir = freshDir(target)
  const { server, profileDir } = await startTarget(target, dir, { fetch: 1 }, "s4")
  const rss = sampleRss(server.rss)
  const speeds: Array<number> = []
  let producedLine = ""
  let error: string | undefined
  try {
    const p = await runProduce({ port: server.port, topic: "fetch", partitions: 1, recordSize: 1024, recordsPerBatch: 1000, connections: 1, inflight: 4, acks: 1, totalBytes: gib * 2 ** 30 })
    producedLine = `${(p.payloadBytes / 2 ** 30).toFixed(2)} GiB of payload produced in ${fixed(p.seconds)} s (${fixed(p.payloadMBps)} MB/s)`
    progress(`  ${target.padEnd(9)} ${producedLine}`)
    for (let i = 0; i < reads; i++) {
      const f = await runFetch({ port: server.port, topic: "fetch", partition: 0, maxBytes: 32 * 2 ** 20 })
      speeds.push(f.MBps)
      progress(`  ${target.padEnd(9)} read ${i + 1}: ${(f.bytes / 2 ** 30).toFixed(2)} GiB, offsets 0-${f.endOffset}, ${f.requests} requests, ${fixed(f.seconds, 2)} s: ${fixed(f.MBps, 0)} MB/s`)
    }
  } catch (e) {
    error = (e as Error).message.split("\n")[0]
    progress(`  ${target.padEnd(9)} error: ${error}`)
  }
  const rssMax = rss.stop()
  await stopTarget(server, dir)
  return { speeds, MBps: median(speeds), rssMax, producedLine, error, profile: findProfile(profileDir) }
}

const runFetchScenario = async () => {
  const gib = num("fetch-gib")
  const reads = Math.max(1, num("fetch-reads"))
  progress(`scenario 4 fetch: produce ${gib} GiB into one partition (1,000 × 1 KiB batches, 4 in flight), then read it from offset 0 ${reads} times`)
  const ref = await fetchRun("reference", gib, reads)
  const broker = await fetchRun("broker", gib, reads)
  summary.push(`4 fetch: ${gib} GiB from offset 0 of one partition, Fetch v12, 32 MiB max bytes, one in flight; ${reads} reads`)
  const m = broker.MBps
  row("  MB/s", fixed(ref.MBps, 0), fixed(m, 0), ratioOf(m, ref.MBps), "≥ 0.95 × reference", broker.error !== undefined ? `FAIL (${broker.error})` : verdict(Number.isFinite(m) && Number.isFinite(ref.MBps) ? m >= 0.95 * ref.MBps : undefined))
  if (reads > 1) row("  reads MB/s", ref.speeds.map((s) => fixed(s, 0)).join(", "), broker.speeds.map((s) => fixed(s, 0)).join(", "), "")
  row("  max RSS MB", mb(ref.rssMax), mb(broker.rssMax), ratioOf(broker.rssMax, ref.rssMax))
  summary.push(`  (reference: ${ref.producedLine}; broker: ${broker.producedLine})`)
  addProfile("broker profile, scenario 4 (produce then fetch)", broker.profile)
}

// ---------------------------------------------------------------------------------------------------------
// Scenario 5: start-up

const startOnce = async (configPath: string, nodeArgs: Array<string> = [], check?: (port: number) => Promise<void>) => {
  const broker = await startBroker(configPath, { timeoutMs: 15 * 60_000, nodeArgs, entry })
  await apiVersions(broker.port)
  const answeredMs = performance.now() - broker.spawnedAt
  if (check !== undefined) {
    try {
      await check(broker.port)
    } catch (e) {
      await broker.stop()
      throw e
    }
  }
  const t = performance.now()
  const code = await broker.stop(5 * 60_000)
  const stopMs = performance.now() - t
  if (code !== 0) throw new Error(`the broker exited with ${code}: ${broker.output().trim().split("\n").slice(-3).join(" | ")}`)
  return { listeningMs: broker.listeningMs, answeredMs, stopMs }
}

const runStartupScenario = async () => {
  const starts = Math.max(1, num("starts"))
  const gib = num("big-gib")
  progress(`scenario 5 start-up: ${starts} starts on ${gib} GiB of cleanly shut-down logs, and on an empty log dir`)
  const big = await ensureBigLogs(flags["big-dir"], gib, (line) => {
    progress(`  ${line}`)
  })
  const stat = (xs: ReadonlyArray<number>) => `${fixed(median(xs), 0)} (${fixed(Math.min(...xs), 0)}-${fixed(Math.max(...xs), 0)})`
  // An empty log dir gives the floor (module loading, layers): its starts alternate with the measured ones so
  // that both see the same machine.
  const emptyDir = freshDir("empty")
  const emptyConfig = writeBrokerConfig(emptyDir, join(emptyDir, "logs"))
  await startOnce(emptyConfig)
  // A first start on the data set (not measured) warms the compile cache and leaves the clean-shutdown state of
  // the broker as built now, whatever version wrote the data set's last one.
  // It also checks that the broker sees the whole data set.
  const first = await startOnce(big.configPath, [], async (port) => {
    const ends = await endOffsets(port, BIG_TOPIC, big.partitions)
    if (ends.length !== big.partitions || ends.some((e) => e !== big.endOffset)) {
      throw new Error(`the broker reports log end offsets ${ends.join(", ")} for ${BIG_TOPIC}, expected ${big.endOffset} each`)
    }
  })
  progress(`  warm-up start: ApiVersions answered after ${fixed(first.answeredMs, 0)} ms, stopped in ${fixed(first.stopMs, 0)} ms`)
  const runs: Array<Awaited<ReturnType<typeof startOnce>>> = []
  const empty: Array<number> = []
  for (let i = 0; i < starts; i++) {
    const r = await startOnce(big.configPath)
    runs.push(r)
    const e = await startOnce(emptyConfig)
    empty.push(e.answeredMs)
    progress(`  start ${i + 1}: listening ${fixed(r.listeningMs, 0)} ms, ApiVersions answered ${fixed(r.answeredMs, 0)} ms, clean stop ${fixed(r.stopMs, 0)} ms; empty log dir: answered ${fixed(e.answeredMs, 0)} ms`)
  }
  rmSync(emptyDir, { recursive: true, force: true })
  const answered = runs.map((r) => r.answeredMs)
  summary.push(`5 start-up: spawn → first answered ApiVersions, ${(big.bytes / 2 ** 30).toFixed(1)} GiB in ${big.partitions} partitions (${big.logDir}), ${starts} starts`)
  row("  ms, median (min-max)", "-", stat(answered), "", "< 150 ms", verdict(median(answered) < 150))
  row("  to 'listening' ms", "-", stat(runs.map((r) => r.listeningMs)), "")
  row("  empty log dir ms", "-", stat(empty), "", "< 150 ms", verdict(median(empty) < 150))
  row("  clean stop ms", "-", stat(runs.map((r) => r.stopMs)), "")
  if (big.built !== undefined) {
    summary.push(`  (data set built now: written in ${fixed(big.built.writeSeconds)} s; first start on it ${fixed(big.built.firstStartMs / 1000)} s, its clean stop ${fixed(big.built.shutdownMs / 1000)} s)`)
  }
  if (profileRoot !== undefined) {
    const prof = profileArgs("s5")!
    await startOnce(big.configPath, prof.args)
    addProfile("broker profile, scenario 5 (one start on the data set)", findProfile(prof.dir))
  }
}

// ---------------------------------------------------------------------------------------------------------
// Soak

const runSoak = async () => {
  const minutes = num("minutes")
  const s = produceScenarios[0]!
  progress(`soak: scenario 1 for ${minutes} min against the broker, RSS every second`)
  const dir = freshDir("soak")
  // Bounded disk use for a broker with retention; the free-space guard below covers one without.
  const retention = { "log.segment.bytes": String(256 * 2 ** 20), "log.retention.bytes": String(2 ** 30), "log.retention.check.interval.ms": "10000" }
  const { server, profileDir } = await startTarget("broker", dir, { [s.topic]: s.partitions }, "soak", retention)
  const controller = new AbortController()
  let stoppedEarly: string | undefined
  let maxAt = 0
  let maxSeen = 0
  const start = performance.now()
  const rss = sampleRss(server.rss, 1000, (v) => {
    if (v > maxSeen) {
      maxSeen = v
      maxAt = (performance.now() - start) / 1000
    }
  })
  const minFree = 5 * 2 ** 30
  const guard = setInterval(() => {
    const st = statfsSync(dir)
    if (st.bavail * st.bsize < minFree && stoppedEarly === undefined) {
      stoppedEarly = `stopped early: less than ${minFree / 2 ** 30} GiB free on the disk of ${dir}`
      controller.abort()
    }
  }, 1000)
  const samples: Array<string> = []
  let last = { records: 0, elapsed: 0 }
  const everySeconds = minutes >= 2 ? 30 : 10
  let result: ProduceResult | undefined
  let error: string | undefined
  try {
    result = await runProduce({
      port: server.port, topic: s.topic, partitions: s.partitions, recordSize: s.recordSize, recordsPerBatch: s.recordsPerBatch,
      connections: s.connections, inflight: s.inflight, acks: 1, warmupSeconds: 0, seconds: minutes * 60, signal: controller.signal,
      onTick: (t) => {
        if (t.elapsed - last.elapsed < everySeconds - 0.5) return
        const rate = int((t.records - last.records) / (t.elapsed - last.elapsed))
        const now = mb(server.rss() ?? NaN)
        samples.push(`${fixed(t.elapsed, 0)}s ${rate}/s ${now} MB`)
        progress(`  t=${fixed(t.elapsed, 0)} s: ${rate} records/s, RSS ${now} MB (max so far ${mb(rss.max())} MB)`)
        last = { records: t.records, elapsed: t.elapsed }
      }
    })
  } catch (e) {
    error = (e as Error).message.split("\n")[0]
  }
  clearInterval(guard)
  const rssMax = rss.stop()
  const rssEnd = server.rss() ?? NaN
  await stopTarget(server, dir)
  summary.push(`soak: scenario 1 (${s.describe}) for ${minutes} min, broker RSS every second;`)
  summary.push(`  broker config: log.segment.bytes=256 MiB, log.retention.bytes=1 GiB (bounded disk use); stop below 5 GiB free`)
  row("  max RSS MB", "", mb(rssMax), "", "< 150 MB", error !== undefined ? `FAIL (${error})` : verdict(rssMax < 150 * 2 ** 20))
  row("  RSS at the end MB", "", mb(rssEnd), "")
  summary.push(`  max reached at t=${fixed(maxAt, 0)} s` + (result === undefined ? "" : `; ${int(result.recordsPerSec)} records/s (${fixed(result.payloadMBps)} MB/s) over ${fixed(result.seconds, 0)} s, p99 ${msOf(result.latency.p99)} ms`))
  if (stoppedEarly !== undefined) summary.push(`  ${stoppedEarly}`)
  summary.push(`  every ${everySeconds} s (time, records/s, RSS):`)
  for (let i = 0; i < samples.length; i += 5) summary.push(`    ${samples.slice(i, i + 5).join(" | ")}`)
  addProfile("broker profile, soak", findProfile(profileDir))
}

// ---------------------------------------------------------------------------------------------------------

// Servers run in their own process groups: on Ctrl-C, exit so that servers.ts kills them.
process.on("SIGINT", () => process.exit(130))
process.on("SIGTERM", () => process.exit(143))

/** One scenario failing (a broker that does not start, say) leaves a line in the summary, not a stack trace. */
const guarded = async (label: string, f: () => Promise<void>) => {
  try {
    await f()
  } catch (e) {
    const message = (e as Error).message.split("\n")[0]
    progress(`  ${label} failed: ${message}`)
    summary.push(`${label}: FAILED (${message})`)
  }
}

const t0 = performance.now()
const ticksAtStart = cpuTicks()
if (flags.soak) {
  await guarded("soak", runSoak)
} else {
  const produceAgainstReference = (s: ProduceScenario) => async () => {
    const { ref, broker } = await runProduceScenario(s)
    reportProduce(s, ref, broker)
  }
  const scenarios: ReadonlyArray<readonly [id: number, name: string, run: () => Promise<void>]> = [
    ...produceScenarios.map((s) => [s.id, s.name, produceAgainstReference(s)] as const),
    [4, "fetch", runFetchScenario],
    [5, "start-up", runStartupScenario],
    [6, "transactions", runTransactionScenario],
    [7, "cleaner", runCleanerScenario],
    [8, "tls", runTlsScenario],
    [9, "console", runConsoleScenario],
    [10, "postgresql", runPostgresScenario]
  ]
  for (const [id, name, run] of [...scenarios].sort((a, b) => a[0] - b[0])) {
    if (selected.has(id)) await guarded(`${id} ${name}`, run)
  }
}

summary.push(`CPU time stolen by the hypervisor during the whole run: ${fixed(stealSince(ticksAtStart), 1)}% (figures swing between invocations when it is high)`)
out(`${"scenario".padEnd(22)}${"reference".padStart(16)} ${"broker".padStart(16)}${"b/ref".padStart(7)}   ${"target".padEnd(28)}result`)
for (const line of summary) out(line)
if (profiles.length > 0) {
  out()
  for (const line of profiles) out(line)
}
out()
out(`total ${fixed((performance.now() - t0) / 1000, 0)} s`)
