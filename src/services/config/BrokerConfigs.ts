// The broker's own configs as DescribeConfigs describes them: one per key of `HONOURED_KEYS`, with Kafka's type,
// default and synonyms; dynamic values (AlterConfigs) over the file's (STATIC_BROKER_CONFIG) over the defaults.
// Only the dynamic keys are writable.
import { type BrokerConfigShape, DEFAULT_MAX_BROKER_PARTITIONS, DEFAULT_MAX_OPEN_FILES, DEFAULT_QUEUED_BYTES, HONOURED_KEYS, isSensitiveKey } from "./BrokerConfig.ts"
import { type ConfigEntry, ConfigSource, type ConfigSynonym, ConfigType, limit, LONG_MAX } from "./ConfigEntries.ts"
import { DYNAMIC_KEYS, isDynamicSslKey } from "./DynamicConfigs.ts"

const { BOOLEAN, STRING, INT, LONG, DOUBLE, LIST, PASSWORD } = ConfigType

type HonouredKey = (typeof HONOURED_KEYS)[number]

interface BrokerKeyDef {
  readonly type: ConfigType
  /** Kafka's default (null: none), reported as the DEFAULT_CONFIG synonym. */
  readonly kafkaDefault: string | null
  /** The value in effect; `set` is the value from the file, if any. */
  readonly value: (config: BrokerConfigShape, set: string | undefined) => string | null
  /** Kafka's synonyms for the key (DynamicBrokerConfig.brokerConfigSynonyms), in precedence order. */
  readonly synonyms?: ReadonlyArray<string>
  readonly doc: string
}

const RETENTION_TIME = ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
const asSet = (_: BrokerConfigShape, set: string | undefined) => set?.trim() ?? null
const orDefault = (fallback: string) => (_: BrokerConfigShape, set: string | undefined) => set?.trim() ?? fallback

/** Every key `HONOURED_KEYS` names, with its type, default and effective value. */
const BROKER_KEYS: { readonly [K in HonouredKey]: BrokerKeyDef } = {
  "node.id": { type: INT, kafkaDefault: "-1", value: (c) => String(c.nodeId), doc: "This node's id (broker.id when unset, else 1)." },
  "broker.id": { type: INT, kafkaDefault: "-1", value: (c, set) => set?.trim() ?? String(c.nodeId), doc: "Older name of node.id." },
  "log.dirs": { type: STRING, kafkaDefault: null, value: asSet, doc: "Data directories; the first holds all data." },
  "log.dir": { type: STRING, kafkaDefault: "/tmp/kafka-logs", value: orDefault("/tmp/kafka-logs"), doc: "Data directory when log.dirs is unset." },
  "listeners": { type: STRING, kafkaDefault: "PLAINTEXT://:9092", value: orDefault("PLAINTEXT://:9092"), doc: "Listeners; the first that is not a controller listener is served." },
  "advertised.listeners": { type: STRING, kafkaDefault: null, value: asSet, doc: "Address given to clients; defaults to the listener." },
  "controller.listener.names": { type: STRING, kafkaDefault: null, value: asSet, doc: "Listeners this broker does not serve." },
  "num.partitions": { type: INT, kafkaDefault: "1", value: (c) => String(c.numPartitions), doc: "Partitions of a topic created without a count." },
  "auto.create.topics.enable": { type: BOOLEAN, kafkaDefault: "true", value: (c) => String(c.autoCreateTopics), doc: "Create unknown topics named in Metadata requests." },
  "log.segment.bytes": { type: INT, kafkaDefault: "1073741824", value: (c) => String(c.logSegmentBytes), doc: "Default segment.bytes of topics." },
  "log.roll.ms": { type: LONG, kafkaDefault: null, value: asSet, synonyms: ["log.roll.ms", "log.roll.hours"], doc: "Default segment.ms of topics." },
  "log.roll.hours": { type: INT, kafkaDefault: "168", value: orDefault("168"), synonyms: ["log.roll.ms", "log.roll.hours"], doc: "Default segment.ms in hours when log.roll.ms is unset." },
  "log.index.interval.bytes": { type: INT, kafkaDefault: "4096", value: (c) => String(c.logIndexIntervalBytes), doc: "Default index.interval.bytes of topics." },
  "log.retention.check.interval.ms": { type: LONG, kafkaDefault: "300000", value: (c) => String(c.logRetentionCheckIntervalMs), doc: "How often retention looks for segments to delete." },
  "log.retention.ms": { type: LONG, kafkaDefault: null, value: (c, set) => (set === undefined ? null : limit(c.logRetentionMs, "-1")), synonyms: RETENTION_TIME, doc: "Default retention.ms of topics." },
  "log.retention.minutes": { type: INT, kafkaDefault: null, value: asSet, synonyms: RETENTION_TIME, doc: "Retention in minutes when log.retention.ms is unset." },
  "log.retention.hours": { type: INT, kafkaDefault: "168", value: orDefault("168"), synonyms: RETENTION_TIME, doc: "Retention in hours when the finer keys are unset." },
  "log.retention.bytes": { type: LONG, kafkaDefault: "-1", value: (c) => limit(c.logRetentionBytes, "-1"), doc: "Default retention.bytes of topics." },
  "metadata.log.segment.bytes": { type: INT, kafkaDefault: "1073741824", value: (c) => String(c.metadataLogSegmentBytes), doc: "Size at which the metadata log rolls a new segment." },
  "metadata.log.max.record.bytes.between.snapshots": {
    type: LONG,
    kafkaDefault: "20971520",
    value: (c) => String(c.metadataSnapshotMaxNewRecordBytes),
    doc: "Bytes of metadata records appended after which a new metadata snapshot is written and the log below it deleted."
  },
  "socket.request.max.bytes": { type: INT, kafkaDefault: "104857600", value: (c) => String(c.socketRequestMaxBytes), doc: "Largest request accepted; larger ones close the connection." },
  "queued.max.request.bytes": {
    type: LONG,
    kafkaDefault: String(DEFAULT_QUEUED_BYTES),
    value: (c) => limit(c.queuedMaxRequestBytes, "-1"),
    doc: "Bytes of requests read but not yet handled, across all connections (Kafka: unbounded); reading waits beyond it."
  },
  "message.max.bytes": { type: INT, kafkaDefault: "1048588", value: (c) => String(c.messageMaxBytes), doc: "Largest record batch accepted." },
  "log.flush.interval.messages": { type: LONG, kafkaDefault: LONG_MAX, value: (c) => limit(c.flushIntervalMessages, LONG_MAX), doc: "fsync a partition after this many messages." },
  "log.flush.interval.ms": {
    type: LONG,
    kafkaDefault: null,
    value: (c, set) => (set === undefined ? null : limit(c.flushIntervalMs, LONG_MAX)),
    synonyms: ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    doc: "fsync dirty partitions this often."
  },
  "group.initial.rebalance.delay.ms": {
    type: INT,
    kafkaDefault: "3000",
    value: (c) => String(c.groupInitialRebalanceDelayMs),
    doc: "How long the first rebalance of an empty group waits for more members."
  },
  "group.min.session.timeout.ms": { type: INT, kafkaDefault: "6000", value: (c) => String(c.groupMinSessionTimeoutMs), doc: "Shortest session timeout a group member may ask for." },
  "group.max.session.timeout.ms": { type: INT, kafkaDefault: "1800000", value: (c) => String(c.groupMaxSessionTimeoutMs), doc: "Longest session timeout a group member may ask for." },
  "group.consumer.session.timeout.ms": { type: INT, kafkaDefault: "45000", value: (c) => String(c.groupConsumerSessionTimeoutMs), doc: "Session timeout of consumer group (KIP-848) members." },
  "group.consumer.min.session.timeout.ms": { type: INT, kafkaDefault: "45000", value: (c) => String(c.groupConsumerMinSessionTimeoutMs), doc: "Lower bound of group.consumer.session.timeout.ms." },
  "group.consumer.max.session.timeout.ms": { type: INT, kafkaDefault: "60000", value: (c) => String(c.groupConsumerMaxSessionTimeoutMs), doc: "Upper bound of group.consumer.session.timeout.ms." },
  "group.consumer.heartbeat.interval.ms": { type: INT, kafkaDefault: "5000", value: (c) => String(c.groupConsumerHeartbeatIntervalMs), doc: "Heartbeat interval given to consumer group members." },
  "group.consumer.min.heartbeat.interval.ms": { type: INT, kafkaDefault: "5000", value: (c) => String(c.groupConsumerMinHeartbeatIntervalMs), doc: "Lower bound of group.consumer.heartbeat.interval.ms." },
  "group.consumer.max.heartbeat.interval.ms": { type: INT, kafkaDefault: "15000", value: (c) => String(c.groupConsumerMaxHeartbeatIntervalMs), doc: "Upper bound of group.consumer.heartbeat.interval.ms." },
  "group.consumer.max.size": { type: INT, kafkaDefault: "2147483647", value: (c) => String(c.groupConsumerMaxSize), doc: "Most members of a consumer group." },
  "group.consumer.assignors": {
    type: ConfigType.LIST,
    kafkaDefault: "org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor",
    value: (c, set) => set?.trim() ?? c.groupConsumerAssignors.join(","),
    doc: "Server-side assignors of consumer groups (uniform, range); the first is the default."
  },
  "offset.metadata.max.bytes": { type: INT, kafkaDefault: "4096", value: (c) => String(c.offsetMetadataMaxBytes), doc: "Longest metadata string of a committed offset." },
  "max.broker.partitions": {
    type: INT,
    kafkaDefault: String(DEFAULT_MAX_BROKER_PARTITIONS),
    value: (c) => String(c.maxBrokerPartitions),
    doc: "Partitions this broker may hold; creating more is refused with POLICY_VIOLATION (KIP-578's name; Kafka has no such limit)."
  },
  "log.max.open.files": {
    type: INT,
    kafkaDefault: String(DEFAULT_MAX_OPEN_FILES),
    value: (c) => String(c.logMaxOpenFiles),
    doc: "Segment files kept open at once; the least recently used are closed and reopened when needed."
  },
  "transaction.max.timeout.ms": {
    type: INT,
    kafkaDefault: "900000",
    value: (c) => String(c.transactionMaxTimeoutMs),
    doc: "Longest transaction timeout a producer may ask for; InitProducerId beyond it answers INVALID_TRANSACTION_TIMEOUT."
  },
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": {
    type: INT,
    kafkaDefault: "10000",
    value: (c) => String(c.transactionAbortTimedOutIntervalMs),
    doc: "How often transactions open longer than their timeout are aborted (their producers fenced)."
  },
  "transactional.id.expiration.ms": {
    type: INT,
    kafkaDefault: "604800000",
    value: (c) => String(c.transactionalIdExpirationMs),
    doc: "A transactional id without a transaction for this long is forgotten."
  },
  "transaction.remove.expired.transaction.cleanup.interval.ms": {
    type: INT,
    kafkaDefault: "3600000",
    value: (c) => String(c.transactionRemoveExpiredIntervalMs),
    doc: "How often expired transactional ids are removed."
  },
  "log.cleaner.enable": { type: BOOLEAN, kafkaDefault: "true", value: (c) => String(c.logCleanerEnable), doc: "Compact topics with cleanup.policy=compact and the broker's own logs." },
  "log.cleaner.backoff.ms": { type: LONG, kafkaDefault: "15000", value: (c) => String(c.logCleanerBackoffMs), doc: "How long the cleaner sleeps when no log needs cleaning." },
  "log.cleaner.dedupe.buffer.size": { type: LONG, kafkaDefault: "134217728", value: (c) => String(c.logCleanerDedupeBufferSize), doc: "Memory for the cleaner's key map (24 bytes a key, as Kafka counts); one clean covers the dirty log whose keys fit." },
  "log.cleaner.io.max.bytes.per.second": { type: DOUBLE, kafkaDefault: "1.7976931348623157E308", value: (c) => limit(c.logCleanerIoMaxBytesPerSecond, "1.7976931348623157E308"), doc: "Bytes per second the cleaner reads and writes at most." },
  "log.cleaner.min.cleanable.ratio": { type: DOUBLE, kafkaDefault: "0.5", value: (c) => String(c.logCleanerMinCleanableRatio), doc: "Default min.cleanable.dirty.ratio of topics." },
  "log.cleaner.min.compaction.lag.ms": { type: LONG, kafkaDefault: "0", value: (c) => String(c.logCleanerMinCompactionLagMs), doc: "Default min.compaction.lag.ms of topics." },
  "log.cleaner.max.compaction.lag.ms": { type: LONG, kafkaDefault: LONG_MAX, value: (c) => limit(c.logCleanerMaxCompactionLagMs, LONG_MAX), doc: "Default max.compaction.lag.ms of topics." },
  "log.cleaner.delete.retention.ms": { type: LONG, kafkaDefault: "86400000", value: (c) => String(c.logCleanerDeleteRetentionMs), doc: "Default delete.retention.ms of topics." },
  "log.segment.delete.delay.ms": { type: LONG, kafkaDefault: "60000", value: (c) => String(c.logSegmentDeleteDelayMs), doc: "Default file.delete.delay.ms of topics." },
  "offsets.topic.segment.bytes": { type: INT, kafkaDefault: "104857600", value: (c) => String(c.offsetsTopicSegmentBytes), doc: "Segment size of __consumer_offsets (compacted)." },
  "transaction.state.log.segment.bytes": { type: INT, kafkaDefault: "104857600", value: (c) => String(c.transactionStateLogSegmentBytes), doc: "Segment size of __transaction_state (compacted)." },
  "quota.window.num": { type: INT, kafkaDefault: "11", value: (c) => String(c.quotaWindowNum), doc: "The number of samples to retain in memory for client quotas." },
  "quota.window.size.seconds": { type: INT, kafkaDefault: "1", value: (c) => String(c.quotaWindowSizeSeconds), doc: "The time span of each sample for client quotas." },
  "authorizer.class.name": { type: STRING, kafkaDefault: "", value: orDefault(""), doc: "The authorizer: org.apache.kafka.metadata.authorizer.StandardAuthorizer, or empty for none." },
  "super.users": { type: LIST, kafkaDefault: null, value: asSet, doc: "Principals every authorization check allows, separated by semicolons." },
  "allow.everyone.if.no.acl.found": { type: BOOLEAN, kafkaDefault: "false", value: (c) => String(c.allowEveryoneIfNoAclFound), doc: "A resource no ACL names is open to every principal." },
  "storage.url": { type: PASSWORD, kafkaDefault: null, value: asSet, doc: "Where state lives: unset for files under log.dirs, or a postgresql:// URL shared by every broker of the cluster." },
  "broker.heartbeat.interval.ms": { type: INT, kafkaDefault: "2000", value: (c) => String(c.brokerHeartbeatIntervalMs), doc: "How often a broker over shared storage heartbeats." },
  "broker.session.timeout.ms": { type: INT, kafkaDefault: "9000", value: (c) => String(c.brokerSessionTimeoutMs), doc: "A broker not heard from for this long is no longer live." }
}

/** Kafka's defaults of the synonyms outside `HONOURED_KEYS`. */
const OTHER_DEFAULTS: Readonly<Record<string, string>> = { "log.flush.scheduler.interval.ms": LONG_MAX }

const defaultOf = (name: string): string | null =>
  name in BROKER_KEYS ? BROKER_KEYS[name as HonouredKey].kafkaDefault : (OTHER_DEFAULTS[name] ?? null)

/** Dynamic broker configs: the cluster-wide default's and this node's (services/config/DynamicConfigs.ts). */
export interface DynamicValues {
  readonly cluster: ReadonlyMap<string, string>
  readonly node: ReadonlyMap<string, string>
}

const none: DynamicValues = { cluster: new Map(), node: new Map() }

/** The dynamic values of the chain `names`, this node's first, as synonyms. */
export const dynamicSynonyms = (names: ReadonlyArray<string>, dynamic: DynamicValues): Array<ConfigSynonym> => [
  ...names.flatMap((n): Array<ConfigSynonym> => {
    const v = dynamic.node.get(n)
    return v === undefined ? [] : [{ name: n, value: v, source: ConfigSource.DYNAMIC_BROKER_CONFIG }]
  }),
  ...names.flatMap((n): Array<ConfigSynonym> => {
    const v = dynamic.cluster.get(n)
    return v === undefined ? [] : [{ name: n, value: v, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG }]
  })
]

/**
 * The broker's configs, one per key of `HONOURED_KEYS` in that order: DYNAMIC_BROKER_CONFIG or
 * DYNAMIC_DEFAULT_BROKER_CONFIG when set at run time (this node's over the cluster's), STATIC_BROKER_CONFIG
 * when the file sets it, else DEFAULT_CONFIG. Only the dynamic keys are writable. `config` is the
 * configuration in effect.
 */
export const describeBrokerConfigs = (config: BrokerConfigShape, dynamic: DynamicValues = none): Array<ConfigEntry> => [
  ...honouredConfigs(config, dynamic),
  // The listener security keys the file or this node's dynamic configs set; secrets as null (marked sensitive).
  ...[...new Set([...config.securityExplicit.keys(), ...[...dynamic.node.keys()].filter(isDynamicSslKey)])].map((name): ConfigEntry => {
    const sensitive = isSensitiveKey(name)
    const shown = (v: string) => (sensitive ? null : v)
    const set = dynamic.node.get(name)
    const file = config.securityExplicit.get(name)
    const synonyms: Array<ConfigSynonym> = [
      ...(set === undefined ? [] : [{ name, value: shown(set), source: ConfigSource.DYNAMIC_BROKER_CONFIG }]),
      ...(file === undefined ? [] : [{ name, value: shown(file), source: ConfigSource.STATIC_BROKER_CONFIG }])
    ]
    return {
      name,
      value: synonyms[0]!.value,
      source: synonyms[0]!.source,
      isDefault: false,
      readOnly: !isDynamicSslKey(name),
      type: sensitive ? ConfigType.PASSWORD : STRING,
      synonyms,
      documentation: "Listener security (see README: Security)."
    }
  })
]

const honouredConfigs = (config: BrokerConfigShape, dynamic: DynamicValues): Array<ConfigEntry> =>
  HONOURED_KEYS.map((name): ConfigEntry => {
    const key = BROKER_KEYS[name]
    const set = config.explicit.get(name)
    // As Kafka: the chain's dynamic values, its file values, then its defaults, starting from the key itself.
    const chain = key.synonyms ?? [name]
    const all: Array<ConfigSynonym> = [
      ...dynamicSynonyms(chain, dynamic),
      ...chain.flatMap((n): Array<ConfigSynonym> => {
        const v = config.explicit.get(n)
        return v === undefined ? [] : [{ name: n, value: v, source: ConfigSource.STATIC_BROKER_CONFIG }]
      }),
      ...chain.flatMap((n): Array<ConfigSynonym> => {
        const v = defaultOf(n)
        return v === null ? [] : [{ name: n, value: v, source: ConfigSource.DEFAULT_CONFIG }]
      })
    ]
    const start = all.findIndex((s) => s.name === name)
    const live = dynamic.node.get(name) ?? dynamic.cluster.get(name)
    // A secret (storage.url may carry a password) is answered as null, as Kafka answers PASSWORD configs.
    const sensitive = isSensitiveKey(name)
    return {
      name,
      value: sensitive ? null : live ?? key.value(config, set),
      source: dynamic.node.has(name)
        ? ConfigSource.DYNAMIC_BROKER_CONFIG
        : dynamic.cluster.has(name)
        ? ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        : set === undefined
        ? ConfigSource.DEFAULT_CONFIG
        : ConfigSource.STATIC_BROKER_CONFIG,
      isDefault: set === undefined && live === undefined,
      readOnly: !DYNAMIC_KEYS.has(name),
      type: key.type,
      synonyms: start < 0 ? [] : sensitive ? all.slice(start).map((y) => ({ ...y, value: null })) : all.slice(start),
      documentation: key.doc
    }
  })
