// One partition of a file-kept log, as plain state: its segments in offset order (the last one active), its log
// start offset, recovery point and idempotent producers. Pure decisions over it: which segment holds an offset,
// which oldest segments retention deletes, a topic's log settings. The file store (layers/log/) does the I/O.
import type { Semaphore } from "effect"
import type { BrokerConfigShape } from "../config/BrokerConfig.ts"
import { topicSetting } from "../metadata/TopicConfigs.ts"
import type { TopicPartition } from "./LogStore.ts"
import { firstUnstableOffset, type ProducerState } from "./ProducerState.ts"
import type { Segment } from "./Segment.ts"

export interface Partition {
  readonly tp: TopicPartition
  readonly name: string
  readonly dir: string
  /** Whether the directory exists (it is made by the first append). */
  dirMade: boolean
  /** Appends, rolls, retention and deletion take it; reads do not. */
  readonly lock: Semaphore.Semaphore
  /** In offset order; the last one is the active segment, which takes appends. */
  readonly segments: Array<Segment>
  producers: ProducerState
  logStartOffset: number
  /** Everything below it is fsynced. */
  recoveryPoint: number
  /** The recovery point the checkpoint file holds: recovery would start there, so its snapshot is kept. */
  checkpointedRecoveryPoint: number
  unflushedMessages: number
  /** Segments written to since the last fsync. */
  readonly unflushed: Set<Segment>
  deleted: boolean
}

export const active = (p: Partition): Segment => p.segments[p.segments.length - 1]!
export const nextOffset = (p: Partition): number => active(p).nextOffset

/**
 * The last stable offset: the first offset of the earliest open transaction, else the log end. Records from
 * it on are not handed to read_committed consumers yet. Never below the log start (DeleteRecords may remove
 * an open transaction's first records).
 */
export const lastStableOffset = (p: Partition): number =>
  Math.max(p.logStartOffset, firstUnstableOffset(p.producers) ?? nextOffset(p))

/** The segment holding `offset` (or the first after it when it falls between segments). */
export const segmentFor = (p: Partition, offset: number): number => {
  let lo = 0
  let hi = p.segments.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (p.segments[mid]!.baseOffset <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** A topic's log settings: its overrides, else the broker's defaults. */
export interface LogSettings {
  readonly segmentBytes: number
  readonly segmentMs: number
  readonly indexIntervalBytes: number
  readonly retentionMs: number
  readonly retentionBytes: number
  /** Retention deletes only under the "delete" cleanup policy: a compact-only topic keeps its segments. */
  readonly deletes: boolean
  /** The log cleaner compacts under the "compact" policy (with "delete" too, retention also applies). */
  readonly compacts: boolean
  readonly minCleanableRatio: number
  readonly minCompactionLagMs: number
  readonly maxCompactionLagMs: number
  readonly deleteRetentionMs: number
  readonly fileDeleteDelayMs: number
  /** fsync after this many messages (`flush.messages`, from `log.flush.interval.messages`). */
  readonly flushMessages: number
}

const settingsCache = new WeakMap<BrokerConfigShape, WeakMap<object, LogSettings>>()

/** The settings of a topic with these overrides, worked out once per version of its configs and of the broker's. */
export const logSettings = (config: BrokerConfigShape, configs: ReadonlyMap<string, string>): LogSettings => {
  let byConfigs = settingsCache.get(config)
  if (byConfigs === undefined) settingsCache.set(config, (byConfigs = new WeakMap()))
  let s = byConfigs.get(configs)
  if (s === undefined) {
    const policy = (configs.get("cleanup.policy") ?? "delete").split(",").map((v) => v.trim())
    s = {
      segmentBytes: topicSetting(config, configs, "segment.bytes"),
      segmentMs: topicSetting(config, configs, "segment.ms"),
      indexIntervalBytes: topicSetting(config, configs, "index.interval.bytes"),
      retentionMs: topicSetting(config, configs, "retention.ms"),
      retentionBytes: topicSetting(config, configs, "retention.bytes"),
      deletes: policy.includes("delete"),
      compacts: policy.includes("compact"),
      minCleanableRatio: topicSetting(config, configs, "min.cleanable.dirty.ratio"),
      minCompactionLagMs: topicSetting(config, configs, "min.compaction.lag.ms"),
      maxCompactionLagMs: topicSetting(config, configs, "max.compaction.lag.ms"),
      deleteRetentionMs: topicSetting(config, configs, "delete.retention.ms"),
      fileDeleteDelayMs: topicSetting(config, configs, "file.delete.delay.ms"),
      flushMessages: topicSetting(config, configs, "flush.messages")
    }
    byConfigs.set(configs, s)
  }
  return s
}

/**
 * The broker's own logs, compacted as Kafka compacts them: committed offsets and transaction states, each the
 * latest record per key. Their segment sizes are `offsets.topic.segment.bytes` and
 * `transaction.state.log.segment.bytes`.
 */
export const INTERNAL_LOGS: ReadonlyArray<TopicPartition> = [
  { topic: "__consumer_offsets", partition: 0 },
  { topic: "__transaction_state", partition: 0 }
]

const internalConfigs = new Map<string, { readonly bytes: number; readonly configs: ReadonlyMap<string, string> }>()

/** The topic configs of one of the broker's own logs (undefined for a topic of the metadata). */
export const internalLogConfigs = (config: BrokerConfigShape, topic: string): ReadonlyMap<string, string> | undefined => {
  const bytes = topic === "__consumer_offsets" ? config.offsetsTopicSegmentBytes : topic === "__transaction_state" ? config.transactionStateLogSegmentBytes : undefined
  if (bytes === undefined) return undefined
  // One map per value, so that logSettings works each out once.
  let known = internalConfigs.get(topic)
  if (known?.bytes !== bytes) {
    known = { bytes, configs: new Map([["cleanup.policy", "compact"], ["segment.bytes", String(bytes)]]) }
    internalConfigs.set(topic, known)
  }
  return known.configs
}

/** Whether retention has anything to look at for a partition with these settings. */
export const retains = (p: Partition, s: LogSettings): boolean =>
  s.deletes && (Number.isFinite(s.retentionMs) || Number.isFinite(s.retentionBytes)) && p.segments.length > 1

/**
 * How many of the oldest segments go: those wholly below the log start, then those retention no longer keeps
 * (largest timestamp older than `now - retention.ms`, or the partition above `retention.bytes` without them)
 * and that lie wholly below the last stable offset, so that an open transaction keeps its records. The active
 * segment always stays, and only a prefix of the log can go. Needs every segment's size and, for time
 * retention, its largest timestamp.
 */
export const segmentsToDrop = (p: Partition, now: number, s: LogSettings | undefined): number => {
  let remaining = 0
  for (const seg of p.segments) remaining += seg.size
  const stable = lastStableOffset(p)
  let n = 0
  while (n < p.segments.length - 1) {
    const seg = p.segments[n]!
    const belowStart = seg.nextOffset <= p.logStartOffset
    const expired = s !== undefined && seg.nextOffset <= stable &&
      ((seg.largestTimestamp >= 0 && seg.largestTimestamp < now - s.retentionMs) || remaining - seg.size >= s.retentionBytes)
    if (!belowStart && !expired) break
    remaining -= seg.size
    n++
  }
  return n
}
