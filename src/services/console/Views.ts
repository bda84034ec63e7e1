// What the console's JSON API answers (`GET /api/...`), as types shared by the HTTP layer and the web console
// (src/console): one client of the API, so that scripts can use it too. Offsets and sizes are numbers (safe up to
// 2^53); times are milliseconds since the epoch.

/** A key, value or header value as the console shows it: pretty JSON when it parses, text when UTF-8, else hex. */
export interface Rendered {
  readonly kind: "json" | "text" | "hex"
  readonly text: string
  /** Bytes before rendering. */
  readonly size: number
}

export interface BrokerView {
  readonly nodeId: number
  readonly host: string
  readonly port: number
  readonly listener: string
  readonly controller: boolean
}

export interface TopicSummary {
  readonly name: string
  readonly id: string
  readonly partitions: number
  /** Records in the log (high watermarks minus log start offsets). */
  readonly messages: number
  /** Bytes on disk over all partitions. */
  readonly bytes: number
}

export interface Overview {
  readonly clusterId: string
  readonly version: string
  readonly brokers: ReadonlyArray<BrokerView>
  readonly topics: ReadonlyArray<TopicSummary>
  readonly groups: number
}

export interface PartitionView {
  readonly partition: number
  readonly leader: number
  readonly leaderEpoch: number
  readonly logStartOffset: number
  readonly highWatermark: number
  readonly bytes: number
}

export interface ConfigView {
  readonly name: string
  /** null when sensitive. */
  readonly value: string | null
  /** Kafka's config source names: TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG, ... */
  readonly source: string
  readonly isDefault: boolean
  readonly readOnly: boolean
  readonly sensitive: boolean
}

export interface TopicDetail {
  readonly name: string
  readonly id: string
  readonly partitions: ReadonlyArray<PartitionView>
  readonly configs: ReadonlyArray<ConfigView>
}

export interface MessageView {
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  /** "CreateTime" or "LogAppendTime". */
  readonly timestampType: string
  readonly key: Rendered | null
  readonly value: Rendered | null
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Rendered | null }>
  /** The batch's codec: none, gzip, snappy, lz4, zstd. */
  readonly compression: string
}

/**
 * `GET /api/topics/:name/messages?partition=all|N&from=newest|oldest|offset|timestamp&offset=N&timestamp=MS&limit=N`:
 * newest first for `newest`, else ascending from the start point; at most `limit` (default 50, max 500).
 */
export interface MessagePage {
  readonly messages: ReadonlyArray<MessageView>
}

export interface MemberView {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly assignment: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<number> }>
}

export interface GroupSummary {
  readonly groupId: string
  readonly state: string
  /** "consumer" (classic), "consumer" with protocol "" for KIP-848 groups, or another protocol type. */
  readonly protocolType: string
  readonly protocol: string
  readonly members: number
  /** Sum over the group's committed partitions. */
  readonly lag: number
}

export interface GroupOffsetView {
  readonly topic: string
  readonly partition: number
  readonly committed: number
  readonly logEndOffset: number
  readonly lag: number
}

export interface GroupDetail extends Omit<GroupSummary, "members"> {
  readonly members: ReadonlyArray<MemberView>
  readonly offsets: ReadonlyArray<GroupOffsetView>
  /** The group's total lag, sampled every second for the last few minutes. */
  readonly lagHistory: ReadonlyArray<{ readonly at: number; readonly lag: number }>
}

/** `GET /api/rates`: per-second rates sampled every second over the last few minutes, oldest first. */
export interface Rates {
  readonly samples: ReadonlyArray<{
    readonly at: number
    readonly messagesIn: number
    readonly bytesIn: number
    readonly bytesOut: number
  }>
}

/** Bodies of the actions. */
export interface CreateTopicBody {
  readonly name: string
  readonly partitions?: number
  readonly configs?: Readonly<Record<string, string>>
}
export interface ProduceBody {
  /** Default: partition chosen from the key (Kafka's murmur2), or 0 without a key. */
  readonly partition?: number
  readonly key?: string | null
  readonly value: string | null
  readonly headers?: ReadonlyArray<{ readonly key: string; readonly value: string }>
}
export interface ProduceResult {
  readonly partition: number
  readonly offset: number
}
export interface ResetOffsetsBody {
  /** Every topic the group has offsets for, when absent. */
  readonly topic?: string
  readonly to: "earliest" | "latest" | "offset"
  readonly offset?: number
}

/** Every answer that is not 2xx: the Kafka error it stands for, when one does. */
export interface ApiError {
  readonly error: string
  readonly errorCode?: number
}
