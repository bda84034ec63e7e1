// Reads, without the partition's lock: a segment only grows, and what a read sees was fully written. A read
// binary-searches the segments, then the index, then walks batch headers (layers/log/SegmentIO.ts). Small
// results come back as bytes; large ones as a source, read from the segment while the response is written.
// Index files are loaded on first use, sanity-checked, and rebuilt from the log when wrong. Read committed stops
// at the last stable offset and collects the aborted transactions of what it read from the transaction
// indexes of the segments from there on.
import { Effect } from "effect"
import type { ByteSource } from "../../protocol/Bytes.ts"
import { indexFile, segmentFile } from "../../protocol/logdir/LogFiles.ts"
import { decodeRecords } from "../../protocol/RecordBatch.ts"
import { OffsetOutOfRange, type StorageError, UnknownTopicOrPartition } from "../../services/Errors.ts"
import type { AbortedTransaction, Isolation, ReadResult, TimestampLookup } from "../../services/log/LogStore.ts"
import { lastStableOffset, nextOffset, type Partition, segmentFor } from "../../services/log/Partition.ts"
import * as Segment from "../../services/log/Segment.ts"
import { type LogDir, settings, storageError } from "./LogDir.ts"
import * as SegmentIO from "./SegmentIO.ts"

/** Results smaller than this are read at once; larger ones are read while the response is written. */
const INLINE_READ = 64 * 1024

/** A damaged batch found by a read: reported once per position, then stepped over. */
const reportDamage = (s: Segment.Segment) => (position: number) =>
  Effect.logWarning(`${Segment.logPath(s)}: damaged batch at position ${position} (bad magic or length); reads skip to the next indexed batch`)

/** The segment's indexes, loaded (and rebuilt from the log when their files are damaged). */
export const ensureIndexes = (dir: LogDir, p: Partition, s: Segment.Segment) =>
  Effect.gen(function*() {
    if (s.offsetIndex !== undefined) return
    const problem = yield* SegmentIO.loadIndexes(dir.fs, s)
    if (problem !== undefined) yield* rebuild(dir, p, s, problem)
  }).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))

const rebuild = (dir: LogDir, p: Partition, s: Segment.Segment, problem: string) =>
  Effect.gen(function*() {
    const { indexIntervalBytes } = yield* settings(dir, p)
    const result = yield* dir.files.use(s, (file) => SegmentIO.rebuildIndexes(file, s, indexIntervalBytes, dir.pool))
    yield* Effect.logWarning(
      `${p.dir}: ${problem}; indexes rebuilt from ${segmentFile(s.baseOffset)}` +
        (result.problem === undefined ? "" : ` up to ${result.problem}`)
    )
  })

/** Bytes of a segment read when they are sent (a failure then closes the connection, as Kafka's sendfile). */
const sourceOf = (dir: LogDir, p: Partition, s: Segment.Segment, position: number, length: number): ByteSource => ({
  length,
  read: (into, offset) =>
    dir.files.use(s, (file) => SegmentIO.readInto(file, position + offset, into)).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
})

/** Whole batches of one segment from the one holding `offset` and below `maxOffset`, or undefined when it has none there. */
const readSegment = (dir: LogDir, p: Partition, s: Segment.Segment, offset: number, maxBytes: number, minOneBatch: boolean, maxOffset: number) =>
  Effect.gen(function*() {
    if (s.size === 0) return undefined
    yield* ensureIndexes(dir, p, s)
    const found = yield* dir.files.use(s, (file) =>
      Effect.gen(function*() {
        const first = yield* SegmentIO.read(file, s, offset, maxBytes, minOneBatch, maxOffset, reportDamage(s))
        if (first !== SegmentIO.IndexMismatch) return first
        yield* rebuild(dir, p, s, `${indexFile(s.baseOffset)} does not match the log`)
        const again = yield* SegmentIO.read(file, s, offset, maxBytes, minOneBatch, maxOffset, reportDamage(s))
        return again === SegmentIO.IndexMismatch ? undefined : again
      })).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
    if (found === undefined || found.length === 0) return undefined
    const { lastOffset, recordCount } = found
    if (found.bytes !== undefined) return { records: found.bytes, lastOffset, recordCount }
    if (found.length >= INLINE_READ) return { records: sourceOf(dir, p, s, found.position, found.length), lastOffset, recordCount }
    const records = yield* dir.files.use(s, (file) => SegmentIO.readBytes(file, found.position, found.length)).pipe(
      Effect.mapError(storageError(p.name, Segment.logPath(s)))
    )
    return { records, lastOffset, recordCount }
  })

const noAborted: ReadonlyArray<AbortedTransaction> = []

/** The aborted transactions with records in [from, upTo), from the transaction indexes of the segments from `from` on. */
const abortedIn = (dir: LogDir, p: Partition, segments: ReadonlyArray<Segment.Segment>, from: number, upTo: number) =>
  Effect.gen(function*() {
    const out: Array<AbortedTransaction> = []
    for (let i = segmentFor(p, from); i < segments.length; i++) {
      const s = segments[i]!
      yield* SegmentIO.loadTxnIndex(dir.fs, s).pipe(Effect.mapError(storageError(p.name, Segment.txnIndexPath(s))))
      if (Segment.collectAborted(s, from, upTo, out)) break
    }
    return out
  })

/** A segment a read was about to open was replaced by the cleaner meanwhile. */
class Replaced {
  readonly _tag = "Replaced"
}

export const read = (
  dir: LogDir,
  p: Partition,
  offset: number,
  maxBytes: number,
  minOneBatch: boolean,
  isolation: Isolation = "uncommitted",
  attempt = 0
): Effect.Effect<ReadResult, OffsetOutOfRange | StorageError | UnknownTopicOrPartition> =>
  readOnce(dir, p, offset, maxBytes, minOneBatch, isolation, attempt).pipe(
    Effect.catchTag("Replaced", () => read(dir, p, offset, maxBytes, minOneBatch, isolation, attempt + 1))
  )

const readOnce = (dir: LogDir, p: Partition, offset: number, maxBytes: number, minOneBatch: boolean, isolation: Isolation, attempt: number) =>
  Effect.gen(function*(): Effect.fn.Return<ReadResult, OffsetOutOfRange | StorageError | UnknownTopicOrPartition | Replaced> {
    const logEndOffset = nextOffset(p)
    const stable = lastStableOffset(p)
    const offsets = { logStartOffset: p.logStartOffset, logEndOffset, lastStableOffset: stable }
    if (offset < p.logStartOffset || offset > logEndOffset) return yield* new OffsetOutOfRange({ offset, logStartOffset: p.logStartOffset, logEndOffset })
    const committed = isolation === "committed"
    const maxOffset = committed ? stable : Infinity
    // The segment list may change under a read (retention): work on the segments as they are now.
    const segments = p.segments.slice()
    let from = offset
    for (let i = segmentFor(p, offset); i < segments.length; i++) {
      const s = segments[i]!
      if (s.nextOffset <= from && i < segments.length - 1) continue
      const found = yield* readSegment(dir, p, s, Math.max(from, s.baseOffset), Math.max(0, maxBytes), minOneBatch, maxOffset).pipe(
        // Deleted (retention, DeleteRecords) before this read could open it: now below the log start.
        Effect.catchTag("StorageError", (e): Effect.Effect<never, StorageError | OffsetOutOfRange | UnknownTopicOrPartition | Replaced> =>
          p.deleted
            ? Effect.fail(new UnknownTopicOrPartition(p.tp))
            : s.deleted && offset >= p.logStartOffset && attempt < 3
            // Replaced by a cleaned segment under this read: read again from the segments as they are now.
            ? Effect.fail(new Replaced())
            : s.deleted
            ? Effect.fail(new OffsetOutOfRange({ offset, logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p) }))
            : Effect.fail(e))
      )
      // Only batches the cleaner emptied (each kept for its last offset): a client would see no record to move
      // past, so the read goes on after them.
      if (found !== undefined && found.recordCount === 0 && found.lastOffset + 1 < Math.min(maxOffset, logEndOffset)) {
        from = found.lastOffset + 1
        // The same segment again if it goes on past them.
        if (from < s.nextOffset) i--
        continue
      }
      if (found !== undefined) {
        const abortedTransactions = committed ? yield* abortedIn(dir, p, segments, offset, found.lastOffset + 1) : noAborted
        return { ...offsets, records: found.records, abortedTransactions }
      }
      if (s.nextOffset >= maxOffset) break
    }
    return { ...offsets, records: new Uint8Array(0), abortedTransactions: noAborted }
  })

/** The first record at or after `timestamp` (-3: the one with the largest timestamp), through the time indexes. */
export const offsetForTimestamp = (dir: LogDir, p: Partition, timestamp: number) =>
  Effect.gen(function*(): Effect.fn.Return<TimestampLookup | undefined, StorageError> {
    const segments = p.segments.slice()
    // Choosing a segment needs only the time indexes; only the chosen segment's log is opened.
    for (const s of segments) if (s.size !== 0) yield* ensureIndexes(dir, p, s)
    const maxMode = timestamp === -3
    // The segment to look in: the first reaching the timestamp, or the one with the largest timestamp.
    let chosen: Segment.Segment | undefined
    for (const s of segments) {
      if (s.nextOffset <= p.logStartOffset || s.largestTimestamp < 0) continue
      if (maxMode ? chosen === undefined || s.largestTimestamp > chosen.largestTimestamp : s.largestTimestamp >= timestamp) {
        chosen = s
        if (!maxMode) break
      }
    }
    if (chosen === undefined) return undefined
    const target = maxMode ? chosen.largestTimestamp : timestamp
    const from = Math.max(p.logStartOffset, Segment.timestampStart(chosen, target))
    const segment = chosen
    const found = yield* dir.files.use(segment, (file) =>
      SegmentIO.findBatch(file, segment, from, (h) => h.maxTimestamp >= target, reportDamage(segment))).pipe(
        Effect.mapError(storageError(p.name, Segment.logPath(segment)))
      )
    if (found === undefined) return undefined
    const { header, bytes } = found
    // As Kafka's LogSegment.findOffsetByTimestamp, the batch's records (decompressed) give the exact one.
    const record = decodeRecords(bytes).find((r) => r.offset >= from && (maxMode ? r.timestamp === target : r.timestamp >= target))
    return record === undefined
      ? { offset: header.baseOffset, timestamp: header.maxTimestamp }
      : { offset: record.offset, timestamp: record.timestamp }
  })
