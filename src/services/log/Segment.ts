// One segment of a partition's log: `<base offset>.log` with its sparse offset index (`.index`, an entry every
// `index.interval.bytes` mapping a batch's last offset to its position) and time index (`.timeindex`, largest
// timestamp so far → its offset), as Kafka keeps them. Indexes live in memory as typed arrays while a segment is
// in use and are written out when it is rolled or the broker shuts down; after a crash, recovery rebuilds them
// from the log. Lookups are binary searches followed by a short forward walk over batch headers, so the cost of
// a read does not grow with the log.
//
// Nothing read from disk is trusted blindly. Index files are sanity-checked when loaded (whole entries, offsets
// and positions increasing and inside the segment) and rebuilt from the log when they are not; an index entry
// is checked against the batch it points at when a read starts there. Every step of a walk over batches checks
// the header it lands on (magic, a length of at least a header, inside the segment): a damaged batch is
// reported once and the walk resumes at the next indexed batch after it, so a bad length can neither loop nor
// hide the data behind it.
import { Effect, type FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import {
  decodeOffsetIndex,
  decodeTimeIndex,
  encodeOffsetIndex,
  encodeTimeIndex,
  indexFile,
  OFFSET_ENTRY,
  segmentFile,
  TIME_ENTRY,
  timeIndexFile
} from "../../protocol/logdir/LogFiles.ts"
import { type BatchHeader, computeCrc, HEADER_SIZE, MAGIC, readHeader } from "../../protocol/RecordBatch.ts"
import * as BufferPool from "../network/BufferPool.ts"

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
  damage: new Set()
})

export const logPath = (s: Segment) => `${s.dir}/${segmentFile(s.baseOffset)}`
export const indexPath = (s: Segment) => `${s.dir}/${indexFile(s.baseOffset)}`
export const timeIndexPath = (s: Segment) => `${s.dir}/${timeIndexFile(s.baseOffset)}`

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

/**
 * Loads the index files written at the last roll or clean shutdown (missing files give no entries). Needs the
 * segment's size. Contents that fail `indexProblem` are not used: the answer says why, and the caller rebuilds
 * the indexes from the log.
 */
export const loadIndexes = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  s: Segment
): Effect.fn.Return<string | undefined, PlatformError> {
  if (s.offsetIndex !== undefined) return undefined
  const read = (path: string) =>
    fs.readFile(path).pipe(Effect.catchTag("PlatformError", (e) => (e.reason._tag === "NotFound" ? Effect.succeed(new Uint8Array(0)) : Effect.fail(e))))
  if (s.size < 0) s.size = Number((yield* fs.stat(logPath(s))).size)
  const offsetBytes = yield* read(indexPath(s))
  const timeBytes = yield* read(timeIndexPath(s))
  // An append (or another reader) may have built the indexes while the files were read: theirs win.
  if (s.offsetIndex !== undefined) return undefined
  const problem = indexProblem(s, offsetBytes, timeBytes)
  if (problem !== undefined) return problem
  const offsets = decodeOffsetIndex(offsetBytes)
  const times = decodeTimeIndex(timeBytes)
  s.offsetIndex = new Columns((n) => new Int32Array(n), offsets.relativeOffsets, offsets.positions)
  s.timeIndex = new Columns((n) => new Float64Array(n), times.timestamps, times.relativeOffsets)
  const lastTime = s.timeIndex.count - 1
  if (lastTime >= 0) s.largestTimestamp = Math.max(s.largestTimestamp, s.timeIndex.keys[lastTime]!)
  return undefined
})

/** Writes the in-memory indexes out, if they changed. */
export const writeIndexes = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment) {
  if (!s.indexDirty || s.offsetIndex === undefined || s.timeIndex === undefined) return
  yield* fs.writeFile(indexPath(s), encodeOffsetIndex(s.offsetIndex.keys, s.offsetIndex.values, s.offsetIndex.count))
  yield* fs.writeFile(timeIndexPath(s), encodeTimeIndex(s.timeIndex.keys, s.timeIndex.values, s.timeIndex.count))
  s.indexDirty = false
})

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
const entryFor = (s: Segment, offset: number): number =>
  s.offsetIndex === undefined ? -1 : s.offsetIndex.floor(offset - s.baseOffset)

/** The position of the first indexed batch after `position`, or -1: where a walk resumes past damage. */
const indexedAfter = (s: Segment, position: number): number => {
  const index = s.offsetIndex
  if (index === undefined) return -1
  const i = floorOf(index.values, index.count, position) + 1
  return i < index.count ? index.values[i]! : -1
}

/** The position of the last indexed batch at or before `position`, or -1. */
const indexedAtMost = (s: Segment, position: number): number => {
  const index = s.offsetIndex
  if (index === undefined) return -1
  const i = floorOf(index.values, index.count, position)
  return i < 0 ? -1 : index.values[i]!
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/**
 * Reads `length` bytes at `position` (fewer at the end of the file), into a buffer from the pool when large:
 * whoever is done with the bytes may `BufferPool.release` them.
 */
export const readBytes = Effect.fnUntraced(function*(file: FileSystem.File, position: number, length: number) {
  const buffer = BufferPool.acquire(length)
  let done = 0
  while (done < length) {
    const n = yield* file.read(buffer.subarray(done), { position: BigInt(position + done) })
    if (n === 0) break
    done += n
  }
  return done === length ? buffer : buffer.subarray(0, done)
})

/** Copies `into.length` bytes at `position` of the file into `into`; fails when the file ends first. */
export const readInto = Effect.fnUntraced(function*(file: FileSystem.File, position: number, into: Uint8Array) {
  let done = 0
  while (done < into.length) {
    const n = yield* file.read(into.subarray(done), { position: BigInt(position + done) })
    if (n === 0) return yield* Effect.die(new Error(`segment file ended ${into.length - done} bytes early at position ${position + done}`))
    done += n
  }
})

/** The header of a batch at `at` in `bytes` (file position `position`) if it can be one, else undefined. */
const validHeader = (bytes: Uint8Array, at: number, position: number, end: number): BatchHeader | undefined => {
  const header = readHeader(bytes, at)
  return header.magic === MAGIC && header.size >= HEADER_SIZE && position + header.size <= end ? header : undefined
}

/** Slack read beyond the byte budget so that the walk from the index entry to the wanted batch needs one read. */
const WALK_SLACK = 64 * 1024

/**
 * Reads windows of the segment for a forward walk over batch headers: `at(position)` makes sure the window
 * holds a header's worth of bytes at `position`, reading `size` bytes (or what is left) when it does not.
 */
class Walk {
  window: Uint8Array = new Uint8Array(0)
  start = 0
  private readonly file: FileSystem.File
  private readonly end: number
  private readonly size: number

  constructor(file: FileSystem.File, end: number, size: number) {
    this.file = file
    this.end = end
    this.size = size
  }

  /** The header at `position` if it is a batch's, else undefined (damage); the caller checks `position + HEADER_SIZE <= end`. */
  header(position: number): Effect.Effect<BatchHeader | undefined, PlatformError> {
    if (position >= this.start && position + HEADER_SIZE <= this.start + this.window.length) {
      return Effect.succeed(validHeader(this.window, position - this.start, position, this.end))
    }
    return Effect.map(readBytes(this.file, position, Math.min(this.end - position, Math.max(this.size, HEADER_SIZE))), (window) => {
      this.window = window
      this.start = position
      return validHeader(window, 0, position, this.end)
    })
  }

  /** Whether [from, to) is inside the current window. */
  holds(from: number, to: number): boolean {
    return from >= this.start && to <= this.start + this.window.length
  }

  bytes(from: number, to: number): Uint8Array {
    return this.window.subarray(from - this.start, to - this.start)
  }
}

/** What a read found in one segment: whole batches at [position, position + length), in memory when `bytes` is set. */
export interface Found {
  readonly position: number
  readonly length: number
  readonly bytes: Uint8Array | undefined
}

/** The index entry a read started from does not describe the batch there: the indexes must be rebuilt. */
export const IndexMismatch: unique symbol = Symbol.for("kafka/Segment/IndexMismatch")
export type IndexMismatch = typeof IndexMismatch

/**
 * Whole batches from the one holding `offset`, up to `maxBytes` (the first one whatever its size when
 * `minOneBatch`); undefined when the segment holds nothing at or after `offset`. A small read (the budget plus
 * some slack under a megabyte) is one read of the file and comes back in memory; a larger one walks batch headers
 * to the wanted batch and to the last whole batch within the budget (jumping through the index) and answers only
 * where they lie, to be read when they are sent. `report` is told of damaged batches, once each.
 */
export const read = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  offset: number,
  maxBytes: number,
  minOneBatch: boolean,
  report: (position: number) => Effect.Effect<void>
): Effect.fn.Return<Found | undefined | IndexMismatch, PlatformError> {
  const end = s.size
  const small = maxBytes + WALK_SLACK < BufferPool.MIN_POOLED
  const walk = new Walk(file, end, small ? maxBytes + WALK_SLACK : WALK_SLACK)
  const entry = entryFor(s, offset)
  let position = entry < 0 ? 0 : s.offsetIndex!.values[entry]!
  let first: BatchHeader | undefined
  // Walk to the batch holding `offset`.
  for (;;) {
    if (position + HEADER_SIZE > end) return undefined
    const header = yield* walk.header(position)
    if (header === undefined) {
      if (!s.damage.has(position)) {
        s.damage.add(position)
        yield* report(position)
      }
      position = indexedAfter(s, position)
      if (position < 0) return undefined
      continue
    }
    if (entry >= 0 && position === s.offsetIndex!.values[entry] && header.baseOffset + header.lastOffsetDelta !== s.baseOffset + s.offsetIndex!.keys[entry]!) {
      return IndexMismatch
    }
    if (header.baseOffset + header.lastOffsetDelta >= offset) {
      first = header
      break
    }
    position += header.size
  }
  if (first.size > maxBytes && !minOneBatch) return undefined
  // Find the last whole batch within the budget (the first one always counts).
  const limit = position + Math.max(maxBytes, first.size)
  let stop = position + first.size
  for (;;) {
    if (stop + HEADER_SIZE > end || stop >= limit) break
    // Far from the limit, the index says where batches start: jump over those in between.
    if (!walk.holds(stop, stop + HEADER_SIZE)) {
      const jump = indexedAtMost(s, limit - HEADER_SIZE)
      if (jump > stop) stop = jump
    }
    const header = yield* walk.header(stop)
    if (header === undefined || stop + header.size > limit) break
    stop += header.size
  }
  if (!walk.holds(position, stop)) return { position, length: stop - position, bytes: undefined }
  // Walk windows are under a megabyte, never from the pool; a small result is copied out of a large window
  // so that a response waiting to be sent holds no more than its records.
  const bytes = walk.bytes(position, stop)
  return { position, length: stop - position, bytes: walk.window.length > 2 * bytes.length ? bytes.slice() : bytes }
})

export interface ScanResult {
  readonly validBytes: number
  readonly problem: string | undefined
}

const WINDOW = 1024 * 1024

/**
 * Reads the segment from the start, validating every batch (length, magic, CRC), rebuilding its indexes and
 * calling `onBatch` for each; stops at the first invalid batch.
 */
export const recover = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  indexIntervalBytes: number,
  onBatch: (header: BatchHeader) => void
): Effect.fn.Return<ScanResult, PlatformError> {
  const fileSize = s.size
  emptyIndexes(s)
  s.largestTimestamp = -1
  s.nextOffset = s.baseOffset
  s.indexDirty = true
  let window: Uint8Array = new Uint8Array(0)
  let windowStart = 0
  let position = 0
  while (position < fileSize) {
    if (fileSize - position < HEADER_SIZE) return { validBytes: position, problem: `${fileSize - position} bytes of a batch header` }
    if (position + HEADER_SIZE > windowStart + window.length) {
      BufferPool.release(window)
      windowStart = position
      window = yield* readBytes(file, position, Math.min(WINDOW, fileSize - position))
    }
    const header = readHeader(window, position - windowStart)
    if (header.magic !== MAGIC || header.size < HEADER_SIZE) return { validBytes: position, problem: `an invalid batch header at position ${position}` }
    if (position + header.size > fileSize) {
      return { validBytes: position, problem: `a batch of ${header.size} bytes at position ${position} running past the end` }
    }
    if (position + header.size > windowStart + window.length) {
      BufferPool.release(window)
      windowStart = position
      window = yield* readBytes(file, position, Math.max(header.size, Math.min(WINDOW, fileSize - position)))
    }
    const at = position - windowStart
    if (computeCrc(window.subarray(at, at + header.size)) !== header.crc) {
      return { validBytes: position, problem: `a CRC mismatch in the batch at position ${position}` }
    }
    indexBatch(s, header, position, indexIntervalBytes)
    onBatch(header)
    position += header.size
  }
  BufferPool.release(window)
  return { validBytes: position, problem: undefined }
})

/**
 * Rebuilds a segment's indexes from its log (their files were damaged or did not match it), keeping the
 * segment's place in the log: the batches up to the first invalid one are indexed.
 */
export const rebuildIndexes = Effect.fnUntraced(function*(file: FileSystem.File, s: Segment, indexIntervalBytes: number) {
  const nextOffset = s.nextOffset
  const result = yield* recover(file, s, indexIntervalBytes, () => undefined)
  // A closed segment still ends where the next one starts.
  s.nextOffset = Math.max(s.nextOffset, nextOffset)
  return result
})

/**
 * After a clean shutdown: the indexes are on disk, so only the batches after the last index entry are read
 * (headers only) to find where the segment ends. Answers why the files do not agree (then recover), or undefined.
 */
export const resumeTail = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  file: FileSystem.File,
  s: Segment
): Effect.fn.Return<string | undefined, PlatformError> {
  const problem = yield* loadIndexes(fs, s)
  if (problem !== undefined) return problem
  const index = s.offsetIndex!
  let position = index.count === 0 ? 0 : index.values[index.count - 1]!
  s.nextOffset = index.count === 0 ? s.baseOffset : s.baseOffset + index.keys[index.count - 1]! + 1
  s.bytesSinceIndexEntry = 0
  let first = true
  while (position < s.size) {
    const head = yield* readBytes(file, position, HEADER_SIZE)
    const header = head.length < HEADER_SIZE ? undefined : validHeader(head, 0, position, s.size)
    if (header === undefined) return `${segmentFile(s.baseOffset)} has no whole batch at position ${position}`
    // The last index entry must describe the batch it points at.
    if (first && index.count > 0 && header.baseOffset + header.lastOffsetDelta !== s.nextOffset - 1) {
      return `${indexFile(s.baseOffset)} does not match the log`
    }
    first = false
    if (header.maxTimestamp > s.largestTimestamp) s.largestTimestamp = header.maxTimestamp
    s.nextOffset = header.baseOffset + header.lastOffsetDelta + 1
    s.bytesSinceIndexEntry += header.size
    position += header.size
  }
  return undefined
})

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

/**
 * The first batch at or after `fromOffset` that `matches`, with its bytes, walking headers from the index;
 * damaged batches are skipped as reads skip them.
 */
export const findBatch = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  fromOffset: number,
  matches: (header: BatchHeader) => boolean,
  report: (position: number) => Effect.Effect<void>
): Effect.fn.Return<{ readonly header: BatchHeader; readonly bytes: Uint8Array } | undefined, PlatformError> {
  const entry = entryFor(s, fromOffset)
  let position = entry < 0 ? 0 : s.offsetIndex!.values[entry]!
  const walk = new Walk(file, s.size, WALK_SLACK)
  while (position + HEADER_SIZE <= s.size) {
    const header = yield* walk.header(position)
    if (header === undefined) {
      if (!s.damage.has(position)) {
        s.damage.add(position)
        yield* report(position)
      }
      position = indexedAfter(s, position)
      if (position < 0) return undefined
      continue
    }
    if (header.baseOffset + header.lastOffsetDelta >= fromOffset && matches(header)) {
      const bytes = walk.holds(position, position + header.size)
        ? walk.bytes(position, position + header.size)
        : yield* readBytes(file, position, header.size)
      return { header, bytes }
    }
    position += header.size
  }
  return undefined
})
