// One segment of a partition's log, as a value that makes its own decisions (as Kafka's LogSegment, OffsetIndex
// and TimeIndex do): `<base offset>.log` with its sparse offset index (`.index`, an entry every
// `index.interval.bytes` mapping a batch's last offset to its position) and time index (`.timeindex`, largest
// timestamp so far → its offset). The indexes live in memory as typed arrays while a segment is in use; this
// module decides what goes in them, where a lookup starts, when a segment rolls, whether index files can be
// trusted and whether a batch header read back is one. Pure: the file store (layers/log/) does the I/O.
import type { FileSystem } from "effect"
import {
  type AbortedTxn,
  decodeOffsetIndex,
  decodeTimeIndex,
  encodeOffsetIndex,
  encodeTimeIndex,
  indexFile,
  OFFSET_ENTRY,
  segmentFile,
  TIME_ENTRY,
  timeIndexFile,
  txnIndexFile
} from "../../protocol/logdir/LogFiles.ts"
import { type BatchHeader, HEADER_SIZE, MAGIC, readHeader } from "../../protocol/RecordBatch.ts"

/** A growable pair of typed columns: relative offset → position, or timestamp → relative offset. */
class Columns<K extends Int32Array | Float64Array> {
  keys: K
  values: Int32Array
  count = 0
  private readonly make: (n: number) => K

  constructor(make: (n: number) => K, keys?: K, values?: Int32Array) {
    this.make = make
    this.keys = keys ?? make(64)
    this.values = values ?? new Int32Array(64)
    this.count = keys?.length ?? 0
  }

  push(key: number, value: number): void {
    if (this.count === this.keys.length) {
      const keys = this.make(this.count * 2)
      keys.set(this.keys)
      const values = new Int32Array(this.count * 2)
      values.set(this.values)
      this.keys = keys
      this.values = values
    }
    this.keys[this.count] = key
    this.values[this.count] = value
    this.count++
  }

  /** The last entry whose key is at most `key`, or -1. */
  floor(key: number): number {
    return floorOf(this.keys, this.count, key)
  }
}

/** The last of the first `count` sorted `values` at most `key`, or -1. */
const floorOf = (values: Int32Array | Float64Array, count: number, key: number): number => {
  let lo = 0
  let hi = count - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (values[mid]! <= key) {
      found = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  return found
}

export interface Segment {
  readonly baseOffset: number
  readonly dir: string
  /** Open while in use or recently used (layers/SegmentFiles.ts keeps the number of open segments bounded). */
  file: FileSystem.File | undefined
  /** Reads and writes under way on `file`: an open file in use is never closed. */
  users: number
  /** Deleted (retention, DeleteRecords, topic deletion): never opened again. */
  deleted: boolean
  /** Bytes of valid batches (-1 until the file has been opened or its size read). */
  size: number
  /** The offset after the last batch (for a closed segment: the next segment's base offset). */
  nextOffset: number
  /** The largest timestamp in the segment, -1 while unknown or empty. */
  largestTimestamp: number
  /** When the first batch was appended (wall clock), for `segment.ms` rolling; -1 until an append in this run. */
  firstAppendAt: number
  offsetIndex: Columns<Int32Array> | undefined
  timeIndex: Columns<Float64Array> | undefined
  /** Whether the in-memory indexes hold entries the index files do not. */
  indexDirty: boolean
  bytesSinceIndexEntry: number
  /** Positions of damaged batches already reported, so that each is logged once. */
  readonly damage: Set<number>
  /**
   * The aborted transactions whose ABORT marker is in this segment, in marker order (`.txnindex`); undefined
   * until loaded. Appends write new entries to the file as they happen.
   */
  aborted: Array<AbortedTxn> | undefined
}

export const newSegment = (dir: string, baseOffset: number): Segment => ({
  baseOffset,
  dir,
  file: undefined,
  users: 0,
  deleted: false,
  size: -1,
  nextOffset: baseOffset,
  largestTimestamp: -1,
  firstAppendAt: -1,
  offsetIndex: undefined,
  timeIndex: undefined,
  indexDirty: false,
  bytesSinceIndexEntry: 0,
  damage: new Set(),
  aborted: undefined
})

export const logPath = (s: Segment) => `${s.dir}/${segmentFile(s.baseOffset)}`
export const indexPath = (s: Segment) => `${s.dir}/${indexFile(s.baseOffset)}`
export const timeIndexPath = (s: Segment) => `${s.dir}/${timeIndexFile(s.baseOffset)}`
export const txnIndexPath = (s: Segment) => `${s.dir}/${txnIndexFile(s.baseOffset)}`

/**
 * Adds the segment's aborted transactions overlapping [from, upTo) to `out` (Kafka's collectAbortedTxns);
 * true once an entry shows that no later segment can hold more (its last stable offset reaches `upTo`).
 */
export const collectAborted = (
  s: Segment,
  from: number,
  upTo: number,
  out: Array<{ readonly producerId: number; readonly firstOffset: number }>
): boolean => {
  for (const a of s.aborted ?? []) {
    if (a.lastOffset >= from && a.firstOffset < upTo) out.push({ producerId: a.producerId, firstOffset: a.firstOffset })
    if (a.lastStableOffset >= upTo) return true
  }
  return false
}

/** Fresh, empty indexes (a new segment, or one being rebuilt); they are written out at roll or shutdown. */
export const emptyIndexes = (s: Segment) => {
  s.offsetIndex = new Columns((n) => new Int32Array(n))
  s.timeIndex = new Columns((n) => new Float64Array(n))
  s.bytesSinceIndexEntry = 0
  // Written at the next roll or shutdown even if no entry comes: every segment has its two index files.
  s.indexDirty = true
}

// ---------------------------------------------------------------------------------------------------------
// Index files

/**
 * Why index file contents cannot be used with this segment, or undefined when they can: whole entries, relative
 * offsets and positions strictly increasing, timestamps not decreasing, everything inside the segment. Kafka
 * checks less and trusts the rest; a wrong entry here would make reads skip records.
 */
export const indexProblem = (s: Segment, offsetBytes: Uint8Array, timeBytes: Uint8Array): string | undefined => {
  if (offsetBytes.length % OFFSET_ENTRY !== 0) return `${indexFile(s.baseOffset)} has ${offsetBytes.length} bytes, not whole entries`
  if (timeBytes.length % TIME_ENTRY !== 0) return `${timeIndexFile(s.baseOffset)} has ${timeBytes.length} bytes, not whole entries`
  const offsets = decodeOffsetIndex(offsetBytes)
  // A closed segment's offsets end where the next segment starts; the active one's end is not known yet.
  const span = s.nextOffset > s.baseOffset ? s.nextOffset - s.baseOffset : Infinity
  let lastKey = -1
  let lastPosition = -1
  for (let i = 0; i < offsets.relativeOffsets.length; i++) {
    const key = offsets.relativeOffsets[i]!
    const position = offsets.positions[i]!
    if (key <= lastKey || key >= span || position <= lastPosition || position >= s.size) {
      return `${indexFile(s.baseOffset)} entry ${i} (offset ${s.baseOffset + key}, position ${position}) is out of order or outside the segment`
    }
    lastKey = key
    lastPosition = position
  }
  const times = decodeTimeIndex(timeBytes)
  let lastTime = -Infinity
  lastKey = -1
  for (let i = 0; i < times.timestamps.length; i++) {
    const key = times.relativeOffsets[i]!
    const timestamp = times.timestamps[i]!
    if (timestamp < lastTime || key < lastKey || key >= span || key < 0) {
      return `${timeIndexFile(s.baseOffset)} entry ${i} (timestamp ${timestamp}, offset ${s.baseOffset + key}) is out of order or outside the segment`
    }
    lastTime = timestamp
    lastKey = key
  }
  return undefined
}

/** Takes index file contents that `indexProblem` found sound as the segment's indexes. */
export const adoptIndexes = (s: Segment, offsetBytes: Uint8Array, timeBytes: Uint8Array): void => {
  const offsets = decodeOffsetIndex(offsetBytes)
  const times = decodeTimeIndex(timeBytes)
  s.offsetIndex = new Columns((n) => new Int32Array(n), offsets.relativeOffsets, offsets.positions)
  s.timeIndex = new Columns((n) => new Float64Array(n), times.timestamps, times.relativeOffsets)
  const lastTime = s.timeIndex.count - 1
  if (lastTime >= 0) s.largestTimestamp = Math.max(s.largestTimestamp, s.timeIndex.keys[lastTime]!)
}

/** The index files' contents for the in-memory indexes. */
export const encodeIndexes = (s: Segment): { readonly offsets: Uint8Array; readonly times: Uint8Array } | undefined =>
  s.offsetIndex === undefined || s.timeIndex === undefined
    ? undefined
    : {
      offsets: encodeOffsetIndex(s.offsetIndex.keys, s.offsetIndex.values, s.offsetIndex.count),
      times: encodeTimeIndex(s.timeIndex.keys, s.timeIndex.values, s.timeIndex.count)
    }

/** Records a batch written at `position` in the indexes, as Kafka does after each append. */
export const indexBatch = (
  s: Segment,
  header: BatchHeader,
  position: number,
  indexIntervalBytes: number,
  baseOffset = header.baseOffset
) => {
  if (s.offsetIndex === undefined) emptyIndexes(s)
  const lastOffset = baseOffset + header.lastOffsetDelta
  // The largest timestamp first, this batch included (as Kafka's LogSegment.append): a time index entry (T, o)
  // promises that no record up to offset o has a timestamp above T, which lookups starting at o rely on.
  if (header.maxTimestamp > s.largestTimestamp) s.largestTimestamp = header.maxTimestamp
  if (s.bytesSinceIndexEntry > indexIntervalBytes) {
    s.offsetIndex!.push(lastOffset - s.baseOffset, position)
    const times = s.timeIndex!
    if (s.largestTimestamp > (times.count === 0 ? -1 : times.keys[times.count - 1]!)) {
      times.push(s.largestTimestamp, lastOffset - s.baseOffset)
    }
    s.bytesSinceIndexEntry = 0
    s.indexDirty = true
  }
  s.bytesSinceIndexEntry += header.size
  s.nextOffset = lastOffset + 1
}

/** The index entry to start a walk for `offset` at: the last indexed batch ending at or before it (-1: none). */
export const entryFor = (s: Segment, offset: number): number =>
  s.offsetIndex === undefined ? -1 : s.offsetIndex.floor(offset - s.baseOffset)

/** The position of the first indexed batch after `position`, or -1: where a walk resumes past damage. */
export const indexedAfter = (s: Segment, position: number): number => {
  const index = s.offsetIndex
  if (index === undefined) return -1
  const i = floorOf(index.values, index.count, position) + 1
  return i < index.count ? index.values[i]! : -1
}

/** The position of the last indexed batch at or before `position`, or -1. */
export const indexedAtMost = (s: Segment, position: number): number => {
  const index = s.offsetIndex
  if (index === undefined) return -1
  const i = floorOf(index.values, index.count, position)
  return i < 0 ? -1 : index.values[i]!
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/** The position and last offset the index entry `entry` (from `entryFor`) names. */
export const entryAt = (s: Segment, entry: number): { readonly position: number; readonly lastOffset: number } => ({
  position: s.offsetIndex!.values[entry]!,
  lastOffset: s.baseOffset + s.offsetIndex!.keys[entry]!
})

/**
 * Whether a batch of `size` bytes appended `now` goes to a new segment (Kafka's LogSegment.shouldRoll): a
 * non-empty segment rolls when the batch would take it past `segment.bytes`, or `segment.ms` after its first
 * append in this run (a segment loaded at start ages from its first append).
 */
export const shouldRoll = (s: Segment, size: number, now: number, segmentBytes: number, segmentMs: number): boolean =>
  s.size > 0 && (s.size + size > segmentBytes || (s.firstAppendAt >= 0 && now - s.firstAppendAt >= segmentMs))

/** The header of a batch at `at` in `bytes` (file position `position`) if it can be one, else undefined. */
export const validHeader = (bytes: Uint8Array, at: number, position: number, end: number): BatchHeader | undefined => {
  const header = readHeader(bytes, at)
  return header.magic === MAGIC && header.size >= HEADER_SIZE && position + header.size <= end ? header : undefined
}

/** The offset of the first batch with a timestamp at or after `timestamp`, found through the time index. */
export const timestampStart = (s: Segment, timestamp: number): number => {
  const times = s.timeIndex
  if (times === undefined) return s.baseOffset
  const i = times.floor(timestamp - 1)
  return i < 0 ? s.baseOffset : s.baseOffset + times.values[i]!
}

/**
 * When a segment stops being the active one its time index gets a last entry for its largest timestamp, so that
 * a closed segment's largest timestamp is its time index's last entry (what retention and lookups read).
 */
export const seal = (s: Segment) => {
  const times = s.timeIndex
  if (times === undefined || s.largestTimestamp < 0) return
  if (s.largestTimestamp > (times.count === 0 ? -1 : times.keys[times.count - 1]!)) {
    times.push(s.largestTimestamp, s.nextOffset - 1 - s.baseOffset)
    s.indexDirty = true
  }
}

