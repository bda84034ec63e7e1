// The public API: a broker inside a test process. `startBroker()` listens on a free port in a few milliseconds,
// keeps its data in memory or in a folder, and returns a plain handle (no Effect needed); `layer` is the same
// broker as a Layer for Effect programs.
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, References } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Broker from "./layers/Broker.ts"
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
  type RequestFilter
} from "./services/testing/Faults.ts"

export type { DelayRule, DisconnectRule, InjectRule, RecordedRequest, RequestFilter }

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

export interface BrokerOptions {
  /** The port to listen on; 0 (the default) picks a free one. */
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
}

export interface TopicOptions {
  /** Default: the broker's `num.partitions` (1 unless configured). */
  readonly partitions?: number
  /** Topic configs, e.g. `{ "retention.ms": "60000" }`. */
  readonly configs?: Readonly<Record<string, string>>
}

export interface RunningBroker {
  /** "127.0.0.1:PORT", for a client's bootstrap servers. */
  readonly bootstrap: string
  readonly host: string
  readonly port: number
  /** Where the data is ("/kafka" inside the in-memory file system for memory storage). */
  readonly logDir: string
  /** The web console's address ("http://127.0.0.1:PORT") with `console: true`, else undefined. */
  readonly consoleUrl: string | undefined
  readonly createTopic: (name: string, options?: TopicOptions) => Promise<void>
  readonly deleteTopic: (name: string) => Promise<void>
  readonly faults: BrokerFaults
  /** The requests served so far (the last 10,000), oldest first: `{ api, apiVersion, brokerId, clientId, correlationId, topics }`. */
  readonly requests: (filter?: RequestFilter) => ReadonlyArray<RecordedRequest>
  /** The first request matching `filter`, served already or arriving within `timeoutMs` (default 10 s). */
  readonly waitFor: (filter: RequestFilter, timeoutMs?: number) => Promise<RecordedRequest>
  /** Stops listening, finishes what is in flight, flushes and releases everything. */
  readonly close: () => Promise<void>
}

const MEMORY_LOG_DIR = "/kafka"

interface Resolved {
  readonly storage: "memory" | "disk"
  readonly logDir: string
  readonly properties: Readonly<Record<string, string>>
  readonly logLevel: LogLevel.LogLevel
}

const resolve = (options: BrokerOptions): Resolved => {
  const storage = options.storage ?? (options.logDir === undefined ? "memory" : "disk")
  const logDir = storage === "memory"
    ? MEMORY_LOG_DIR
    : options.logDir ?? mkdtempSync(join(tmpdir(), "kafka-broker-"))
  const host = options.host ?? "127.0.0.1"
  const properties: Record<string, string> = {
    "node.id": "1",
    "log.dirs": logDir,
    // A test's consumer group should not wait Kafka's 3 s for more members before its first rebalance.
    "group.initial.rebalance.delay.ms": "0",
    ...options.config,
    "listeners": `PLAINTEXT://${host}:${options.port ?? 0}`,
    ...(options.console === true ? { "console.listener": `http://${host.includes(":") ? `[${host}]` : host}:0` } : {})
  }
  return { storage, logDir, properties, logLevel: options.logLevel ?? "Warn" }
}

const logging = (logLevel: LogLevel.LogLevel) =>
  Layer.merge(Logger.layer([Logger.consoleLogFmt]), Layer.succeed(References.MinimumLogLevel, logLevel))

const brokerLayer = ({ storage, properties, logLevel }: Resolved) =>
  Broker.layer(BrokerConfig.layerFrom(properties)).pipe(
    Layer.provideMerge(Faults.layer),
    Layer.provide(storage === "memory" ? MemoryFileSystem.layer : NodeFileSystem.layer),
    Layer.provide(logging(logLevel))
  )

/**
 * The broker as a Layer (it listens while the layer is alive), providing its services: `Listener` (the bound
 * address), `ConsoleServer` (the console's, with `console: true`), `BrokerConfig`, `ClusterMetadata`, `LogStore` and
 * `Faults` (fault injection and the recorded requests).
 */
export const layer = (options: BrokerOptions = {}) => brokerLayer(resolve(options))

/** Starts a broker in this process. */
export const startBroker = async (options: BrokerOptions = {}): Promise<RunningBroker> => {
  const resolved = resolve(options)
  const runtime = ManagedRuntime.make(brokerLayer(resolved))
  const listener = await runtime.runPromise(Listener)
  const consoleServer = await runtime.runPromise(ConsoleServer)
  const faults = await runtime.runPromise(Faults)
  // The runtime's context holds the broker's services, not the layer's logger: effects run here get them again,
  // so that `logLevel` also quiets what createTopic/deleteTopic log.
  const run = <A, E>(effect: Effect.Effect<A, E, Layer.Success<ReturnType<typeof brokerLayer>>>) =>
    runtime.runPromise(Effect.asVoid(effect).pipe(Effect.provide(logging(resolved.logLevel))))
  return {
    bootstrap: `${listener.host}:${listener.port}`,
    host: listener.host,
    port: listener.port,
    logDir: resolved.logDir,
    consoleUrl: consoleServer.url === "" ? undefined : consoleServer.url,
    createTopic: (name, topic = {}) =>
      run(createTopic({
        name,
        partitions: topic.partitions ?? -1,
        replicationFactor: -1,
        configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value }))
      })),
    deleteTopic: (name) => run(deleteTopic({ name })),
    faults: {
      inject: (rule) => Effect.runSync(faults.inject(rule)),
      delay: (rule) => Effect.runSync(faults.delay(rule)),
      disconnect: (rule) => Effect.runSync(faults.disconnect(rule)),
      clear: () => Effect.runSync(faults.clear)
    },
    requests: (filter) => Effect.runSync(faults.requests(filter)),
    waitFor: (filter, timeoutMs) => Effect.runPromise(faults.waitFor(filter, timeoutMs)),
    close: () => runtime.dispose()
  }
}
