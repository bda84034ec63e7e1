// Kafka's log cleaner, its decisions: which log to clean and how much of it (the dirty ratio, the compaction
// lags, the last stable offset), the key → latest offset map built from the dirty section, and, batch by batch,
// what survives (LogCleaner.scala's cleanInto and CleanedTransactionMetadata):
// - a keyed record survives when no later record of its key is in the map (records past the map's reach all do);
//   a record without a key does not (compacted topics refuse them at produce time);
// - a tombstone (null value) survives until its batch's delete horizon, set by the first clean that kept it
//   to that clean's time plus `delete.retention.ms` (KIP-534: the horizon lives in the batch);
// - records of aborted transactions go; a transaction marker goes once no batch of its transaction is left and
//   its delete horizon has passed; a producer's last data batch stays, emptied if need be, so that its last
//   sequence survives and idempotence with it;
// - offsets never change: batches keep their base and last offsets, producer, sequence, timestamps and codec.
// Pure: the file store (layers/log/Cleaner.ts) reads, writes and swaps segments, and hashes long keys.
import { ABORT, COMMIT } from "../../protocol/ControlRecords.ts"
import type { AbortedTxn } from "../../protocol/logdir/LogFiles.ts"
import {
  type BatchHeader,
  CONTROL,
  DELETE_HORIZON,
  readHeader,
  rebuildBatch,
  type StoredRecord,
  storedRecords,
  TRANSACTIONAL
} from "../../protocol/RecordBatch.ts"
import { type LogSettings, type Partition } from "./Partition.ts"
import { firstUnstableOffset } from "./ProducerState.ts"
import type { Segment } from "./Segment.ts"

// ---------------------------------------------------------------------------------------------------------
// Which log, and how much of it

/** What of a log the cleaner may clean now, and how dirty it is. */
export interface Cleanable {
  /** Where the last clean ended (the cleaner checkpoint, within the log). */
  readonly firstDirty: number
  /** The first offset that may not be cleaned: the active segment, an open transaction, the minimum lag. */
  readonly firstUncleanable: number
  readonly cleanBytes: number
  readonly dirtyBytes: number
  /** Dirty bytes over all bytes below the first uncleanable offset. */
  readonly ratio: number
  /** Dirty records older than `max.compaction.lag.ms`: cleaned whatever the ratio. */
  readonly forced: boolean
}

/**
 * The cleanable section of a compacted partition (Kafka's LogCleanerManager.cleanableOffsets): from the
 * checkpoint (or the log start) to the first of the active segment's base, the last stable offset and the first
 * segment younger than `min.compaction.lag.ms`. Needs every closed segment's size and largest timestamp;
 * `firstTimestamp` is the first dirty batch's timestamp (for the maximum lag), -1 when unknown.
 */
export const cleanable = (p: Partition, checkpoint: number | undefined, s: LogSettings, now: number, firstTimestamp: number): Cleanable => {
  const segments = p.segments
  const activeBase = segments[segments.length - 1]!.baseOffset
  const firstDirty = checkpoint === undefined || checkpoint < p.logStartOffset || checkpoint > activeBase ? p.logStartOffset : checkpoint
  let firstUncleanable = Math.min(activeBase, firstUnstableOffset(p.producers) ?? Infinity)
  if (s.minCompactionLagMs > 0) {
    for (const seg of segments) {
      if (seg.baseOffset >= firstUncleanable) break
      if (seg.nextOffset > firstDirty && (seg.largestTimestamp < 0 || seg.largestTimestamp > now - s.minCompactionLagMs)) {
        firstUncleanable = Math.max(firstDirty, seg.baseOffset)
        break
      }
    }
  }
  let cleanBytes = 0
  let dirtyBytes = 0
  for (const seg of segments) {
    if (seg.baseOffset >= firstUncleanable || seg.nextOffset <= p.logStartOffset) continue
    if (seg.nextOffset <= firstDirty) cleanBytes += seg.size
    else dirtyBytes += seg.size
  }
  const total = cleanBytes + dirtyBytes
  const forced = dirtyBytes > 0 && Number.isFinite(s.maxCompactionLagMs) && firstTimestamp >= 0 && now - firstTimestamp > s.maxCompactionLagMs
  return { firstDirty, firstUncleanable, cleanBytes, dirtyBytes, ratio: total === 0 ? 0 : dirtyBytes / total, forced }
}

/** Whether the section is worth cleaning: dirtier than `min.cleanable.dirty.ratio` (strictly, as Kafka), or forced. */
export const needsCleaning = (c: Cleanable, s: LogSettings): boolean =>
  c.firstUncleanable > c.firstDirty && c.dirtyBytes > 0 && (c.forced || c.ratio > s.minCleanableRatio)

/**
 * Consecutive segments cleaned into one, none larger than `maxBytes` (`segment.bytes`) and spanning fewer than
 * 2^31 offsets (index entries hold offsets relative to the base): small cleaned segments merge.
 */
export const groupBySize = (segments: ReadonlyArray<Segment>, maxBytes: number): Array<Array<Segment>> => {
  const groups: Array<Array<Segment>> = []
  let i = 0
  while (i < segments.length) {
    const group = [segments[i]!]
    let size = segments[i]!.size
    i++
    while (i < segments.length && size + segments[i]!.size <= maxBytes && segments[i]!.nextOffset - 1 - group[0]!.baseOffset <= 2147483647) {
      size += segments[i]!.size
      group.push(segments[i]!)
      i++
    }
    groups.push(group)
  }
  return groups
}

// ---------------------------------------------------------------------------------------------------------
// The key map

/** Kafka counts 24 bytes a key (a 16-byte MD5 and an 8-byte offset) and fills the map to 90%. */
const BYTES_PER_KEY = 24
const LOAD_FACTOR = 0.9

/** Keys up to this size are their own map keys; longer ones are represented by a digest, as Kafka's all are (MD5). */
const SHORT_KEY = 32

/** A digest of a long key, as a string (the file store gives MD5). */
export type KeyDigest = (key: Uint8Array) => string

const latin1 = new TextDecoder("latin1")

/** The latest offset of each key in the dirty section, up to `latestOffset`, bounded by `log.cleaner.dedupe.buffer.size`. */
export class OffsetMap {
  readonly slots: number
  private readonly offsets = new Map<string, number>()
  /** Every keyed record up to here is accounted for; later ones are beyond the map and always kept. */
  latestOffset = -1

  private readonly digest: KeyDigest

  constructor(bufferBytes: number, digest: KeyDigest) {
    this.slots = Math.max(1, Math.floor((bufferBytes / BYTES_PER_KEY) * LOAD_FACTOR))
    this.digest = digest
  }

  private mapKey(key: Uint8Array): string {
    // A byte decodes to a character below U+0100: a digest's marker cannot start a short key.
    return key.length <= SHORT_KEY ? latin1.decode(key) : "\u0100" + this.digest(key)
  }

  get size(): number {
    return this.offsets.size
  }

  /** False (nothing stored) once the map is full. */
  put(key: Uint8Array, offset: number): boolean {
    if (this.offsets.size >= this.slots) return false
    this.offsets.set(this.mapKey(key), offset)
    return true
  }

  get(key: Uint8Array): number {
    return this.offsets.get(this.mapKey(key)) ?? -1
  }

  updateLatestOffset(offset: number): void {
    this.latestOffset = offset
  }
}

// ---------------------------------------------------------------------------------------------------------
// Transactions met on the way (Kafka's CleanedTransactionMetadata)

/** The aborted transactions of the range, met in offset order, and which transactions still have batches. */
export class TxnTracker {
  private readonly pending: Array<AbortedTxn>
  private next = 0
  /** Producers whose aborted transaction is open at this point of the walk, with the batch seen last. */
  private readonly aborted = new Map<number, { readonly txn: AbortedTxn; seenBatch: boolean }>()
  private readonly committed = new Set<number>()
  /** The aborted transactions whose marker a clean keeps: the cleaned segment's transaction index. */
  readonly kept: Array<AbortedTxn> = []

  constructor(aborted: ReadonlyArray<AbortedTxn>) {
    this.pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
  }

  private consumeUpTo(offset: number): void {
    while (this.next < this.pending.length && this.pending[this.next]!.firstOffset <= offset) {
      const txn = this.pending[this.next++]!
      if (!this.aborted.has(txn.producerId)) this.aborted.set(txn.producerId, { txn, seenBatch: false })
    }
  }

  /** A data batch: true when it belongs to an aborted transaction (and goes). */
  onBatch(h: BatchHeader): boolean {
    this.consumeUpTo(h.baseOffset + h.lastOffsetDelta)
    if ((h.attributes & TRANSACTIONAL) === 0) return false
    const open = this.aborted.get(h.producerId)
    if (open !== undefined) {
      open.seenBatch = true
      return true
    }
    this.committed.add(h.producerId)
    return false
  }

  /** A control batch: true when its transaction has no batch left, so that the marker may go. */
  onControl(h: BatchHeader, type: number | undefined): boolean {
    this.consumeUpTo(h.baseOffset + h.lastOffsetDelta)
    // An emptied control batch was already cleaned.
    if (type === undefined) return true
    if (type === ABORT) {
      const open = this.aborted.get(h.producerId)
      this.aborted.delete(h.producerId)
      if (open?.seenBatch === true) {
        // Its records go in this clean, its marker stays until a clean finds none.
        this.kept.push(open.txn)
        return false
      }
      return true
    }
    if (type === COMMIT) return !this.committed.delete(h.producerId)
    return false
  }
}

/** The control record type of a control batch's first record (undefined: none). */
const controlType = (records: ReadonlyArray<StoredRecord>): number | undefined => {
  const key = records[0]?.key
  if (key === undefined || key === null || key.length < 4) return undefined
  return (key[2]! << 8) | key[3]!
}

// ---------------------------------------------------------------------------------------------------------
// Building the map

/**
 * Adds the keys of one batch of the dirty section [start, end) to the map; false once it is full (the clean
 * then ends at the map's latest offset). Control batches and aborted transactions add nothing.
 */
export const mapBatch = (map: OffsetMap, txns: TxnTracker, batch: Uint8Array, start: number, end: number): boolean => {
  const h = readHeader(batch)
  const lastOffset = h.baseOffset + h.lastOffsetDelta
  if (lastOffset < start) return true
  if ((h.attributes & CONTROL) !== 0) {
    txns.onControl(h, controlType(storedRecords(batch)))
  } else if (!txns.onBatch(h)) {
    for (const r of storedRecords(batch)) {
      if (r.offset >= end) break
      if (r.key !== null && r.offset >= start && !map.put(r.key, r.offset)) return false
    }
  }
  map.updateLatestOffset(Math.min(lastOffset, end - 1))
  return true
}

// ---------------------------------------------------------------------------------------------------------
// Cleaning a batch

export interface CleanContext {
  readonly map: OffsetMap
  readonly txns: TxnTracker
  readonly now: number
  readonly deleteRetentionMs: number
  /** Each producer's last data batch's last offset: that batch stays, if only as an empty one. */
  readonly lastDataOffsets: ReadonlyMap<number, number>
}

export interface CleanedBatch {
  /** What goes into the cleaned segment for the batch: the batch itself, a rewrite of it, or nothing. */
  readonly bytes: Uint8Array | undefined
  readonly recordsRead: number
  readonly recordsKept: number
}

/** What of one batch survives the clean. */
export const cleanBatch = (ctx: CleanContext, batch: Uint8Array): CleanedBatch => {
  const h = readHeader(batch)
  const lastOffset = h.baseOffset + h.lastOffsetDelta
  const control = (h.attributes & CONTROL) !== 0
  const hasHorizon = (h.attributes & DELETE_HORIZON) !== 0
  const horizonPassed = hasHorizon && h.baseTimestamp <= ctx.now
  const records = storedRecords(batch)
  let discard: boolean
  let emptyTxnMarker = false
  if (control) {
    const canDiscard = ctx.txns.onControl(h, controlType(records))
    emptyTxnMarker = canDiscard
    discard = canDiscard && horizonPassed
  } else {
    discard = ctx.txns.onBatch(h)
  }
  let kept: Array<StoredRecord>
  let tombstones = false
  if (discard) kept = []
  else if (control) kept = records
  else {
    const retainDeletes = !horizonPassed
    kept = records.filter((r) => {
      if (r.offset > ctx.map.latestOffset) return true
      if (r.key === null) return false
      const keep = r.offset >= ctx.map.get(r.key) && (r.hasValue || retainDeletes)
      if (keep && !r.hasValue) tombstones = true
      return keep
    })
  }
  const counts = { recordsRead: records.length, recordsKept: kept.length }
  if (kept.length === 0) {
    const lastOfProducer = h.producerId >= 0 && ctx.lastDataOffsets.get(h.producerId) === lastOffset
    return { ...counts, bytes: lastOfProducer ? rebuildBatch(h, [], h.maxTimestamp, h.attributes) : undefined }
  }
  const setHorizon = (tombstones || emptyTxnMarker) && !hasHorizon
  if (setHorizon) {
    return { ...counts, bytes: rebuildBatch(h, kept, ctx.now + ctx.deleteRetentionMs, h.attributes | DELETE_HORIZON) }
  }
  return { ...counts, bytes: kept.length === records.length ? batch : rebuildBatch(h, kept, h.baseTimestamp, h.attributes) }
}
