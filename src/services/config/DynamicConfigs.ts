// Dynamic broker configs, as Kafka's DynamicBrokerConfig: the keys that may change at run time (those of Kafka's
// reconfigurable sets that this broker reads: the log defaults of topics, message size, the cleaner's), set
// cluster-wide (resource name "") or for this node (its id) by AlterConfigs / IncrementalAlterConfigs and kept
// as ConfigRecords in the metadata log. A listener's keystore and truststore keys (`ssl.…` or
// `listener.name.<name>.ssl.…`) are dynamic for a node only, as Kafka's: the listener reloads its certificates. The configuration in effect is the static one with the dynamic values
// over it, this node's over the cluster's: `effectiveConfig`, worked out once per change.
import { Effect } from "effect"
import type { MetadataImage } from "../metadata/MetadataImage.ts"
import { BrokerConfig, type BrokerConfigShape, InvalidConfig } from "./BrokerConfig.ts"

/** Each dynamic key with the fields of the configuration it sets. */
export const DYNAMIC_KEYS: ReadonlyMap<string, ReadonlyArray<keyof BrokerConfigShape>> = new Map<string, ReadonlyArray<keyof BrokerConfigShape>>([
  ["log.segment.bytes", ["logSegmentBytes"]],
  ["log.roll.ms", ["logRollMs"]],
  ["log.index.interval.bytes", ["logIndexIntervalBytes"]],
  ["log.retention.ms", ["logRetentionMs"]],
  ["log.retention.bytes", ["logRetentionBytes"]],
  ["log.flush.interval.messages", ["flushIntervalMessages"]],
  ["log.flush.interval.ms", ["flushIntervalMs"]],
  ["message.max.bytes", ["messageMaxBytes"]],
  ["log.cleaner.backoff.ms", ["logCleanerBackoffMs"]],
  ["log.cleaner.dedupe.buffer.size", ["logCleanerDedupeBufferSize"]],
  ["log.cleaner.io.max.bytes.per.second", ["logCleanerIoMaxBytesPerSecond"]],
  ["log.cleaner.min.cleanable.ratio", ["logCleanerMinCleanableRatio"]],
  ["log.cleaner.min.compaction.lag.ms", ["logCleanerMinCompactionLagMs"]],
  ["log.cleaner.max.compaction.lag.ms", ["logCleanerMaxCompactionLagMs"]],
  ["log.cleaner.delete.retention.ms", ["logCleanerDeleteRetentionMs"]],
  ["log.segment.delete.delay.ms", ["logSegmentDeleteDelayMs"]]
])

/** Kafka's reconfigurable SSL keys (SslConfigs.RECONFIGURABLE_CONFIGS): a listener's certificates and stores. */
export const DYNAMIC_SSL_KEYS: ReadonlySet<string> = new Set([
  "ssl.keystore.type",
  "ssl.keystore.location",
  "ssl.keystore.password",
  "ssl.key.password",
  "ssl.keystore.certificate.chain",
  "ssl.keystore.key",
  "ssl.truststore.type",
  "ssl.truststore.location",
  "ssl.truststore.password",
  "ssl.truststore.certificates"
])

/** A reconfigurable SSL key, bare or for one listener (`listener.name.<name>.ssl.…`). */
export const isDynamicSslKey = (key: string): boolean => {
  const m = /^listener\.name\.[^.]+\.(ssl\..+)$/.exec(key)
  return DYNAMIC_SSL_KEYS.has(m === null ? key : m[1]!)
}

/** Whether AlterConfigs may set the key on a broker resource. */
export const isDynamicKey = (key: string): boolean => DYNAMIC_KEYS.has(key) || isDynamicSslKey(key)

/** The cluster-wide resource name of dynamic broker configs. */
export const CLUSTER_DEFAULT = ""

/** The dynamic configs that apply to this node: the cluster's, then its own. */
export const dynamicOf = (config: BrokerConfigShape, image: MetadataImage) => ({
  cluster: image.brokerConfigs.get(CLUSTER_DEFAULT) ?? noConfigs,
  node: image.brokerConfigs.get(String(config.nodeId)) ?? noConfigs
})

const noConfigs: ReadonlyMap<string, string> = new Map()

/**
 * The configuration with `cluster` and then `node` dynamic values over the static one; fails when a value does
 * not parse or is out of range (AlterConfigs checks a change with it before it is written).
 */
export const withDynamic = (
  config: BrokerConfigShape,
  cluster: ReadonlyMap<string, string>,
  node: ReadonlyMap<string, string>
): Effect.Effect<BrokerConfigShape, InvalidConfig> =>
  Effect.gen(function*() {
    if (cluster.size === 0 && node.size === 0) return config
    const set = new Map([...cluster, ...node])
    for (const key of set.keys()) {
      if (!isDynamicKey(key)) return yield* new InvalidConfig({ message: `${key}: cannot be updated dynamically` })
    }
    const parsed = yield* BrokerConfig.loadFrom(Object.fromEntries([...config.explicit, ...config.securityExplicit, ...set]))
    const out: Record<string, unknown> = { ...config }
    for (const key of set.keys()) {
      // An SSL key changes the listeners' `ssl` settings; the rest name their fields.
      for (const field of DYNAMIC_KEYS.get(key) ?? ["listeners"]) out[field] = parsed[field as keyof BrokerConfigShape]
    }
    return out as unknown as BrokerConfigShape
  })

const cache = new WeakMap<BrokerConfigShape, WeakMap<ReadonlyMap<string, ReadonlyMap<string, string>>, BrokerConfigShape>>()

/** The configuration in effect with the image's dynamic configs (what was written was checked: else the static one). */
export const effectiveConfig = (config: BrokerConfigShape, image: MetadataImage): BrokerConfigShape => {
  if (image.brokerConfigs.size === 0) return config
  let byImage = cache.get(config)
  if (byImage === undefined) cache.set(config, (byImage = new WeakMap()))
  let effective = byImage.get(image.brokerConfigs)
  if (effective === undefined) {
    const { cluster, node } = dynamicOf(config, image)
    effective = Effect.runSync(withDynamic(config, cluster, node).pipe(Effect.orElseSucceed(() => config)))
    byImage.set(image.brokerConfigs, effective)
  }
  return effective
}
