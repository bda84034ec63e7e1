// The broker's typed configuration, read through Effect's Config from whatever ConfigProvider is in scope
// (the properties file plus KAFKA_* environment overrides in production, a plain record in tests). Keys and
// defaults are Apache Kafka's; unknown keys are ignored, a bad value fails with one line naming the key.
import { Config, ConfigProvider, Context, Effect, Layer, Option, Schema } from "effect"
import { parseJaas, plainUsers as plainUsers_ } from "../security/Jaas.ts"
import { parseSuperUsers } from "../auth/Authorizer.ts"

/** A configuration value the broker cannot start with; the message names the key. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  message: Schema.String
}) {}

export interface Endpoint {
  readonly name: string
  readonly host: string
  readonly port: number
}

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL"

/** One listener clients connect to, with its security and what Metadata answers on it. */
export interface ListenerConfig extends Endpoint {
  readonly protocol: SecurityProtocol
  /** Its entry in `advertised.listeners`; undefined means the listener itself. */
  readonly advertised: Endpoint | undefined
  /** The `ssl.*` keys for this listener (`listener.name.<name>.ssl.*` over `ssl.*`), for SSL and SASL_SSL. */
  readonly ssl: ReadonlyMap<string, string>
  /** `sasl.enabled.mechanisms` for this listener, upper-cased (Kafka's default: GSSAPI). */
  readonly saslMechanisms: ReadonlyArray<string>
  /** PLAIN users from `listener.name.<name>.plain.sasl.jaas.config`: name → password. */
  readonly plainUsers: ReadonlyMap<string, string>
  /** `connections.max.reauth.ms`: a SASL session's lifetime (0: sessions never expire). */
  readonly maxReauthMs: number
}

export interface BrokerConfigShape {
  readonly nodeId: number
  /** Every listener clients connect to (`listeners` but the controller listeners), in order. */
  readonly listeners: ReadonlyArray<ListenerConfig>
  /** The first of `log.dirs`: partition logs and the metadata log live here. */
  readonly logDir: string
  /**
   * `storage.url`: where the broker's state lives. Undefined: files under `log.dirs`; a `postgresql://` URL:
   * that database, shared by every broker configured with it (one cluster).
   */
  readonly storageUrl: string | undefined
  /** `broker.heartbeat.interval.ms`: how often a broker over shared storage tells it it is alive. */
  readonly brokerHeartbeatIntervalMs: number
  /** `broker.session.timeout.ms`: a broker not heard from for this long is not live. */
  readonly brokerSessionTimeoutMs: number
  /** The listener clients connect to (the first that is not a controller listener). */
  readonly listener: Endpoint
  /** What Metadata tells clients to connect to; undefined means the listener itself. */
  readonly advertised: Endpoint | undefined
  readonly numPartitions: number
  readonly autoCreateTopics: boolean
  readonly logSegmentBytes: number
  /** Roll a segment this long after its first batch (`log.roll.ms`, else `log.roll.hours`). */
  readonly logRollMs: number
  /** A sparse index entry every this many bytes of log. */
  readonly logIndexIntervalBytes: number
  /** How often retention looks for segments to delete. */
  readonly logRetentionCheckIntervalMs: number
  readonly logRetentionMs: number
  readonly logRetentionBytes: number
  /** The metadata log's active segment is rolled before a batch would take it past this size. */
  readonly metadataLogSegmentBytes: number
  /** Write a metadata snapshot once this many bytes of records were appended since the last one. */
  readonly metadataSnapshotMaxNewRecordBytes: number
  readonly socketRequestMaxBytes: number
  /** Bytes of requests read but not yet handled, across all connections; reading waits beyond it. */
  readonly queuedMaxRequestBytes: number
  readonly messageMaxBytes: number
  /** fsync after this many messages; Infinity leaves flushing to the OS (Kafka's default). */
  readonly flushIntervalMessages: number
  /** fsync at least this often; Infinity leaves flushing to the OS. */
  readonly flushIntervalMs: number
  /** How long the first rebalance of an empty group waits for more members to join. */
  readonly groupInitialRebalanceDelayMs: number
  readonly groupMinSessionTimeoutMs: number
  readonly groupMaxSessionTimeoutMs: number
  /** Consumer groups (KIP-848): the session timeout and heartbeat interval the coordinator imposes, and their bounds. */
  readonly groupConsumerSessionTimeoutMs: number
  readonly groupConsumerMinSessionTimeoutMs: number
  readonly groupConsumerMaxSessionTimeoutMs: number
  readonly groupConsumerHeartbeatIntervalMs: number
  readonly groupConsumerMinHeartbeatIntervalMs: number
  readonly groupConsumerMaxHeartbeatIntervalMs: number
  /** The most members a consumer group may have. */
  readonly groupConsumerMaxSize: number
  /** The server-side assignors, by name (`uniform`, `range`); the first is the default. */
  readonly groupConsumerAssignors: ReadonlyArray<string>
  /** Partitions this broker may hold in all (topic creation and growth beyond it are refused). */
  readonly maxBrokerPartitions: number
  /** Segment files kept open at once; the least recently used are closed beyond it and reopened on use. */
  readonly logMaxOpenFiles: number
  /** The longest metadata string an offset commit may carry. */
  readonly offsetMetadataMaxBytes: number
  /** The longest transaction timeout a producer may ask for. */
  readonly transactionMaxTimeoutMs: number
  /** How often transactions open longer than their timeout are looked for (and aborted). */
  readonly transactionAbortTimedOutIntervalMs: number
  /** A transactional id without a transaction for this long is forgotten. */
  readonly transactionalIdExpirationMs: number
  /** How often expired transactional ids are looked for. */
  readonly transactionRemoveExpiredIntervalMs: number
  /** Whether the log cleaner compacts topics with `cleanup.policy=compact` and the broker's own logs. */
  readonly logCleanerEnable: boolean
  /** How long the cleaner sleeps when no log needs cleaning. */
  readonly logCleanerBackoffMs: number
  /** Memory for the cleaner's key → offset map; a clean covers as much dirty log as its keys fit in. */
  readonly logCleanerDedupeBufferSize: number
  /** Bytes per second the cleaner reads and writes at most (Infinity: unthrottled). */
  readonly logCleanerIoMaxBytesPerSecond: number
  readonly logCleanerMinCleanableRatio: number
  readonly logCleanerMinCompactionLagMs: number
  readonly logCleanerMaxCompactionLagMs: number
  /** How long tombstones and empty transaction markers survive after the clean that first kept them. */
  readonly logCleanerDeleteRetentionMs: number
  /** How long a segment replaced by the cleaner lingers as `.deleted` before it is removed. */
  readonly logSegmentDeleteDelayMs: number
  /** Segment size of `__consumer_offsets` and of `__transaction_state`. */
  readonly offsetsTopicSegmentBytes: number
  readonly transactionStateLogSegmentBytes: number
  /** Client quotas: the rate is measured over this many samples (`quota.window.num`)... */
  readonly quotaWindowNum: number
  /** ...of this many seconds each (`quota.window.size.seconds`). */
  readonly quotaWindowSizeSeconds: number
  /** ACLs are enforced (`authorizer.class.name` names Kafka's StandardAuthorizer). */
  readonly authorizerEnabled: boolean
  /** `super.users`: principals every check allows. */
  readonly superUsers: ReadonlySet<string>
  /** `allow.everyone.if.no.acl.found`: a resource no ACL names is open to all. */
  readonly allowEveryoneIfNoAclFound: boolean
  /** The honoured keys the configuration sets explicitly, with their values (DescribeConfigs tells them apart). */
  readonly explicit: ReadonlyMap<string, string>
  /** The listener security keys the configuration sets (`ssl.*`, `sasl.*`, per listener too), for DescribeConfigs. */
  readonly securityExplicit: ReadonlyMap<string, string>
  /** `console.listener=http://HOST:PORT`: where the web console and `/metrics` are served (none when absent). */
  readonly consoleListener: { readonly host: string; readonly port: number } | undefined
}

/** Keys whose values are secrets: DescribeConfigs answers them as null, marked sensitive, and nothing logs them. */
export const isSensitiveKey = (key: string): boolean =>
  key === "storage.url" || key.endsWith(".password") || key.endsWith("sasl.jaas.config") || key.endsWith("ssl.keystore.key")

/** The one `authorizer.class.name` served. */
export const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

/** Every key the broker reads; the rest of a server.properties is accepted and ignored. */
export const HONOURED_KEYS = [
  "node.id",
  "broker.id",
  "log.dirs",
  "log.dir",
  "listeners",
  "advertised.listeners",
  "controller.listener.names",
  "num.partitions",
  "auto.create.topics.enable",
  "log.segment.bytes",
  "log.roll.ms",
  "log.roll.hours",
  "log.index.interval.bytes",
  "log.retention.check.interval.ms",
  "log.retention.ms",
  "log.retention.minutes",
  "log.retention.hours",
  "log.retention.bytes",
  "metadata.log.segment.bytes",
  "metadata.log.max.record.bytes.between.snapshots",
  "socket.request.max.bytes",
  "queued.max.request.bytes",
  "message.max.bytes",
  "log.flush.interval.messages",
  "log.flush.interval.ms",
  "group.initial.rebalance.delay.ms",
  "group.min.session.timeout.ms",
  "group.max.session.timeout.ms",
  "group.consumer.session.timeout.ms",
  "group.consumer.min.session.timeout.ms",
  "group.consumer.max.session.timeout.ms",
  "group.consumer.heartbeat.interval.ms",
  "group.consumer.min.heartbeat.interval.ms",
  "group.consumer.max.heartbeat.interval.ms",
  "group.consumer.max.size",
  "group.consumer.assignors",
  "offset.metadata.max.bytes",
  "max.broker.partitions",
  "log.max.open.files",
  "transaction.max.timeout.ms",
  "transaction.abort.timed.out.transaction.cleanup.interval.ms",
  "transactional.id.expiration.ms",
  "transaction.remove.expired.transaction.cleanup.interval.ms",
  "log.cleaner.enable",
  "log.cleaner.backoff.ms",
  "log.cleaner.dedupe.buffer.size",
  "log.cleaner.io.max.bytes.per.second",
  "log.cleaner.min.cleanable.ratio",
  "log.cleaner.min.compaction.lag.ms",
  "log.cleaner.max.compaction.lag.ms",
  "log.cleaner.delete.retention.ms",
  "log.segment.delete.delay.ms",
  "offsets.topic.segment.bytes",
  "transaction.state.log.segment.bytes",
  "quota.window.num",
  "quota.window.size.seconds",
  "authorizer.class.name",
  "super.users",
  "allow.everyone.if.no.acl.found",
  "storage.url",
  "broker.heartbeat.interval.ms",
  "broker.session.timeout.ms"
] as const

export class BrokerConfig extends Context.Service<BrokerConfig, BrokerConfigShape>()("kafka/BrokerConfig") {
  /** Reads the configuration from the ConfigProvider in scope. */
  static readonly layer = Layer.effect(BrokerConfig, Effect.suspend(() => load))

  /** A configuration from a plain record of properties (tests, embedding). */
  static readonly layerFrom = (properties: Readonly<Record<string, string>>) =>
    BrokerConfig.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(properties))))

  /** The configuration a plain record of properties gives (dynamic configs are checked and applied with it). */
  static readonly loadFrom = (properties: Readonly<Record<string, string>>): Effect.Effect<BrokerConfigShape, InvalidConfig> =>
    Effect.suspend(() => load).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(properties))))
}

/** An integer config; Kafka's longs may exceed 2^53 (Long.MAX_VALUE means "no limit"), so no safe-integer check. */
const integer = Effect.fnUntraced(function*(key: string, fallback?: number) {
  const value = yield* (fallback === undefined ? Config.Number(key) : Config.Number(key).pipe(Config.withDefault(fallback)))
  if (!Number.isInteger(value)) return yield* new InvalidConfig({ message: `${key}: expected an integer, got ${value}` })
  return value
})
const optionalInteger = (key: string) =>
  Effect.flatMap(Config.String(key).pipe(Config.option), (o) => Option.isNone(o) ? Effect.succeedNone : Effect.map(integer(key), Option.some))
const bool = (key: string, fallback: boolean) => Config.Boolean(key).pipe(Config.withDefault(fallback))

/** A decimal config within [min, max] (Kafka's doubles; its Double.MAX_VALUE default reads as Infinity here). */
const fraction = Effect.fnUntraced(function*(key: string, fallback: number, min: number, max: number) {
  const value = yield* Config.Number(key).pipe(Config.withDefault(fallback))
  if (Number.isNaN(value) || value < min || value > max) {
    return yield* new InvalidConfig({ message: `${key}: must be between ${min} and ${max}, got ${value}` })
  }
  return value >= Number.MAX_VALUE ? Infinity : value
})
/** Kafka's class names of its server-side assignors, read as their short names. */
const ASSIGNOR_CLASSES: Readonly<Record<string, string>> = {
  "org.apache.kafka.coordinator.group.assignor.UniformAssignor": "uniform",
  "org.apache.kafka.coordinator.group.assignor.RangeAssignor": "range"
}

/** The `group.consumer.*` keys (KIP-848), checked as Kafka checks them: each value within its min and max. */
const consumerGroupConfig = Effect.gen(function*() {
  const session = yield* integer("group.consumer.session.timeout.ms", 45_000)
  const minSession = yield* integer("group.consumer.min.session.timeout.ms", 45_000)
  const maxSession = yield* integer("group.consumer.max.session.timeout.ms", 60_000)
  const heartbeat = yield* integer("group.consumer.heartbeat.interval.ms", 5_000)
  const minHeartbeat = yield* integer("group.consumer.min.heartbeat.interval.ms", 5_000)
  const maxHeartbeat = yield* integer("group.consumer.max.heartbeat.interval.ms", 15_000)
  const maxSize = yield* integer("group.consumer.max.size", 2_147_483_647)
  if (session < minSession || session > maxSession) {
    return yield* new InvalidConfig({ message: `group.consumer.session.timeout.ms: must be between ${minSession} and ${maxSession}, got ${session}` })
  }
  if (heartbeat < minHeartbeat || heartbeat > maxHeartbeat) {
    return yield* new InvalidConfig({ message: `group.consumer.heartbeat.interval.ms: must be between ${minHeartbeat} and ${maxHeartbeat}, got ${heartbeat}` })
  }
  if (heartbeat >= session) {
    return yield* new InvalidConfig({ message: `group.consumer.heartbeat.interval.ms: must be less than group.consumer.session.timeout.ms (${session}), got ${heartbeat}` })
  }
  if (maxSize < 1) return yield* new InvalidConfig({ message: `group.consumer.max.size: must be at least 1, got ${maxSize}` })
  const names = (yield* Config.String("group.consumer.assignors").pipe(Config.withDefault("uniform,range")))
    .split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => ASSIGNOR_CLASSES[s] ?? s)
  const unknown = names.find((n) => n !== "uniform" && n !== "range")
  if (unknown !== undefined) return yield* new InvalidConfig({ message: `group.consumer.assignors: unknown assignor "${unknown}" (uniform, range)` })
  if (names.length === 0) return yield* new InvalidConfig({ message: "group.consumer.assignors: at least one assignor is needed" })
  return {
    groupConsumerSessionTimeoutMs: session,
    groupConsumerMinSessionTimeoutMs: minSession,
    groupConsumerMaxSessionTimeoutMs: maxSession,
    groupConsumerHeartbeatIntervalMs: heartbeat,
    groupConsumerMinHeartbeatIntervalMs: minHeartbeat,
    groupConsumerMaxHeartbeatIntervalMs: maxHeartbeat,
    groupConsumerMaxSize: maxSize,
    groupConsumerAssignors: names
  }
})

/** `-1` and Long.MAX_VALUE both mean "no limit" in Kafka's configs. */
const unbounded = (v: number): number => (v < 0 || v >= Number.MAX_SAFE_INTEGER ? Infinity : v)

/** Default of `queued.max.request.bytes` (Kafka: unbounded). */
export const DEFAULT_QUEUED_BYTES = 256 * 1024 * 1024
/** Default of `max.broker.partitions` (the name of KIP-578's proposed limit; Kafka itself has none). */
export const DEFAULT_MAX_BROKER_PARTITIONS = 100_000
/** Default of `log.max.open.files`: well under common per-process limits, with room for sockets. */
export const DEFAULT_MAX_OPEN_FILES = 1000

const ListenerSpec = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/

/** Parses `NAME://host:port,NAME2://host:port` as in `listeners` and `advertised.listeners`. */
export const parseListeners = (key: string, value: string): Effect.Effect<Array<Endpoint>, InvalidConfig> =>
  Effect.forEach(
    value.split(",").map((s) => s.trim()).filter((s) => s.length > 0),
    (spec) => {
      const m = ListenerSpec.exec(spec)
      const port = m === null ? NaN : Number(m[3])
      if (m === null || port > 65535) {
        return Effect.fail(new InvalidConfig({ message: `${key}: expected NAME://host:port, got "${spec}"` }))
      }
      const host = m[2]!.replace(/^\[|\]$/g, "")
      return Effect.succeed({ name: m[1]!, host, port })
    }
  )

/** Kafka's default `listener.security.protocol.map`: each protocol's name maps to itself. */
export const DEFAULT_PROTOCOL_MAP = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
const PROTOCOLS: ReadonlyArray<SecurityProtocol> = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]

const parseProtocolMap = (value: string): Effect.Effect<Map<string, SecurityProtocol>, InvalidConfig> =>
  Effect.suspend(() => {
    const map = new Map<string, SecurityProtocol>()
    for (const entry of value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
      const [name, protocol] = entry.split(":").map((s) => s.trim())
      const p = protocol?.toUpperCase() as SecurityProtocol
      if (name === undefined || name === "" || !PROTOCOLS.includes(p)) {
        return Effect.fail(new InvalidConfig({
          message: `listener.security.protocol.map: expected NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), got "${entry}"`
        }))
      }
      map.set(name.toUpperCase(), p)
    }
    return Effect.succeed(map)
  })

/** The `ssl.*` keys Kafka has, read per listener. */
export const SSL_KEYS = [
  "ssl.keystore.type",
  "ssl.keystore.location",
  "ssl.keystore.password",
  "ssl.keystore.key",
  "ssl.keystore.certificate.chain",
  "ssl.key.password",
  "ssl.truststore.type",
  "ssl.truststore.location",
  "ssl.truststore.password",
  "ssl.truststore.certificates",
  "ssl.client.auth",
  "ssl.enabled.protocols",
  "ssl.protocol",
  "ssl.cipher.suites",
  "ssl.principal.mapping.rules"
] as const

/** A key for one listener: `listener.name.<name>.<key>` (name lower-cased, as Kafka's), else `<key>`. */
const perListener = (name: string, key: string) =>
  Config.String(`listener.name.${name.toLowerCase()}.${key}`).pipe(
    Config.orElse(() => Config.String(`listener.name.${name}.${key}`)),
    Config.orElse(() => Config.String(key)),
    Config.option
  )

const listenerConfig = Effect.fnUntraced(function*(
  l: Endpoint,
  protocols: ReadonlyMap<string, SecurityProtocol>,
  advertised: Endpoint | undefined
) {
  const protocol = protocols.get(l.name.toUpperCase())
  if (protocol === undefined) {
    return yield* new InvalidConfig({
      message: `listener.security.protocol.map: no security protocol for listener ${l.name}`
    })
  }
  const ssl = new Map<string, string>()
  if (protocol === "SSL" || protocol === "SASL_SSL") {
    for (const key of SSL_KEYS) {
      const v = yield* perListener(l.name, key)
      if (Option.isSome(v)) ssl.set(key, v.value)
    }
  }
  const mechanismsSpec = yield* perListener(l.name, "sasl.enabled.mechanisms")
  const saslMechanisms = Option.getOrElse(mechanismsSpec, () => "GSSAPI").split(",").map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0)
  const plainUsers = new Map<string, string>()
  if ((protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL") && saslMechanisms.includes("PLAIN")) {
    const jaas = yield* Config.String(`listener.name.${l.name.toLowerCase()}.plain.sasl.jaas.config`).pipe(
      Config.orElse(() => Config.String(`listener.name.${l.name.toLowerCase()}.sasl.jaas.config`)),
      Config.orElse(() => Config.String("sasl.jaas.config")),
      Config.option
    )
    if (Option.isSome(jaas)) {
      try {
        for (const [u, p] of plainUsers_(parseJaas(jaas.value))) plainUsers.set(u, p)
      } catch (e) {
        // The message names the key and the parse problem, never a value: it may hold passwords.
        return yield* new InvalidConfig({
          message: `listener.name.${l.name.toLowerCase()}.plain.sasl.jaas.config: ${e instanceof Error ? e.message : String(e)}`
        })
      }
    }
  }
  const reauth = yield* perListener(l.name, "connections.max.reauth.ms")
  const maxReauthMs = Option.isSome(reauth) ? Number(reauth.value) : 0
  if (!Number.isSafeInteger(maxReauthMs) || maxReauthMs < 0) {
    return yield* new InvalidConfig({ message: `connections.max.reauth.ms: expected a non-negative integer` })
  }
  return { ...l, protocol, advertised, ssl, saslMechanisms, plainUsers, maxReauthMs } satisfies ListenerConfig
})

/**
 * `storage.url`: empty → undefined (files); else a `postgresql://` (or `postgres://`) URL with a host. The error
 * never repeats the URL, which may carry a password.
 */
export const parseStorageUrl = (spec: string): Effect.Effect<string | undefined, InvalidConfig> => {
  if (spec === "") return Effect.succeed(undefined)
  let url: URL | undefined
  try {
    url = new URL(spec)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== "postgresql:" && url.protocol !== "postgres:") || url.hostname === "") {
    return Effect.fail(new InvalidConfig({ message: "storage.url: expected postgresql://user:password@host:port/database" }))
  }
  if (url.port !== "" && (Number(url.port) < 1 || Number(url.port) > 65535)) {
    return Effect.fail(new InvalidConfig({ message: `storage.url: port must be between 1 and 65535, got ${url.port}` }))
  }
  return Effect.succeed(spec)
}

const load = Effect.gen(function*() {
  const explicit = new Map<string, string>()
  for (const key of HONOURED_KEYS) {
    const value = yield* Config.String(key).pipe(Config.option)
    if (Option.isSome(value)) explicit.set(key, value.value)
  }
  const nodeId = yield* integer("node.id", yield* integer("broker.id", 1))
  const logDirs = yield* Config.String("log.dirs").pipe(
    Config.orElse(() => Config.String("log.dir")),
    Config.withDefault("/tmp/kafka-logs")
  )
  const logDir = logDirs.split(",").map((s) => s.trim()).find((s) => s.length > 0) ?? "/tmp/kafka-logs"

  const listeners = yield* parseListeners("listeners", yield* Config.String("listeners").pipe(
    Config.withDefault("PLAINTEXT://:9092")
  ))
  const controllerNames = (yield* Config.String("controller.listener.names").pipe(Config.withDefault("")))
    .split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  const listener = listeners.find((l) => !controllerNames.includes(l.name))
  if (listener === undefined) {
    return yield* new InvalidConfig({ message: "listeners: no listener other than the controller listeners" })
  }
  const advertisedSpec = yield* Config.String("advertised.listeners").pipe(Config.option)
  const advertisedAll = Option.isSome(advertisedSpec) ? yield* parseListeners("advertised.listeners", advertisedSpec.value) : []
  const advertised = advertisedAll.find((l) => l.name === listener.name) ?? advertisedAll.find((l) => !controllerNames.includes(l.name))
  const protocolMap = yield* parseProtocolMap(yield* Config.String("listener.security.protocol.map").pipe(
    Config.withDefault(DEFAULT_PROTOCOL_MAP)
  ))
  const securityExplicit = new Map<string, string>()
  const securityKeys = ["listener.security.protocol.map", "sasl.enabled.mechanisms", "connections.max.reauth.ms", "sasl.jaas.config", ...SSL_KEYS]
  for (const key of [
    ...securityKeys,
    ...listeners.flatMap((l) =>
      [...securityKeys.slice(1), "plain.sasl.jaas.config"].map((k) => `listener.name.${l.name.toLowerCase()}.${k}`)
    )
  ]) {
    const v = yield* Config.String(key).pipe(Config.option)
    if (Option.isSome(v)) securityExplicit.set(key, v.value)
  }
  const served: Array<ListenerConfig> = []
  for (const l of listeners.filter((l) => !controllerNames.includes(l.name))) {
    served.push(yield* listenerConfig(l, protocolMap, l === listener ? advertised : advertisedAll.find((a) => a.name === l.name)))
  }

  const retentionMs = yield* optionalInteger("log.retention.ms")
  const retentionMinutes = yield* optionalInteger("log.retention.minutes")
  const retentionHours = yield* integer("log.retention.hours", 168)
  const logRetentionMs = unbounded(Option.getOrElse(retentionMs, () =>
    Option.match(retentionMinutes, { onSome: (m) => m * 60_000, onNone: () => retentionHours * 3_600_000 })
  ))

  const socketRequestMaxBytes = yield* integer("socket.request.max.bytes", 100 * 1024 * 1024)
  // Kafka's default is unbounded (-1); bounded here so that clients sending large requests at once cannot
  // exhaust memory. As Kafka requires, it holds at least one request of the largest size.
  const queuedMaxRequestBytes = unbounded(yield* integer("queued.max.request.bytes", Math.max(DEFAULT_QUEUED_BYTES, socketRequestMaxBytes)))
  if (queuedMaxRequestBytes < socketRequestMaxBytes) {
    return yield* new InvalidConfig({
      message: `queued.max.request.bytes: must be at least socket.request.max.bytes (${socketRequestMaxBytes}), got ${queuedMaxRequestBytes}`
    })
  }
  const positive = Effect.fnUntraced(function*(key: string, fallback: number) {
    const value = yield* integer(key, fallback)
    if (value <= 0) return yield* new InvalidConfig({ message: `${key}: must be positive, got ${value}` })
    return value
  })

  const authorizerClass = (yield* Config.String("authorizer.class.name").pipe(Config.withDefault(""))).trim()
  if (authorizerClass !== "" && authorizerClass !== STANDARD_AUTHORIZER) {
    return yield* new InvalidConfig({
      message: `authorizer.class.name: only ${STANDARD_AUTHORIZER} is supported, got ${authorizerClass}`
    })
  }

  const consoleSpec = (yield* Config.String("console.listener").pipe(Config.withDefault(""))).trim()
  const consoleMatch = /^http:\/\/(\[[^\]]+\]|[^:/\[\]]*):(\d{1,5})\/?$/.exec(consoleSpec)
  if (consoleSpec !== "" && (consoleMatch === null || Number(consoleMatch[2]) > 65535)) {
    return yield* new InvalidConfig({ message: `console.listener: expected http://HOST:PORT, got ${consoleSpec}` })
  }
  const consoleListener = consoleMatch === null
    ? undefined
    : { host: consoleMatch[1]!.replace(/^\[|\]$/g, ""), port: Number(consoleMatch[2]) }

  const storageUrl = yield* parseStorageUrl((yield* Config.String("storage.url").pipe(Config.withDefault(""))).trim())
  const brokerHeartbeatIntervalMs = yield* positive("broker.heartbeat.interval.ms", 2000)
  const brokerSessionTimeoutMs = yield* positive("broker.session.timeout.ms", 9000)
  if (brokerHeartbeatIntervalMs >= brokerSessionTimeoutMs) {
    return yield* new InvalidConfig({
      message: `broker.heartbeat.interval.ms: must be less than broker.session.timeout.ms (${brokerSessionTimeoutMs}), got ${brokerHeartbeatIntervalMs}`
    })
  }

  return BrokerConfig.of({
    nodeId,
    logDir,
    storageUrl,
    brokerHeartbeatIntervalMs,
    brokerSessionTimeoutMs,
    listeners: served,
    listener,
    advertised,
    numPartitions: yield* integer("num.partitions", 1),
    autoCreateTopics: yield* bool("auto.create.topics.enable", true),
    logSegmentBytes: yield* integer("log.segment.bytes", 1024 * 1024 * 1024),
    logRollMs: Option.getOrElse(yield* optionalInteger("log.roll.ms"), () => 0) ||
      (yield* integer("log.roll.hours", 168)) * 3_600_000,
    logIndexIntervalBytes: yield* integer("log.index.interval.bytes", 4096),
    logRetentionCheckIntervalMs: yield* integer("log.retention.check.interval.ms", 300_000),
    logRetentionMs,
    logRetentionBytes: unbounded(yield* integer("log.retention.bytes", -1)),
    metadataLogSegmentBytes: yield* positive("metadata.log.segment.bytes", 1024 * 1024 * 1024),
    metadataSnapshotMaxNewRecordBytes: yield* positive("metadata.log.max.record.bytes.between.snapshots", 20 * 1024 * 1024),
    socketRequestMaxBytes,
    queuedMaxRequestBytes,
    messageMaxBytes: yield* integer("message.max.bytes", 1024 * 1024 + 12),
    flushIntervalMessages: unbounded(yield* integer("log.flush.interval.messages", -1)),
    flushIntervalMs: unbounded(yield* integer("log.flush.interval.ms", -1)),
    groupInitialRebalanceDelayMs: yield* integer("group.initial.rebalance.delay.ms", 3000),
    groupMinSessionTimeoutMs: yield* integer("group.min.session.timeout.ms", 6000),
    groupMaxSessionTimeoutMs: yield* integer("group.max.session.timeout.ms", 1_800_000),
    ...(yield* consumerGroupConfig),
    offsetMetadataMaxBytes: yield* integer("offset.metadata.max.bytes", 4096),
    maxBrokerPartitions: yield* positive("max.broker.partitions", DEFAULT_MAX_BROKER_PARTITIONS),
    logMaxOpenFiles: yield* positive("log.max.open.files", DEFAULT_MAX_OPEN_FILES),
    transactionMaxTimeoutMs: yield* positive("transaction.max.timeout.ms", 900_000),
    transactionAbortTimedOutIntervalMs: yield* positive("transaction.abort.timed.out.transaction.cleanup.interval.ms", 10_000),
    transactionalIdExpirationMs: yield* positive("transactional.id.expiration.ms", 604_800_000),
    transactionRemoveExpiredIntervalMs: yield* positive("transaction.remove.expired.transaction.cleanup.interval.ms", 3_600_000),
    logCleanerEnable: yield* bool("log.cleaner.enable", true),
    logCleanerBackoffMs: yield* positive("log.cleaner.backoff.ms", 15_000),
    logCleanerDedupeBufferSize: yield* positive("log.cleaner.dedupe.buffer.size", 128 * 1024 * 1024),
    logCleanerIoMaxBytesPerSecond: yield* fraction("log.cleaner.io.max.bytes.per.second", Infinity, 1, Infinity),
    logCleanerMinCleanableRatio: yield* fraction("log.cleaner.min.cleanable.ratio", 0.5, 0, 1),
    logCleanerMinCompactionLagMs: yield* integer("log.cleaner.min.compaction.lag.ms", 0),
    logCleanerMaxCompactionLagMs: unbounded(yield* integer("log.cleaner.max.compaction.lag.ms", Number.MAX_SAFE_INTEGER)),
    logCleanerDeleteRetentionMs: yield* integer("log.cleaner.delete.retention.ms", 86_400_000),
    logSegmentDeleteDelayMs: yield* integer("log.segment.delete.delay.ms", 60_000),
    offsetsTopicSegmentBytes: yield* positive("offsets.topic.segment.bytes", 100 * 1024 * 1024),
    transactionStateLogSegmentBytes: yield* positive("transaction.state.log.segment.bytes", 100 * 1024 * 1024),
    quotaWindowNum: yield* positive("quota.window.num", 11),
    quotaWindowSizeSeconds: yield* positive("quota.window.size.seconds", 1),
    authorizerEnabled: authorizerClass !== "",
    superUsers: parseSuperUsers(yield* Config.String("super.users").pipe(Config.withDefault(""))),
    allowEveryoneIfNoAclFound: yield* bool("allow.everyone.if.no.acl.found", false),
    explicit,
    securityExplicit,
    consoleListener
  })
}).pipe(
  Effect.catchTag("ConfigError", (e) => Effect.fail(new InvalidConfig({ message: e.message.replace(/\s*\n\s*/g, " ") })))
)
