// The I/O of segments: index files loaded (sanity-checked by the segment) and written, batches read back for
// Fetch and timestamp lookups, whole segments scanned for recovery. Nothing read from disk is trusted blindly:
// every step of a walk over batches checks the header it lands on, a damaged batch is reported once and the walk
// resumes at the next indexed batch after it, so a bad length can neither loop nor hide the data behind it; an
// index entry is checked against the batch it points at when a read starts there.
import { Effect, type FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { type BatchHeader, computeCrc, HEADER_SIZE, MAGIC, readHeader } from "../../protocol/RecordBatch.ts"
import { type AbortedTxn, decodeAbortedTxns, encodeAbortedTxns, indexFile, segmentFile } from "../../protocol/logdir/LogFiles.ts"
import {
  adoptIndexes,
  emptyIndexes,
  encodeIndexes,
  entryAt,
  entryFor,
  indexBatch,
  indexedAfter,
  indexedAtMost,
  indexPath,
  indexProblem,
  logPath,
  type Segment,
  timeIndexPath,
  txnIndexPath,
  validHeader
} from "../../services/log/Segment.ts"
import { MIN_POOLED, type Pool } from "../../services/network/BufferPool.ts"

/**
 * Loads the index files written at the last roll or clean shutdown (missing files give no entries). Contents the
 * segment finds unsound are not used: the answer says why, and the caller rebuilds the indexes from the log.
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
  if (problem === undefined) adoptIndexes(s, offsetBytes, timeBytes)
  return problem
})

/** The segment's aborted transactions, from its `.txnindex` (none when it has no such file). */
export const loadTxnIndex = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment) {
  if (s.aborted !== undefined) return s.aborted
  const bytes = yield* fs.readFile(txnIndexPath(s)).pipe(
    Effect.catchTag("PlatformError", (e) => (e.reason._tag === "NotFound" ? Effect.succeed(new Uint8Array(0)) : Effect.fail(e)))
  )
  // An entry of an unknown version makes the file unusable: it counts as empty (recovery rebuilds it).
  let entries: Array<AbortedTxn>
  try {
    entries = decodeAbortedTxns(bytes)
  } catch {
    entries = []
  }
  // Loaded meanwhile (an append loads it before adding to it): that one is as new or newer.
  if (s.aborted === undefined) s.aborted = entries
  return s.aborted
})

/** Writes the segment's whole `.txnindex` (after recovery rebuilt it); no file when it holds nothing. */
export const writeTxnIndex = (fs: FileSystem.FileSystem, s: Segment) =>
  (s.aborted ?? []).length === 0
    ? fs.remove(txnIndexPath(s), { force: true })
    : fs.writeFile(txnIndexPath(s), encodeAbortedTxns(s.aborted!))

/** Appends one aborted transaction to the segment's `.txnindex` (loaded first, so memory and file agree). */
export const appendTxnIndex = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment, entry: AbortedTxn) {
  const entries = yield* loadTxnIndex(fs, s)
  yield* fs.writeFile(txnIndexPath(s), encodeAbortedTxns([entry]), { flag: "a" })
  entries.push(entry)
})

/** Writes the in-memory indexes out, if they changed. */
export const writeIndexes = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, s: Segment) {
  const encoded = s.indexDirty ? encodeIndexes(s) : undefined
  if (encoded === undefined) return
  yield* fs.writeFile(indexPath(s), encoded.offsets)
  yield* fs.writeFile(timeIndexPath(s), encoded.times)
  s.indexDirty = false
})

/** Reads `length` bytes at `position` (fewer at the end of the file), into `into` when given. */
export const readBytes = Effect.fnUntraced(function*(file: FileSystem.File, position: number, length: number, into?: Uint8Array) {
  const buffer = into ?? new Uint8Array(length)
  let done = 0
  while (done < length) {
    const n = yield* file.read(buffer.subarray(done, length), { position: BigInt(position + done) })
    if (n === 0) break
    done += n
  }
  return done === buffer.length ? buffer : buffer.subarray(0, done)
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

/** Recovery reads the log in windows of this size (from the pool); reads below it are small, one read each. */
const WINDOW = MIN_POOLED

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

/** A damaged batch at `position`: reported once, and the walk resumes at the next indexed batch (-1: none). */
const stepOverDamage = (s: Segment, position: number, report: (position: number) => Effect.Effect<void>): Effect.Effect<number> => {
  const next = indexedAfter(s, position)
  if (s.damage.has(position)) return Effect.succeed(next)
  s.damage.add(position)
  return Effect.as(report(position), next)
}

/** What a read found in one segment: whole batches at [position, position + length), in memory when `bytes` is set. */
export interface Found {
  readonly position: number
  readonly length: number
  readonly bytes: Uint8Array | undefined
  /** The last offset of the last batch found. */
  readonly lastOffset: number
  /** Records in the batches found (0: only batches the cleaner emptied). */
  readonly recordCount: number
}

/** The index entry a read started from does not describe the batch there: the indexes must be rebuilt. */
export const IndexMismatch: unique symbol = Symbol.for("kafka/Segment/IndexMismatch")
export type IndexMismatch = typeof IndexMismatch

/**
 * Whole batches from the one holding `offset`, up to `maxBytes` (the first one whatever its size when
 * `minOneBatch`) and starting below `maxOffset` (the last stable offset, read committed); undefined when the
 * segment holds nothing there. A small read (the budget plus
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
  maxOffset: number,
  report: (position: number) => Effect.Effect<void>
): Effect.fn.Return<Found | undefined | IndexMismatch, PlatformError> {
  const end = s.size
  const small = maxBytes + WALK_SLACK < WINDOW
  const walk = new Walk(file, end, small ? maxBytes + WALK_SLACK : WALK_SLACK)
  const entry = entryFor(s, offset)
  const start = entry < 0 ? undefined : entryAt(s, entry)
  let position = start?.position ?? 0
  let first: BatchHeader | undefined
  // Walk to the batch holding `offset`.
  for (;;) {
    if (position + HEADER_SIZE > end) return undefined
    const header = yield* walk.header(position)
    if (header === undefined) {
      position = yield* stepOverDamage(s, position, report)
      if (position < 0) return undefined
      continue
    }
    if (start !== undefined && position === start.position && header.baseOffset + header.lastOffsetDelta !== start.lastOffset) {
      return IndexMismatch
    }
    if (header.baseOffset + header.lastOffsetDelta >= offset) {
      first = header
      break
    }
    position += header.size
  }
  if ((first.size > maxBytes && !minOneBatch) || first.baseOffset >= maxOffset) return undefined
  // Find the last whole batch within the budget (the first one always counts).
  const limit = position + Math.max(maxBytes, first.size)
  let stop = position + first.size
  let lastOffset = first.baseOffset + first.lastOffsetDelta
  let recordCount = first.recordCount
  for (;;) {
    if (stop + HEADER_SIZE > end || stop >= limit) break
    // Far from the limit, the index says where batches start: jump over those in between (unless the last
    // stable offset lies in this segment: every batch must then be looked at).
    if (!walk.holds(stop, stop + HEADER_SIZE) && maxOffset >= s.nextOffset) {
      const jump = indexedAtMost(s, limit - HEADER_SIZE)
      if (jump > stop) stop = jump
    }
    const header = yield* walk.header(stop)
    if (header === undefined || stop + header.size > limit || header.baseOffset >= maxOffset) break
    stop += header.size
    lastOffset = header.baseOffset + header.lastOffsetDelta
    recordCount += header.recordCount
  }
  if (!walk.holds(position, stop)) return { position, length: stop - position, bytes: undefined, lastOffset, recordCount }
  // Walk windows are under a megabyte, never from the pool; a small result is copied out of a large window
  // so that a response waiting to be sent holds no more than its records.
  const bytes = walk.bytes(position, stop)
  return { position, length: stop - position, bytes: walk.window.length > 2 * bytes.length ? bytes.slice() : bytes, lastOffset, recordCount }
})

export interface ScanResult {
  readonly validBytes: number
  readonly problem: string | undefined
}


/**
 * Reads the segment from the start, validating every batch (length, magic, CRC), rebuilding its indexes and
 * calling `onBatch` for each; stops at the first invalid batch.
 */
export const recover = Effect.fnUntraced(function*(
  file: FileSystem.File,
  s: Segment,
  indexIntervalBytes: number,
  pool: Pool,
  onBatch: (header: BatchHeader, batch: Uint8Array) => void
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
      pool.release(window)
      windowStart = position
      const n = Math.min(WINDOW, fileSize - position)
      window = yield* readBytes(file, position, n, pool.acquire(n))
    }
    const header = readHeader(window, position - windowStart)
    if (header.magic !== MAGIC || header.size < HEADER_SIZE) return { validBytes: position, problem: `an invalid batch header at position ${position}` }
    if (position + header.size > fileSize) {
      return { validBytes: position, problem: `a batch of ${header.size} bytes at position ${position} running past the end` }
    }
    if (position + header.size > windowStart + window.length) {
      pool.release(window)
      windowStart = position
      const n = Math.max(header.size, Math.min(WINDOW, fileSize - position))
      window = yield* readBytes(file, position, n, pool.acquire(n))
    }
    const at = position - windowStart
    if (computeCrc(window.subarray(at, at + header.size)) !== header.crc) {
      return { validBytes: position, problem: `a CRC mismatch in the batch at position ${position}` }
    }
    indexBatch(s, header, position, indexIntervalBytes)
    onBatch(header, window.subarray(at, at + header.size))
    position += header.size
  }
  pool.release(window)
  return { validBytes: position, problem: undefined }
})

/**
 * Rebuilds a segment's indexes from its log (their files were damaged or did not match it), keeping the
 * segment's place in the log: the batches up to the first invalid one are indexed.
 */
export const rebuildIndexes = Effect.fnUntraced(function*(file: FileSystem.File, s: Segment, indexIntervalBytes: number, pool: Pool) {
  const nextOffset = s.nextOffset
  const result = yield* recover(file, s, indexIntervalBytes, pool, () => undefined)
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
  let position = entry < 0 ? 0 : entryAt(s, entry).position
  const walk = new Walk(file, s.size, WALK_SLACK)
  while (position + HEADER_SIZE <= s.size) {
    const header = yield* walk.header(position)
    if (header === undefined) {
      position = yield* stepOverDamage(s, position, report)
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
