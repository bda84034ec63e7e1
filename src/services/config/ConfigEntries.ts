// How configs are described (DescribeConfigs, CreateTopics v5+): Kafka's config types and sources, an entry with
// its synonyms, and "no limit" as Kafka writes it. Shared by the broker's configs and the topics'.

/** Kafka's ConfigType codes in DescribeConfigs v3+ (`DescribeConfigsResponse.ConfigType`). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9
} as const
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType]

/**
 * Kafka's ConfigSource codes in DescribeConfigs v1+. This broker has no dynamic configs, so it answers only
 * TOPIC_CONFIG, STATIC_BROKER_CONFIG (set in server.properties) and DEFAULT_CONFIG.
 */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5
} as const
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource]

/** Kafka's Long.MAX_VALUE, written as Kafka writes "no limit" for flush intervals and timestamp bounds. */
export const LONG_MAX = "9223372036854775807"

export interface ConfigSynonym {
  readonly name: string
  readonly value: string | null
  readonly source: ConfigSource
}

/** One config as DescribeConfigs and CreateTopics (v5+) describe it. */
export interface ConfigEntry {
  readonly name: string
  readonly value: string | null
  readonly source: ConfigSource
  /** What v0 calls `is_default`: not set on the resource itself (for a topic: no override). */
  readonly isDefault: boolean
  readonly readOnly: boolean
  readonly type: ConfigType
  /** Where the value could come from, highest precedence first; the first is the value's source. */
  readonly synonyms: ReadonlyArray<ConfigSynonym>
  readonly documentation: string | null
}

/** "No limit" (Infinity in BrokerConfig) as Kafka writes it for a config. */
export const limit = (value: number, unlimited: string): string => (Number.isFinite(value) ? String(value) : unlimited)
