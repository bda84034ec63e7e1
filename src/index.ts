// The public API: a broker inside a test process. `startBroker()` listens on a free port in a few milliseconds,
// keeps its data in memory or in a folder, and returns a plain handle (no Effect needed); `layer(options)` is the
// same broker for Effect programs, its operations as Effects (the `EmbeddedBroker` service). Both can run a
// cluster of several nodes (`brokers`), inject faults, record requests, follow a virtual clock (`clock:
// "virtual"`, moved by `advance`) and start again from nothing (`reset`) on the same ports.
import { Context, Duration, Effect, Layer, Logger, LogLevel, ManagedRuntime, References } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Broker from "./layers/Broker.ts"
import { ClusterControl } from "./layers/cluster/SimulatedCluster.ts"
import { ConsoleServer } from "./layers/console/HttpConsole.ts"
import * as MemoryFileSystem from "./layers/fs/MemoryFileSystem.ts"
import * as NodeFileSystem from "./layers/fs/NodeFileSystem.ts"
import { BrokerConfig } from "./services/config/BrokerConfig.ts"
import { Listener } from "./services/network/Listener.ts"
import { createTopic, deleteTopic } from "./services/metadata/Topics.ts"
import {
  type DelayRule,
  type DisconnectRule,
  Faults,
  type InjectRule,
  type RecordedRequest,
  type RequestFilter,
  type WaitForTimeout
} from "./services/testing/Faults.ts"

export type { DelayRule, DisconnectRule, InjectRule, RecordedRequest, RequestFilter }

export interface BrokerOptions {
  /** The port to listen on; 0 (the default) picks a free one. With `brokers`, node 1's. */
  readonly port?: number
  /** The address to listen on; default 127.0.0.1. */
  readonly host?: string
  /** "memory" (the default): nothing touches the disk. "disk": Kafka's log layout under `logDir`. */
  readonly storage?: "memory" | "disk"
  /** Where "disk" storage keeps its data; default: a new temporary folder. Reuse it to restart a broker. */
  readonly logDir?: string
  /** More server.properties keys, e.g. `{ "num.partitions": "3" }`. */
  readonly config?: Readonly<Record<string, string>>
  /** The least severe log level printed; default "Warn", so tests stay quiet. */
  readonly logLevel?: LogLevel.LogLevel
  /** Serve the web console and `/metrics` on a free port of `host` (`consoleUrl` says where); default false. */
  readonly console?: boolean
  /** Nodes in the cluster, ids 1..N, each on its own port, over the same storage; default 1. */
  readonly brokers?: number
  /** "virtual": every broker-side timer follows a clock that moves only with `advance`; default "real". */
  readonly clock?: "real" | "virtual"
}

export interface TopicOptions {
  /** Default: the broker's `num.partitions` (1 unless configured). */
  readonly partitions?: number
  /** Topic configs, e.g. `{ "retention.ms": "60000" }`. */
  readonly configs?: Readonly<Record<string, string>>
}

export interface BrokerNode {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  /** False between `stopNode` and `startNode`. */
  readonly live: boolean
}

/** Faults injected into the requests the broker serves, until `count` of them (default 1) have fired. */
export interface BrokerFaults {
  /** Answer matching requests with `errorCode`, where Kafka puts it (per partition, per item, top-level). */
  readonly inject: (rule: InjectRule) => void
  /** Hold matching requests `ms` before running them. */
  readonly delay: (rule: DelayRule) => void
  /** Close the connection instead of answering matching requests. */
  readonly disconnect: (rule: DisconnectRule) => void
  /** Removes every rule. */
  readonly clear: () => void
}

/** The operations of the embedded broker as Effects: what `layer(options)` provides. */
export class EmbeddedBroker extends Context.Service<EmbeddedBroker, {
  /** "127.0.0.1:P1,127.0.0.1:P2,...": every node, for a client's bootstrap servers. */
  readonly bootstrap: string
  readonly nodes: Effect.Effect<ReadonlyArray<BrokerNode>>
  readonly logDir: string
  readonly consoleUrl: Effect.Effect<string | undefined>
  readonly createTopic: (name: string, options?: TopicOptions) => Effect.Effect<void, unknown>
  readonly deleteTopic: (name: string) => Effect.Effect<void, unknown>
  readonly inject: (rule: InjectRule) => Effect.Effect<void>
  readonly delay: (rule: DelayRule) => Effect.Effect<void>
  readonly disconnect: (rule: DisconnectRule) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  readonly requests: (filter?: RequestFilter) => Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly waitFor: (filter: RequestFilter, timeoutMs?: number) => Effect.Effect<RecordedRequest, WaitForTimeout>
  /** Partition `partition` of `topic` led by `nodeId` from now on (its leader epoch bumps). */
  readonly moveLeader: (topic: string, partition: number, nodeId: number) => Effect.Effect<void, unknown>
  /** Closes the node's listener and connections; its partitions and coordinators move to the others. */
  readonly stopNode: (nodeId: number) => Effect.Effect<void, unknown>
  /** Serves the node again on its ports; it leads its preferred partitions again. */
  readonly startNode: (nodeId: number) => Effect.Effect<void, unknown>
  /** Moves the virtual clock (`clock: "virtual"` only) and lets the timers it passes fire. */
  readonly advance: (duration: Duration.Input) => Effect.Effect<void>
  /** No topics, groups, offsets, transactions, faults or recorded requests: a new broker on the same ports. */
  readonly reset: Effect.Effect<void>
}>()("kafka/EmbeddedBroker") {}

export interface RunningBroker {
  /** "127.0.0.1:PORT" (every node's, comma-separated, with `brokers`), for a client's bootstrap servers. */
  readonly bootstrap: string
  /** Node 1's address. */
  readonly host: string
  readonly port: number
  /** Where the data is ("/kafka" inside the in-memory file system for memory storage). */
  readonly logDir: string
  /** The web console's address ("http://127.0.0.1:PORT") with `console: true`, else undefined. */
  readonly consoleUrl: string | undefined
  /** The nodes, with whether each is running. */
  readonly nodes: () => ReadonlyArray<BrokerNode>
  readonly createTopic: (name: string, options?: TopicOptions) => Promise<void>
  readonly deleteTopic: (name: string) => Promise<void>
  readonly faults: BrokerFaults
  /** The requests served so far (the last 10,000), oldest first: `{ api, apiVersion, brokerId, clientId, correlationId, topics }`. */
  readonly requests: (filter?: RequestFilter) => ReadonlyArray<RecordedRequest>
  /** The first request matching `filter`, served already or arriving within `timeoutMs` (default 10 s). */
  readonly waitFor: (filter: RequestFilter, timeoutMs?: number) => Promise<RecordedRequest>
  readonly moveLeader: (topic: string, partition: number, nodeId: number) => Promise<void>
  readonly stopNode: (nodeId: number) => Promise<void>
  readonly startNode: (nodeId: number) => Promise<void>
  /** With `clock: "virtual"`: moves the broker's clock, e.g. `advance("31 seconds")`. */
  readonly advance: (duration: Duration.Input) => Promise<void>
  readonly reset: () => Promise<void>
  /** Stops listening, finishes what is in flight, flushes and releases everything. */
  readonly close: () => Promise<void>
}

const MEMORY_LOG_DIR = "/kafka"

interface Resolved {
  readonly storage: "memory" | "disk"
  readonly logDir: string
  readonly properties: Readonly<Record<string, string>>
  readonly logLevel: LogLevel.LogLevel
  readonly brokers: number
  readonly virtual: boolean
}

const resolve = (options: BrokerOptions): Resolved => {
  const storage = options.storage ?? (options.logDir === undefined ? "memory" : "disk")
  const logDir = storage === "memory"
    ? MEMORY_LOG_DIR
    : options.logDir ?? mkdtempSync(join(tmpdir(), "kafka-broker-"))
  const host = options.host ?? "127.0.0.1"
  const brokers = options.brokers ?? 1
  if (!Number.isSafeInteger(brokers) || brokers < 1) throw new Error(`brokers: a positive integer, got ${brokers}`)
  const properties: Record<string, string> = {
    "node.id": "1",
    "log.dirs": logDir,
    // A test's consumer group should not wait Kafka's 3 s for more members before its first rebalance.
    "group.initial.rebalance.delay.ms": "0",
    ...options.config,
    "listeners": `PLAINTEXT://${host}:${options.port ?? 0}`,
    ...(options.console === true ? { "console.listener": `http://${host.includes(":") ? `[${host}]` : host}:0` } : {})
  }
  return { storage, logDir, properties, logLevel: options.logLevel ?? "Warn", brokers, virtual: options.clock === "virtual" }
}

const logging = (logLevel: LogLevel.LogLevel) =>
  Layer.merge(Logger.layer([Logger.consoleLogFmt]), Layer.succeed(References.MinimumLogLevel, logLevel))

/** Effect's TestClock, at the real time when the broker starts (records carry real timestamps). */
const virtualClock = Layer.effectDiscard(TestClock.setTime(Date.now())).pipe(
  Layer.provideMerge(TestClock.layer({ warningDelay: Duration.infinity }))
)

/** The broker's layers; `ports` (node i + 1's) when it starts again where it was. */
const brokerLayer = (r: Resolved, ports: ReadonlyArray<number> = []) => {
  const properties = ports.length > 0 && r.brokers === 1
    ? { ...r.properties, listeners: r.properties["listeners"]!.replace(/:\d+$/, `:${ports[0]}`) }
    : r.properties
  const config = BrokerConfig.layerFrom(properties)
  const broker = r.brokers === 1 ? Broker.layer(config) : Broker.clusterLayer(config, r.brokers, ports)
  return broker.pipe(
    Layer.provideMerge(Faults.layer),
    Layer.provide(r.storage === "memory" ? MemoryFileSystem.layer : NodeFileSystem.layer),
    Layer.provide(logging(r.logLevel)),
    Layer.provideMerge(r.virtual ? virtualClock : Layer.empty)
  )
}

type Services = Layer.Success<ReturnType<typeof brokerLayer>>

/** One running instance of the broker: its runtime and where it listens. */
interface Instance {
  readonly runtime: ManagedRuntime.ManagedRuntime<Services, unknown>
  readonly nodes: () => ReadonlyArray<BrokerNode>
  readonly consoleUrl: string | undefined
  readonly faults: Faults["Service"]
  readonly control: ClusterControl["Service"] | undefined
}

const start = (r: Resolved, ports: ReadonlyArray<number> = []): Effect.Effect<Instance> =>
  Effect.promise(async () => {
    const runtime = ManagedRuntime.make(brokerLayer(r, ports))
    const listener = await runtime.runPromise(Listener)
    const consoleServer = await runtime.runPromise(ConsoleServer)
    const faults = await runtime.runPromise(Faults)
    const control = r.brokers === 1
      ? undefined
      : await runtime.runPromise(Effect.serviceOption(ClusterControl)).then((o) => (o._tag === "Some" ? o.value : undefined))
    const nodes = control === undefined
      ? () => [{ nodeId: 1, host: listener.host, port: listener.port, live: true }]
      : () => control.nodes()
    return { runtime, nodes, consoleUrl: consoleServer.url === "" ? undefined : consoleServer.url, faults, control }
  })

const make = (options: BrokerOptions) =>
  Effect.gen(function*() {
    const r = resolve(options)
    let current = yield* start(r)
    const ports = current.nodes().map((n) => n.port)
    yield* Effect.addFinalizer(() => Effect.promise(() => current.runtime.dispose()))
    // The runtime's context holds the broker's services, not the layer's logger: effects run here get them
    // again, so that `logLevel` also quiets what they log.
    const run = <A, E>(effect: Effect.Effect<A, E, Services>) =>
      Effect.tryPromise({
        try: () => current.runtime.runPromise(effect.pipe(Effect.provide(logging(r.logLevel)))),
        catch: (e) => e
      })
    const control = <A, E>(f: (c: ClusterControl["Service"]) => Effect.Effect<A, E>) =>
      Effect.suspend(() => {
        const c = current.control
        return c === undefined
          ? Effect.fail(new Error("a single broker: start it with brokers > 1 to move leaders or stop nodes"))
          : run(f(c))
      })
    const faults = Effect.sync(() => current.faults)
    return EmbeddedBroker.of({
      bootstrap: current.nodes().map((n) => `${n.host}:${n.port}`).join(","),
      nodes: Effect.sync(() => current.nodes()),
      logDir: r.logDir,
      consoleUrl: Effect.sync(() => current.consoleUrl),
      createTopic: (name, topic = {}) =>
        run(Effect.asVoid(createTopic({
          name,
          partitions: topic.partitions ?? -1,
          replicationFactor: -1,
          configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value }))
        }))),
      deleteTopic: (name) => run(Effect.asVoid(deleteTopic({ name }))),
      inject: (rule) => Effect.flatMap(faults, (f) => f.inject(rule)),
      delay: (rule) => Effect.flatMap(faults, (f) => f.delay(rule)),
      disconnect: (rule) => Effect.flatMap(faults, (f) => f.disconnect(rule)),
      clearFaults: Effect.flatMap(faults, (f) => f.clear),
      requests: (filter) => Effect.flatMap(faults, (f) => f.requests(filter)),
      waitFor: (filter, timeoutMs) => Effect.flatMap(faults, (f) => f.waitFor(filter, timeoutMs)),
      moveLeader: (topic, partition, nodeId) => control((c) => c.moveLeader(topic, partition, nodeId)),
      stopNode: (nodeId) => control((c) => c.stopNode(nodeId)),
      startNode: (nodeId) => control((c) => c.startNode(nodeId)),
      advance: (duration) =>
        r.virtual
          ? Effect.promise(() => current.runtime.runPromise(TestClock.adjust(duration)))
          : Effect.die(new Error("advance needs clock: \"virtual\"")),
      reset: Effect.gen(function*() {
        yield* Effect.promise(() => current.runtime.dispose())
        if (r.storage === "disk") for (const f of readdirSync(r.logDir)) rmSync(join(r.logDir, f), { recursive: true, force: true })
        current = yield* start(r, ports)
      })
    })
  })

/**
 * The broker's own services (`Listener`, `ConsoleServer`, `BrokerConfig`, `ClusterMetadata`, `LogStore`, `Faults`,
 * ...), listening while the layer is alive: for programs that work with the broker's internals.
 */
export const servicesLayer = (options: BrokerOptions = {}) => brokerLayer(resolve(options))

/** The broker for Effect programs: listening while the layer is alive, its operations as `EmbeddedBroker`. */
export const layer = (options: BrokerOptions = {}): Layer.Layer<EmbeddedBroker> => Layer.effect(EmbeddedBroker, make(options))

/** Starts a broker (or a cluster of them) in this process. */
export const startBroker = async (options: BrokerOptions = {}): Promise<RunningBroker> => {
  const runtime = ManagedRuntime.make(layer(options))
  const b = await runtime.runPromise(EmbeddedBroker)
  const run = <A, E>(effect: Effect.Effect<A, E>) => runtime.runPromise(effect)
  const first = (await run(b.nodes))[0]!
  return {
    bootstrap: b.bootstrap,
    host: first.host,
    port: first.port,
    logDir: b.logDir,
    consoleUrl: await run(b.consoleUrl),
    nodes: () => Effect.runSync(b.nodes),
    createTopic: (name, topic) => run(b.createTopic(name, topic)),
    deleteTopic: (name) => run(b.deleteTopic(name)),
    faults: {
      inject: (rule) => Effect.runSync(b.inject(rule)),
      delay: (rule) => Effect.runSync(b.delay(rule)),
      disconnect: (rule) => Effect.runSync(b.disconnect(rule)),
      clear: () => Effect.runSync(b.clearFaults)
    },
    requests: (filter) => Effect.runSync(b.requests(filter)),
    waitFor: (filter, timeoutMs) => run(b.waitFor(filter, timeoutMs)),
    moveLeader: (topic, partition, nodeId) => run(b.moveLeader(topic, partition, nodeId)),
    stopNode: (nodeId) => run(b.stopNode(nodeId)),
    startNode: (nodeId) => run(b.startNode(nodeId)),
    advance: (duration) => run(b.advance(duration)),
    reset: () => run(b.reset),
    close: () => runtime.dispose()
  }
}
