// The log cleaner of the file store: picks the dirtiest compacted log, builds the key map over its dirty
// section, rewrites its closed segments from the log start up to where the map reaches, grouped so that small
// ones merge, and swaps each group in (layers/log/Swap.ts). What survives is the pure core's decision
// (services/log/Cleaner.ts). Segments are read and written without the partition's lock, which is taken only
// for the swap: closed segments never change, and a swap checks that the segments it replaces are still there.
// Progress is kept in `cleaner-offset-checkpoint`; `log.cleaner.io.max.bytes.per.second` throttles the I/O.
import { Clock, Duration, Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import { isPlatformError } from "effect/PlatformError"
import { type AbortedTxn, CLEANED, CLEANER_OFFSETS, encodeAbortedTxns, indexFile, segmentFile, timeIndexFile, txnIndexFile } from "../../protocol/logdir/LogFiles.ts"
import { type BatchHeader, HEADER_SIZE, readHeader, rebuildBatch } from "../../protocol/RecordBatch.ts"
import * as Core from "../../services/log/Cleaner.ts"
import { type CleanStats, partitionName, type TopicPartition } from "../../services/log/LogStore.ts"
import { INTERNAL_LOGS, type LogSettings, logSettings, type Partition } from "../../services/log/Partition.ts"
import * as Segment from "../../services/log/Segment.ts"
import { partitionOf } from "./Loading.ts"
import { currentConfig, type LogDir, settings, storageError } from "./LogDir.ts"
import { effectiveConfig } from "../../services/config/DynamicConfigs.ts"
import { ensureIndexes } from "./Reading.ts"
import { writeCheckpoint } from "./Retention.ts"
import * as SegmentIO from "./SegmentIO.ts"
import * as Swap from "./Swap.ts"

/** A clean given up: the partition changed under it, or its log cannot be read as batches. */
class CleanAbandoned extends Schema.TaggedError<CleanAbandoned>()("CleanAbandoned", { reason: Schema.String }) {}

/** Long keys are told apart by their MD5, as Kafka's cleaner tells every key. */
const md5 = (key: Uint8Array) => createHash("md5").update(key).digest("base64")

/** The cleaner reads segments in windows of this size (a larger batch is read whole). */
const WINDOW = 1024 * 1024

/** Waits as long as `bytes` take at the configured rate (Kafka's Throttler). */
const throttle = (dir: LogDir, bytes: number) =>
  Effect.flatMap(currentConfig(dir), (config) => {
    const rate = config.logCleanerIoMaxBytesPerSecond
    return Number.isFinite(rate) ? Effect.sleep(Duration.millis((bytes / rate) * 1000)) : Effect.void
  })

/**
 * Calls `f` with every batch of a closed segment in order, until it answers false. A batch that is not whole
 * abandons the clean: damage is for recovery to settle, not for the cleaner to copy or drop.
 */
const forEachBatch = <E>(dir: LogDir, p: Partition, s: Segment.Segment, f: (batch: Uint8Array) => Effect.Effect<boolean, E>) =>
  dir.files.use(s, (file) =>
    Effect.gen(function*() {
      let position = 0
      while (position < s.size) {
        const window = yield* SegmentIO.readBytes(file, position, Math.min(WINDOW, s.size - position))
        yield* throttle(dir, window.length)
        let at = 0
        while (at + HEADER_SIZE <= window.length) {
          const header = Segment.validHeader(window, at, position + at, s.size)
          if (header === undefined) return yield* new CleanAbandoned({ reason: `${Segment.logPath(s)}: no whole batch at position ${position + at}` })
          if (at + header.size > window.length) {
            if (at > 0) break
            // A batch larger than the window: read it whole.
            const whole = yield* SegmentIO.readBytes(file, position, header.size)
            if (!(yield* f(whole))) return
            at = header.size
            break
          }
          if (!(yield* f(window.subarray(at, at + header.size)))) return
          at += header.size
        }
        if (at === 0) return yield* new CleanAbandoned({ reason: `${Segment.logPath(s)}: a torn batch at position ${position}` })
        position += at
      }
    })).pipe(Effect.mapError((e) => (isPlatformError(e) ? storageError(p.name, Segment.logPath(s))(e) : e)))

/** The aborted transactions overlapping [from, to), from the transaction indexes of every segment. */
const abortedIn = (dir: LogDir, p: Partition, segments: ReadonlyArray<Segment.Segment>, from: number, to: number) =>
  Effect.gen(function*() {
    const out: Array<AbortedTxn> = []
    for (const s of segments) {
      const entries = yield* loadTxnIndex(dir, p, s)
      for (const a of entries) if (a.lastOffset >= from && a.firstOffset < to) out.push(a)
    }
    return out
  })

const loadTxnIndex = (dir: LogDir, p: Partition, s: Segment.Segment) =>
  SegmentIO.loadTxnIndex(dir.fs, s).pipe(Effect.mapError(storageError(p.name, Segment.txnIndexPath(s))))

/** The timestamp of the first batch at or after `offset` in its segment (for the maximum compaction lag), or -1. */
const firstTimestamp = (dir: LogDir, p: Partition, offset: number) =>
  Effect.gen(function*() {
    const s = p.segments.find((seg) => seg.nextOffset > offset && seg.size > 0)
    if (s === undefined || s === p.segments[p.segments.length - 1]) return -1
    const head = yield* dir.files.use(s, (file) => SegmentIO.readBytes(file, 0, HEADER_SIZE)).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
    return head.length < HEADER_SIZE ? -1 : readHeader(head).maxTimestamp
  })

/** The compacted partitions the cleaner looks at: compacted topics of the metadata and the broker's own logs. */
const compactedLogs = (dir: LogDir) =>
  Effect.gen(function*() {
    const out: Array<{ readonly p: Partition; readonly s: LogSettings }> = []
    const image = yield* dir.metadata.image
    const candidates: Array<TopicPartition> = [...INTERNAL_LOGS]
    for (const topic of image.topics.values()) {
      // Only compacted topics are loaded: the others cost nothing until used.
      if (!logSettings(effectiveConfig(dir.config, image), topic.configs).compacts) continue
      for (const info of topic.partitions) candidates.push({ topic: topic.name, partition: info.index })
    }
    for (const tp of candidates) {
      const name = partitionName(tp)
      if (!dir.onDisk.has(name) && !dir.partitions.has(name)) continue
      const found = yield* partitionOf(dir, tp).pipe(Effect.option)
      if (found._tag === "None") continue
      const p = found.value
      const s = yield* settings(dir, p)
      if (s.compacts && !p.deleted && p.segments.length > 1) out.push({ p, s })
    }
    return out
  })

/** One pass: every compacted log dirty enough is cleaned once, dirtiest first. */
export const cleanLogs = (dir: LogDir): Effect.Effect<ReadonlyArray<CleanStats>> =>
  Effect.gen(function*() {
    if (!dir.config.logCleanerEnable) return []
    const now = yield* Clock.currentTimeMillis
    const due: Array<{ readonly p: Partition; readonly s: LogSettings; readonly c: Core.Cleanable }> = []
    for (const { p, s } of yield* compactedLogs(dir)) {
      const found = yield* Effect.gen(function*() {
        // Sizes and largest timestamps of the closed segments (their time indexes).
        for (const seg of p.segments) if (seg.size !== 0) yield* ensureIndexes(dir, p, seg)
        const checkpoint = dir.cleanerOffsets.get(p.name)?.offset
        const first = Number.isFinite(s.maxCompactionLagMs) ? yield* firstTimestamp(dir, p, checkpoint ?? p.logStartOffset) : -1
        return Core.cleanable(p, checkpoint, s, now, first)
      }).pipe(Effect.option)
      if (found._tag === "Some" && Core.needsCleaning(found.value, s)) due.push({ p, s, c: found.value })
    }
    due.sort((a, b) => b.c.ratio - a.c.ratio)
    const done: Array<CleanStats> = []
    for (const { p, s, c } of due) {
      const stats = yield* cleanPartition(dir, p, s, c).pipe(
        Effect.catch((e) => Effect.as(Effect.logWarning(`log cleaner: ${p.name}: ${e._tag === "CleanAbandoned" ? e.reason : e.message}; not cleaned`), undefined))
      )
      if (stats !== undefined) done.push(stats)
    }
    if (done.length > 0) {
      yield* writeCheckpoint(dir, CLEANER_OFFSETS, dir.cleanerOffsets.values()).pipe(Effect.catch((e) => Effect.logError(`log cleaner: ${e.message}`)))
    }
    return done
  }).pipe(Effect.withSpan("LogCleaner.clean"))

/** Cleans one partition's log from its start up to where the key map of its dirty section reaches. */
const cleanPartition = (dir: LogDir, p: Partition, s: LogSettings, c: Core.Cleanable) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const closed = p.segments.slice(0, -1)
    // The key map over the dirty section, segment by segment, as far as it fits.
    const { logCleanerDedupeBufferSize } = yield* currentConfig(dir)
    const map = new Core.OffsetMap(logCleanerDedupeBufferSize, md5)
    const mapTxns = new Core.TxnTracker(yield* abortedIn(dir, p, closed, c.firstDirty, c.firstUncleanable))
    let full = false
    for (const seg of closed) {
      if (seg.nextOffset <= c.firstDirty || seg.baseOffset >= c.firstUncleanable) continue
      yield* forEachBatch(dir, p, seg, (batch) =>
        Effect.sync(() => {
          full = !Core.mapBatch(map, mapTxns, batch, c.firstDirty, c.firstUncleanable)
          return !full
        }))
      if (full) break
      map.updateLatestOffset(Math.min(seg.nextOffset, c.firstUncleanable) - 1)
    }
    const end = map.latestOffset + 1
    if (end <= c.firstDirty) {
      return yield* new CleanAbandoned({ reason: `log.cleaner.dedupe.buffer.size (${logCleanerDedupeBufferSize} bytes) holds too few keys for one batch` })
    }
    const now = yield* Clock.currentTimeMillis
    const lastDataOffsets = new Map<number, number>()
    for (const [producerId, e] of p.producers.producers) {
      const last = e.batches.at(-1)
      if (last !== undefined) lastDataOffsets.set(producerId, last.lastOffset)
    }
    const toClean = closed.filter((seg) => seg.baseOffset < end)
    const totals = { bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsKept: 0 }
    for (const group of Core.groupBySize(toClean, s.segmentBytes)) {
      const from = group[0]!.baseOffset
      const to = group[group.length - 1]!.nextOffset
      const txns = new Core.TxnTracker(yield* abortedIn(dir, p, closed, from, to))
      const ctx: Core.CleanContext = { map, txns, now, deleteRetentionMs: s.deleteRetentionMs, lastDataOffsets }
      const cleaned = yield* cleanGroup(dir, p, s, group, ctx, totals)
      yield* p.lock.withPermit(Effect.gen(function*() {
        const at = p.segments.indexOf(group[0]!)
        const intact = !p.deleted && at >= 0 && at + group.length < p.segments.length && group.every((seg, i) => p.segments[at + i] === seg && !seg.deleted)
        if (!intact) {
          yield* Swap.discardCleaned(dir, p, from)
          return yield* new CleanAbandoned({ reason: "its segments changed during the clean" })
        }
        yield* Swap.swapIn(dir, p, group, cleaned, s.fileDeleteDelayMs)
      }).pipe(Effect.uninterruptible)).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(storageError(p.name, `${p.dir}/${segmentFile(from)}`)(e))))
    }
    dir.cleanerOffsets.set(p.name, { ...p.tp, offset: end })
    const ms = (yield* Clock.currentTimeMillis) - started
    const stats: CleanStats = {
      tp: p.tp,
      firstDirty: c.firstDirty,
      end,
      ...totals,
      segmentsBefore: toClean.length,
      segmentsAfter: Core.groupBySize(toClean, s.segmentBytes).length,
      ms
    }
    const mb = (n: number) => (n / 1048576).toFixed(1)
    yield* Effect.logInfo(
      `log cleaner: ${p.name}: cleaned [${c.firstDirty}, ${end}) in ${ms} ms: ${mb(stats.bytesRead)} MB read, ${mb(stats.bytesWritten)} MB written ` +
        `(${stats.recordsKept} of ${stats.recordsRead} records kept, ${stats.segmentsBefore} segments into ${stats.segmentsAfter})`
    )
    return stats
  })

/**
 * Writes the survivors of a group of segments as one new segment in `.cleaned` files, fsynced, with its
 * indexes; answers the segment (not yet in the partition's list).
 */
const cleanGroup = (
  dir: LogDir,
  p: Partition,
  s: LogSettings,
  group: ReadonlyArray<Segment.Segment>,
  ctx: Core.CleanContext,
  totals: { bytesRead: number; bytesWritten: number; recordsRead: number; recordsKept: number }
) =>
  Effect.scoped(Effect.gen(function*() {
    const base = group[0]!.baseOffset
    const out = Segment.newSegment(p.dir, base)
    Segment.emptyIndexes(out)
    out.size = 0
    const path = `${p.dir}/${segmentFile(base)}${CLEANED}`
    const file = yield* dir.fs.open(path, { flag: "w" }).pipe(Effect.mapError(storageError(p.name, path)))
    const pending: Array<Uint8Array> = []
    let pendingBytes = 0
    const drain = Effect.suspend(() => {
      if (pendingBytes === 0) return Effect.void
      const bytes = new Uint8Array(pendingBytes)
      let at = 0
      for (const chunk of pending) {
        bytes.set(chunk, at)
        at += chunk.length
      }
      pending.length = 0
      pendingBytes = 0
      return Effect.andThen(file.writeAll(bytes), throttle(dir, bytes.length)).pipe(Effect.mapError(storageError(p.name, path)))
    })
    const write = (bytes: Uint8Array) =>
      Effect.suspend(() => {
        // Copied: a window's bytes are reused by the next read.
        pending.push(bytes.slice())
        pendingBytes += bytes.length
        Segment.indexBatch(out, readHeader(bytes), out.size, s.indexIntervalBytes)
        out.size += bytes.length
        totals.bytesWritten += bytes.length
        return pendingBytes >= WINDOW ? drain : Effect.void
      })
    let last: { readonly header: BatchHeader; readonly kept: boolean } | undefined
    for (const seg of group) {
      totals.bytesRead += seg.size
      yield* forEachBatch(dir, p, seg, (batch) =>
        Effect.gen(function*() {
          const result = Core.cleanBatch(ctx, batch)
          totals.recordsRead += result.recordsRead
          totals.recordsKept += result.recordsKept
          last = { header: readHeader(batch), kept: result.bytes !== undefined }
          if (result.bytes !== undefined) yield* write(result.bytes)
          return true
        }))
    }
    // The group's last batch stays, if only as an empty batch: the cleaned segment's last offset then covers
    // every segment it replaces, which is how a swap interrupted by a crash is completed (layers/log/Swap.ts).
    if (last !== undefined && !last.kept) yield* write(rebuildBatch(last.header, [], last.header.maxTimestamp, last.header.attributes))
    yield* drain
    yield* file.sync.pipe(Effect.mapError(storageError(p.name, path)))
    out.nextOffset = Math.max(out.nextOffset, group[group.length - 1]!.nextOffset)
    Segment.seal(out)
    out.aborted = ctx.txns.kept
    const indexes = Segment.encodeIndexes(out)!
    const write1 = (name: string, bytes: Uint8Array) =>
      Effect.scoped(Effect.gen(function*() {
        const f = yield* dir.fs.open(`${p.dir}/${name}${CLEANED}`, { flag: "w" })
        yield* f.writeAll(bytes)
        yield* f.sync
      })).pipe(Effect.mapError(storageError(p.name, `${p.dir}/${name}${CLEANED}`)))
    yield* write1(indexFile(base), indexes.offsets)
    yield* write1(timeIndexFile(base), indexes.times)
    if (out.aborted.length > 0) yield* write1(txnIndexFile(base), encodeAbortedTxns(out.aborted))
    out.indexDirty = false
    return out
  }))
