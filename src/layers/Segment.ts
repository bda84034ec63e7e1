// One segment of a partition's log: `<base offset>.log` with its sparse offset index (`.index`, an entry every
// `index.interval.bytes` mapping a batch's last offset to its position) and time index (`.timeindex`, largest
// timestamp so far → its offset), as Kafka keeps them. Indexes live in memory as typed arrays while a segment is
// in use and are written out when it is rolled or the broker shuts down; after a crash, recovery rebuilds them
// from the log. Lookups are binary searches followed by a short forward walk over batch headers, so the cost of
// a read does not grow with the log.
import { Effect, Exit, type FileSystem, Scope } from "effect"
import type { PlatformError } from "effect/PlatformError"
import {
  decodeOffsetIndex,
  decodeTimeIndex,
  encodeOffsetIndex,
  encodeTimeIndex,
  indexFile,
  segmentFile,
  timeIndexFile
} from "../protocol/LogFiles.ts"
import { type BatchHeader, computeCrc, HEADER_SIZE, MAGIC, readHeader } from "../protocol/RecordBatch.ts"
import * as BufferPool from "../services/BufferPool.ts"

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
    let lo = 0
    let hi = this.count - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.keys[mid]! <= key) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }

  truncateTo(count: number): void {
    this.count = Math.min(this.count, count)
  }
}

export interface Segment {
  readonly baseOffset: number
  readonly dir: string
  /** Opened on first use; closed when the segment is deleted or the store shuts down. */
  file: FileSystem.File | undefined
  scope: Scope.Closeable | undefined
  /** Bytes of valid batches (-1 until the file has been opened). */
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
}

export const newSegment = (dir: string, baseOffset: number): Segment => ({
  baseOffset,
  dir,
  file: undefined,
  scope: undefined,
  size: -1,
  nextOffset: baseOffset,
  largestTimestamp: -1,
  firstAppendAt: -1,
  offsetIndex: undefined,
  timeIndex: undefined,
  indexDirty: false,
  bytesSinceIndexEntry: 0
})

export const logPath = (s: Segment) => `${s.dir}/${segmentFile(s.baseOffset)}`
const indexPath = (s: Segment) => `${s.dir}/${indexFile(s.baseOffset)}`
const timeIndexPath = (s: Segment) => `${s.dir}/${timeIndexFile(s.baseOffset)}`

/** Fresh, empty indexes (a new segment, or one being rebuilt); they are written out at roll or shutdown. */
export const emptyIndexes = (s: Segment) => {
  s.offsetIndex = new Columns((n) => new Int32Array(n))
  s.timeIndex = new Columns((n) => new Float64Array(n))
  s.bytesSinceIndexEntry = 0
  // Written at the next roll or shutdown even if no entry comes: every segment has its two index files.
  s.indexDirty = true
}

/**
 * Opens the segment's file in a scope of its own under `parent`, and learns its size. `create: false` (readers)
 * fails on a missing file instead of creating it: a segment deleted under a read must not come back, empty.
 */
export const open = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment, parent: Scope.Scope, create = true) {
  if (s.file !== undefined) return s.file
  const scope = yield* Scope.fork(parent)
  const file = yield* Scope.provide(fs.open(logPath(s), { flag: create ? "a+" : "r+" }), scope).pipe(
    Effect.onError(() => Scope.close(scope, Exit.void))
  )
  if (s.file !== undefined) {
    // Another reader opened it meanwhile: keep one handle.
    yield* Scope.close(scope, Exit.void)
    return s.file
  }
  s.file = file
  s.scope = scope
  if (s.size < 0) s.size = Number((yield* file.stat).size)
  return file
})

/** Loads the index files written at the last roll or clean shutdown; missing or short files give no entries. */
export const loadIndexes = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment) {
  if (s.offsetIndex !== undefined) return
  const read = (path: string) =>
    fs.readFile(path).pipe(Effect.catchTag("PlatformError", (e) => (e.reason._tag === "NotFound" ? Effect.succeed(new Uint8Array(0)) : Effect.fail(e))))
  const offsets = decodeOffsetIndex(yield* read(indexPath(s)))
  const times = decodeTimeIndex(yield* read(timeIndexPath(s)))
  // An append (or another reader) may have built the indexes while the files were read: theirs win.
  if (s.offsetIndex !== undefined) return
  s.offsetIndex = new Columns((n) => new Int32Array(n), offsets.relativeOffsets, offsets.positions)
  s.timeIndex = new Columns((n) => new Float64Array(n), times.timestamps, times.relativeOffsets)
  const lastTime = s.timeIndex.count - 1
  if (lastTime >= 0) s.largestTimestamp = Math.max(s.largestTimestamp, s.timeIndex.keys[lastTime]!)
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

/** Where to start walking to find `offset`: the position of the last indexed batch ending at or before it. */
export const startPosition = (s: Segment, offset: number): number => {
  const index = s.offsetIndex
  if (index === undefined) return 0
  const i = index.floor(offset - s.baseOffset)
  return i < 0 ? 0 : index.values[i]!
}

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

/** Slack read beyond the byte budget so that the walk from the index entry to the wanted batch needs one read. */
const WALK_SLACK = 64 * 1024

/**
 * Whole batches from the one holding `offset`, up to `maxBytes` (the first one whatever its size when
 * `minOneBatch`), or an empty array when the segment holds nothing at or after `offset`. A small read is one
 * read of the budget plus some slack (the walk from the index entry to the wanted batch happens in it); a large
 * one first walks batch headers to the wanted batch, then reads exactly the budget, so that its buffer, from the
 * pool, has the same size every time.
 */
export const read = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  offset: number,
  maxBytes: number,
  minOneBatch: boolean
): Effect.fn.Return<Uint8Array, PlatformError> {
  const end = s.size
  let position = startPosition(s, offset)
  const small = maxBytes + WALK_SLACK < BufferPool.MIN_POOLED
  let window: Uint8Array = new Uint8Array(0)
  let at = 0
  let firstSize = 0
  // Walk to the batch holding `offset`.
  for (;;) {
    if (at + HEADER_SIZE > window.length) {
      if (position + at + HEADER_SIZE > end) return new Uint8Array(0)
      position += at
      window = yield* readBytes(file, position, Math.min(end - position, small ? maxBytes + WALK_SLACK : WALK_SLACK))
      at = 0
      continue
    }
    const header = readHeader(window, at)
    if (header.baseOffset + header.lastOffsetDelta >= offset) {
      firstSize = header.size
      break
    }
    at += header.size
  }
  if (firstSize > maxBytes && !minOneBatch) return new Uint8Array(0)
  let data: Uint8Array = window.subarray(at)
  if (!small || data.length < Math.min(end - position - at, Math.max(maxBytes, firstSize))) {
    // Read the budget from the wanted batch on (at least that whole batch).
    data = yield* readBytes(file, position + at, Math.min(end - position - at, Math.max(maxBytes, firstSize)))
  }
  // Whole batches only: the last one may have been cut by the budget.
  let taken = 0
  while (taken + HEADER_SIZE <= data.length) {
    const size = readHeader(data, taken).size
    if (taken + size > data.length || (taken > 0 && taken + size > maxBytes)) break
    taken += size
  }
  if (data.length < BufferPool.MIN_POOLED || taken >= BufferPool.MIN_POOLED) return data.subarray(0, taken)
  // A small result out of a large buffer is copied out, so that the buffer goes back at once (see MIN_POOLED).
  const out = data.slice(0, taken)
  BufferPool.release(data)
  return out
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
 * After a clean shutdown: the indexes are on disk, so only the batches after the last index entry are read
 * (headers only) to find where the segment ends. Returns false when the files do not agree (then recover).
 */
export const resumeTail = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  file: FileSystem.File,
  s: Segment
): Effect.fn.Return<boolean, PlatformError> {
  yield* loadIndexes(fs, s)
  const index = s.offsetIndex!
  let position = index.count === 0 ? 0 : index.values[index.count - 1]!
  if (position > s.size) return false
  s.nextOffset = index.count === 0 ? s.baseOffset : s.baseOffset + index.keys[index.count - 1]! + 1
  s.bytesSinceIndexEntry = 0
  while (position < s.size) {
    const head = yield* readBytes(file, position, HEADER_SIZE)
    if (head.length < HEADER_SIZE) return false
    const header = readHeader(head)
    if (header.magic !== MAGIC || header.size < HEADER_SIZE || position + header.size > s.size) return false
    if (header.maxTimestamp > s.largestTimestamp) s.largestTimestamp = header.maxTimestamp
    s.nextOffset = header.baseOffset + header.lastOffsetDelta + 1
    s.bytesSinceIndexEntry += header.size
    position += header.size
  }
  return true
})

/** The offset of the first batch with a timestamp at or after `timestamp`, found through the time index. */
export const timestampStart = (s: Segment, timestamp: number): number => {
  const times = s.timeIndex
  if (times === undefined) return s.baseOffset
  const i = times.floor(timestamp - 1)
  return i < 0 ? s.baseOffset : s.baseOffset + times.values[i]!
}

export const close = (s: Segment) =>
  Effect.suspend(() => {
    const scope = s.scope
    s.file = undefined
    s.scope = undefined
    return scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
  })

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

/** The first batch at or after `fromOffset` that `matches`, with its bytes, walking headers from the index. */
export const findBatch = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  fromOffset: number,
  matches: (header: BatchHeader) => boolean
): Effect.fn.Return<{ readonly header: BatchHeader; readonly bytes: Uint8Array } | undefined, PlatformError> {
  let position = startPosition(s, fromOffset)
  while (position + HEADER_SIZE <= s.size) {
    const window = yield* readBytes(file, position, Math.min(WALK_SLACK, s.size - position))
    let at = 0
    while (at + HEADER_SIZE <= window.length) {
      const header = readHeader(window, at)
      if (header.baseOffset + header.lastOffsetDelta >= fromOffset && matches(header)) {
        const bytes = at + header.size <= window.length
          ? window.subarray(at, at + header.size)
          : yield* readBytes(file, position + at, header.size)
        return { header, bytes }
      }
      at += header.size
    }
    position += at
  }
  return undefined
})
