// Kafka 3.9's topic-level configs: their types, how a value is checked, and the value a topic has when it sets
// none (the broker config it derives from, else Kafka's default). CreateTopics checks a new topic's configs
// with `validateTopicConfigs`; DescribeConfigs and CreateTopics (v5+) describe them with `describeTopicConfigs`
// (the broker's own keys: services/config/BrokerConfigs.ts).
//
// Every config Kafka 3.9 knows is accepted, stored (ConfigRecords) and described, but this broker acts on few:
// the `honoured` column marks those whose defaults come from the broker configs it reads. Applied per topic:
// retention.ms, retention.bytes, segment.bytes, segment.ms, index.interval.bytes, max.message.bytes,
// cleanup.policy (retention under "delete"; the log cleaner and keys required under "compact"), the cleaner's
// min.cleanable.dirty.ratio, min/max.compaction.lag.ms, delete.retention.ms and file.delete.delay.ms,
// message.timestamp.type, message.timestamp.before/after.max.ms and flush.messages; flush.ms is applied
// broker-wide only (`log.flush.interval.ms`). Everything else (compression, remote storage, throttles, ...) is
// Kafka's default, described so that tools show what they expect.
import { Effect } from "effect"
import type { BrokerConfigShape } from "../config/BrokerConfig.ts"
import { type ConfigEntry, ConfigSource, type ConfigSynonym, ConfigType, limit, LONG_MAX } from "../config/ConfigEntries.ts"
import { type DynamicValues, dynamicSynonyms } from "../config/BrokerConfigs.ts"
import { InvalidTopicConfig } from "../Errors.ts"

// ---------------------------------------------------------------------------------------------------------
// Values: parsed as Kafka's ConfigDef parses them (trimmed; booleans case-insensitive; integers within their
// Java type), checked against the config's range or allowed values, and written back in canonical form.

/** A value in canonical form, or why it is not acceptable. */
export type Parsed = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string }
type Parse = (raw: string) => Parsed

const ok = (value: string): Parsed => ({ ok: true, value })
const bad = (reason: string): Parsed => ({ ok: false, reason })

const INT_BOUNDS = [-(2n ** 31n), 2n ** 31n - 1n] as const
const LONG_BOUNDS = [-(2n ** 63n), 2n ** 63n - 1n] as const

const integer = (bits: 32 | 64, min?: bigint, max?: bigint, extra?: bigint): Parse => (raw) => {
  const s = raw.trim()
  if (!/^[+-]?\d+$/.test(s)) return bad(`"${raw}" is not ${bits === 32 ? "a 32-bit" : "a 64-bit"} integer`)
  const n = BigInt(s)
  const [lo, hi] = bits === 32 ? INT_BOUNDS : LONG_BOUNDS
  if (n < lo || n > hi) return bad(`${s} does not fit ${bits === 32 ? "a 32-bit" : "a 64-bit"} integer`)
  if (n === extra) return ok(n.toString())
  const or = extra === undefined ? "" : ` (or ${extra})`
  if (min !== undefined && n < min) {
    return bad(max === undefined ? `${s} is below the minimum ${min}` : `${s} is outside ${min}..${max}${or}`)
  }
  if (max !== undefined && n > max) {
    return bad(min === undefined ? `${s} is above the maximum ${max}` : `${s} is outside ${min}..${max}${or}`)
  }
  return ok(n.toString())
}
const int = (min?: number, max?: number): Parse =>
  integer(32, min === undefined ? undefined : BigInt(min), max === undefined ? undefined : BigInt(max))
const long = (min?: number): Parse => integer(64, min === undefined ? undefined : BigInt(min))

const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/
const double = (min: number, max: number): Parse => (raw) => {
  const s = raw.trim()
  if (!DOUBLE.test(s)) return bad(`"${raw}" is not a number`)
  const n = Number(s.replace(/[dDfF]$/, ""))
  if (n < min || n > max) return bad(`${s} is outside ${min}..${max}`)
  // As Java prints a double: a whole number keeps ".0".
  return ok(Number.isInteger(n) ? n.toFixed(1) : String(n))
}

const bool: Parse = (raw) => {
  const s = raw.trim().toLowerCase()
  return s === "true" || s === "false" ? ok(s) : bad(`"${raw}" is neither true nor false`)
}

/** A STRING from a fixed set; Kafka compares case-sensitively. */
const oneOf = (...allowed: ReadonlyArray<string>): Parse => (raw) => {
  const s = raw.trim()
  return allowed.includes(s) ? ok(s) : bad(`"${s}" is not one of ${allowed.join(", ")}`)
}

const listItems = (raw: string): Array<string> => {
  const s = raw.trim()
  return s === "" ? [] : s.split(/\s*,\s*/)
}

/** A LIST (comma-separated) whose every item is from a fixed set; the empty list is allowed, as in Kafka. */
const listOf = (...allowed: ReadonlyArray<string>): Parse => (raw) => {
  const items = listItems(raw)
  const wrong = items.find((item) => !allowed.includes(item))
  return wrong === undefined ? ok(items.join(",")) : bad(`"${wrong}" is not one of ${allowed.join(", ")}`)
}

/** `*`, or `partition:broker` pairs, as Kafka's throttled-replicas lists. */
const throttledReplicas: Parse = (raw) => {
  const items = listItems(raw)
  if (items.join("") === "*" || items.every((item) => /^(\d+:\d+)?$/.test(item))) return ok(items.join(","))
  return bad(`"${raw.trim()}" is neither * nor a list of partition:broker pairs`)
}

/** gzip levels 1..9, or -1 for zlib's default. */
const gzipLevel: Parse = integer(32, 1n, 9n, -1n)

/**
 * message.format.version: a MetadataVersion of Kafka 3.9 ("0.10.2", "2.8-IV1", "3.0", ...). Versions past
 * "0." are matched on their first two parts, as Kafka does ("1.0.1" is "1.0"). Ignored since 3.0.
 */
const METADATA_VERSIONS: ReadonlyArray<readonly [release: string, ivs: number]> = [
  ["0.8.0", 0], ["0.8.1", 0], ["0.8.2", 0], ["0.9.0", 0], ["0.10.0", 2], ["0.10.1", 3], ["0.10.2", 1], ["0.11.0", 3],
  ["1.0", 1], ["1.1", 1], ["2.0", 2], ["2.1", 3], ["2.2", 2], ["2.3", 2], ["2.4", 2], ["2.5", 1], ["2.6", 1],
  ["2.7", 3], ["2.8", 2], ["3.0", 2], ["3.1", 1], ["3.2", 1], ["3.3", 4], ["3.4", 1], ["3.5", 3], ["3.6", 3],
  ["3.7", 5], ["3.8", 1], ["3.9", 1]
]
const KNOWN_METADATA_VERSIONS: ReadonlySet<string> = new Set(METADATA_VERSIONS.flatMap(([release, ivs]) => [
  release,
  ...Array.from({ length: ivs }, (_, i) => `${release}-IV${i}`)
]))
const metadataVersion: Parse = (raw) => {
  const s = raw.trim()
  const parts = s.split(".")
  const keep = s.startsWith("0.") ? 3 : 2
  const key = parts.length > keep ? parts.slice(0, keep).join(".") : s
  return KNOWN_METADATA_VERSIONS.has(key) ? ok(s) : bad(`"${s}" is not a known message format version`)
}

// ---------------------------------------------------------------------------------------------------------
// The table

export interface TopicConfigDef {
  readonly name: string
  readonly type: ConfigType
  readonly parse: Parse
  /** Kafka's default, used when no broker config it derives from is set. */
  readonly kafkaDefault: string
  /** The broker configs this one derives from, in Kafka's order of precedence (ServerTopicConfigSynonyms). */
  readonly brokerSynonyms: ReadonlyArray<string>
  /** The broker config Kafka reports as the default synonym, with its default (in that config's unit). */
  readonly brokerDefault?: readonly [name: string, value: string]
  /**
   * True for the configs this broker reads (its value comes from `fromBroker`): retention, segments, indexes,
   * message size, flushing and the cleaner's. The others are accepted and described only.
   */
  readonly honoured: boolean
  /** The value derived from this broker's typed configuration (honoured configs only). */
  readonly fromBroker?: (config: BrokerConfigShape) => string
  readonly doc: string
}

const def = (
  name: string,
  type: ConfigType,
  parse: Parse,
  kafkaDefault: string,
  doc: string,
  synonyms: ReadonlyArray<string> = [],
  extra: Partial<Pick<TopicConfigDef, "brokerDefault" | "fromBroker">> = {}
): TopicConfigDef => ({
  name,
  type,
  parse,
  kafkaDefault,
  doc,
  brokerSynonyms: synonyms,
  // The broker synonym of the same meaning carries the same default, unless given (converted units).
  brokerDefault: extra.brokerDefault ?? (synonyms.length > 0 ? [synonyms[synonyms.length - 1]!, kafkaDefault] : undefined),
  honoured: extra.fromBroker !== undefined,
  ...(extra.fromBroker === undefined ? {} : { fromBroker: extra.fromBroker })
})

const { BOOLEAN, STRING, INT, LONG, DOUBLE: DOUBLE_TYPE, LIST } = ConfigType
const WEEK_MS = String(7 * 24 * 3600 * 1000)

/** Kafka 3.9's topic configs, sorted by name (the order DescribeConfigs lists them in). */
export const TOPIC_CONFIGS: ReadonlyArray<TopicConfigDef> = [
  def("cleanup.policy", LIST, listOf("compact", "delete"), "delete",
    "What happens to old segments: delete (retention applies), compact (the cleaner keeps each key's latest record), or both.", ["log.cleanup.policy"]),
  def("compression.gzip.level", INT, gzipLevel, "-1",
    "gzip level when compression.type is gzip (not applied).", ["compression.gzip.level"]),
  def("compression.lz4.level", INT, int(1, 17), "9",
    "lz4 level when compression.type is lz4 (not applied).", ["compression.lz4.level"]),
  def("compression.type", STRING, oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), "producer",
    "Codec of stored batches; producer keeps what the producer sent (the only behaviour here).", ["compression.type"]),
  def("compression.zstd.level", INT, int(-131072, 22), "3",
    "zstd level when compression.type is zstd (not applied).", ["compression.zstd.level"]),
  def("delete.retention.ms", LONG, long(0), "86400000",
    "How long the cleaner keeps tombstones and empty transaction markers after the clean that first kept them.", ["log.cleaner.delete.retention.ms"],
    { fromBroker: (c) => String(c.logCleanerDeleteRetentionMs) }),
  def("file.delete.delay.ms", LONG, long(0), "60000",
    "Delay before a segment replaced by the cleaner is removed from disk.", ["log.segment.delete.delay.ms"],
    { fromBroker: (c) => String(c.logSegmentDeleteDelayMs) }),
  def("flush.messages", LONG, long(1), LONG_MAX,
    "fsync the partition after this many messages.", ["log.flush.interval.messages"],
    { fromBroker: (c) => limit(c.flushIntervalMessages, LONG_MAX) }),
  def("flush.ms", LONG, long(0), LONG_MAX,
    "fsync the partition at least this often.", ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    { fromBroker: (c) => limit(c.flushIntervalMs, LONG_MAX) }),
  def("follower.replication.throttled.replicas", LIST, throttledReplicas, "",
    "Replicas throttled on followers (no replication here)."),
  def("index.interval.bytes", INT, int(0), "4096",
    "Bytes between offset index entries.", ["log.index.interval.bytes"],
    { fromBroker: (c) => String(c.logIndexIntervalBytes) }),
  def("leader.replication.throttled.replicas", LIST, throttledReplicas, "",
    "Replicas throttled on the leader (no replication here)."),
  def("local.retention.bytes", LONG, long(-2), "-2",
    "Local retention with tiered storage (not supported).", ["log.local.retention.bytes"]),
  def("local.retention.ms", LONG, long(-2), "-2",
    "Local retention time with tiered storage (not supported).", ["log.local.retention.ms"]),
  def("max.compaction.lag.ms", LONG, long(1), LONG_MAX,
    "Longest a record stays uncompacted: a log with older dirty records is cleaned whatever its dirty ratio.", ["log.cleaner.max.compaction.lag.ms"],
    { fromBroker: (c) => limit(c.logCleanerMaxCompactionLagMs, LONG_MAX) }),
  def("max.message.bytes", INT, int(0), "1048588",
    "Largest record batch accepted.", ["message.max.bytes"],
    { fromBroker: (c) => String(c.messageMaxBytes) }),
  def("message.downconversion.enable", BOOLEAN, bool, "true",
    "Whether old fetch versions get down-converted batches (not applied).", ["log.message.downconversion.enable"]),
  def("message.format.version", STRING, metadataVersion, "3.0-IV1",
    "Deprecated; ignored since Kafka 3.0.", ["log.message.format.version"]),
  def("message.timestamp.after.max.ms", LONG, long(0), LONG_MAX,
    "How far a CreateTime record's timestamp may be ahead of the broker's clock (beyond: INVALID_TIMESTAMP).", ["log.message.timestamp.after.max.ms"]),
  def("message.timestamp.before.max.ms", LONG, long(0), LONG_MAX,
    "How far a CreateTime record's timestamp may be behind the broker's clock (beyond: INVALID_TIMESTAMP).", ["log.message.timestamp.before.max.ms"]),
  def("message.timestamp.difference.max.ms", LONG, long(0), LONG_MAX,
    "Deprecated bound on record timestamps (not applied).", ["log.message.timestamp.difference.max.ms"]),
  def("message.timestamp.type", STRING, oneOf("CreateTime", "LogAppendTime"), "CreateTime",
    "Whose timestamp a batch keeps: the producer's (CreateTime) or the broker's clock at append (LogAppendTime).", ["log.message.timestamp.type"]),
  def("min.cleanable.dirty.ratio", DOUBLE_TYPE, double(0, 1), "0.5",
    "Dirty share of the log at which the cleaner compacts it.", ["log.cleaner.min.cleanable.ratio"],
    { fromBroker: (c) => String(c.logCleanerMinCleanableRatio) }),
  def("min.compaction.lag.ms", LONG, long(0), "0",
    "Shortest time a record stays uncompacted.", ["log.cleaner.min.compaction.lag.ms"],
    { fromBroker: (c) => String(c.logCleanerMinCompactionLagMs) }),
  def("min.insync.replicas", INT, int(1), "1",
    "Replicas that must have a write for acks=all; this node is the only one.", ["min.insync.replicas"]),
  def("preallocate", BOOLEAN, bool, "false",
    "Preallocate segment files (not applied).", ["log.preallocate"]),
  def("remote.log.copy.disable", BOOLEAN, bool, "false",
    "Stop copying to tiered storage (not supported)."),
  def("remote.log.delete.on.disable", BOOLEAN, bool, "false",
    "Delete tiered data when tiered storage is turned off (not supported)."),
  def("remote.storage.enable", BOOLEAN, bool, "false",
    "Tiered storage for the topic (not supported: only false is accepted)."),
  def("retention.bytes", LONG, long(), "-1",
    "Largest size of a partition before old segments are deleted; -1 is no limit.", ["log.retention.bytes"],
    { fromBroker: (c) => limit(c.logRetentionBytes, "-1") }),
  def("retention.ms", LONG, long(-1), WEEK_MS,
    "How long records are kept; -1 is forever.", ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
    { brokerDefault: ["log.retention.hours", "168"], fromBroker: (c) => limit(c.logRetentionMs, "-1") }),
  def("segment.bytes", INT, int(14), "1073741824",
    "Size at which a new segment file is started.", ["log.segment.bytes"],
    { fromBroker: (c) => String(c.logSegmentBytes) }),
  def("segment.index.bytes", INT, int(4), "10485760",
    "Largest size of a segment's offset index (not applied).", ["log.index.size.max.bytes"]),
  def("segment.jitter.ms", LONG, long(0), "0",
    "Random jitter subtracted from segment.ms (not applied).", ["log.roll.jitter.ms", "log.roll.jitter.hours"],
    { brokerDefault: ["log.roll.jitter.hours", "0"] }),
  def("segment.ms", LONG, long(1), WEEK_MS,
    "Age at which a new segment file is started.", ["log.roll.ms", "log.roll.hours"],
    { brokerDefault: ["log.roll.hours", "168"], fromBroker: (c) => String(c.logRollMs) }),
  def("unclean.leader.election.enable", BOOLEAN, bool, "false",
    "Whether an out-of-sync replica may become leader (one replica here).", ["unclean.leader.election.enable"])
]

export const BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]))

/**
 * The number a topic runs with for an honoured numeric config: its override, else the broker's, else Kafka's
 * default. "No limit" (-1, or Long.MAX_VALUE) is Infinity.
 */
export const topicSetting = (config: BrokerConfigShape, overrides: ReadonlyMap<string, string>, name: string): number => {
  const def = BY_NAME.get(name)!
  const text = overrides.get(name) ?? def.fromBroker?.(config) ?? def.kafkaDefault
  const value = Number(text.trim())
  return value < 0 || value >= Number.MAX_SAFE_INTEGER ? Infinity : value
}

// ---------------------------------------------------------------------------------------------------------
// Validation (CreateTopics)

/** Kafka's cross-config rules, on the new configs over the defaults. */
const crossCheck = (values: ReadonlyMap<string, string>): InvalidTopicConfig | undefined => {
  const min = BigInt(values.get("min.compaction.lag.ms") ?? "0")
  const max = BigInt(values.get("max.compaction.lag.ms") ?? LONG_MAX)
  if (min > max) {
    return new InvalidTopicConfig({ name: "min.compaction.lag.ms", detail: `${min} is above max.compaction.lag.ms (${max})` })
  }
  if (values.get("remote.storage.enable") === "true") {
    return new InvalidTopicConfig({ name: "remote.storage.enable", detail: "tiered storage is not supported by this broker" })
  }
  return undefined
}

/**
 * Checks configs for a new topic as Kafka's controller does: every name must be a topic config Kafka knows,
 * every value parse as its type and lie in its range or set; a null value is refused.
 */
export const validateTopicConfigs = (
  configs: ReadonlyArray<{ readonly name: string; readonly value: string | null }>
): Effect.Effect<void, InvalidTopicConfig> =>
  Effect.suspend(() => {
    const values = new Map<string, string>()
    for (const { name, value } of configs) {
      const config = BY_NAME.get(name)
      if (config === undefined) return Effect.fail(new InvalidTopicConfig({ name, detail: "unknown topic config name" }))
      if (value === null) return Effect.fail(new InvalidTopicConfig({ name, detail: "a null value is not supported for topic configs" }))
      const parsed = config.parse(value)
      if (!parsed.ok) return Effect.fail(new InvalidTopicConfig({ name, detail: `invalid value: ${parsed.reason}` }))
      values.set(name, parsed.value)
    }
    const problem = crossCheck(values)
    return problem === undefined ? Effect.void : Effect.fail(problem)
  })

// ---------------------------------------------------------------------------------------------------------
// Describing


/**
 * Every topic config of a topic with the given overrides (`TopicInfo.configs`), sorted by name. An override
 * is its source (TOPIC_CONFIG); otherwise the value derives from the broker (STATIC_BROKER_CONFIG when one
 * of the broker configs it derives from is set in the file) or is the default (DEFAULT_CONFIG). Overrides
 * Kafka does not know (written by a newer Kafka) are listed too, as Kafka does, with type UNKNOWN.
 */
export const describeTopicConfigs = (
  config: BrokerConfigShape,
  overrides: ReadonlyMap<string, string>,
  dynamic: DynamicValues = { cluster: new Map(), node: new Map() }
): Array<ConfigEntry> => {
  const entries = TOPIC_CONFIGS.map((def): ConfigEntry => {
    const fromDynamic = dynamicSynonyms(def.brokerSynonyms, dynamic)
    const fromFile = def.brokerSynonyms.flatMap((name): Array<ConfigSynonym> => {
      const value = config.explicit.get(name)
      return value === undefined ? [] : [{ name, value, source: ConfigSource.STATIC_BROKER_CONFIG }]
    })
    const fromDefault: Array<ConfigSynonym> = def.brokerDefault === undefined
      ? []
      : [{ name: def.brokerDefault[0], value: def.brokerDefault[1], source: ConfigSource.DEFAULT_CONFIG }]
    const override = overrides.get(def.name)
    const brokerValue = def.fromBroker === undefined ? def.kafkaDefault : def.fromBroker(config)
    if (override === undefined) {
      return {
        name: def.name,
        value: fromDynamic[0]?.value ?? brokerValue,
        source: fromDynamic[0]?.source ?? (fromFile.length > 0 ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG),
        isDefault: true,
        readOnly: false,
        type: def.type,
        synonyms: [...fromDynamic, ...fromFile, ...fromDefault],
        documentation: def.doc
      }
    }
    const parsed = def.parse(override)
    const value = parsed.ok ? parsed.value : override
    return {
      name: def.name,
      value,
      source: ConfigSource.TOPIC_CONFIG,
      isDefault: false,
      readOnly: false,
      type: def.type,
      synonyms: [{ name: def.name, value, source: ConfigSource.TOPIC_CONFIG }, ...fromDynamic, ...fromFile, ...fromDefault],
      documentation: def.doc
    }
  })
  for (const [name, value] of overrides) {
    if (BY_NAME.has(name)) continue
    entries.push({
      name,
      value,
      source: ConfigSource.TOPIC_CONFIG,
      isDefault: false,
      readOnly: false,
      type: ConfigType.UNKNOWN,
      synonyms: [{ name, value, source: ConfigSource.TOPIC_CONFIG }],
      documentation: null
    })
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}
