// The LogStore over Effect's FileSystem, in Kafka's layout: `<log.dir>/<topic>-<partition>/` holds segments
// (`<base offset>.log`, RecordBatch v2 exactly as produced, offsets assigned) with their sparse offset and time
// indexes (layers/Segment.ts), and `<offset>.snapshot` files of the idempotent producers. A segment is rolled at
// `segment.bytes` or `segment.ms` (per topic, defaulting to `log.segment.bytes` / `log.roll.*`); retention deletes
// whole segments past `retention.ms` or `retention.bytes`, and DeleteRecords moves the log start offset.
//
// Start-up: a clean shutdown leaves `.kafka_cleanshutdown`, every index and a producer snapshot at each log end;
// the next start then reads only the active segment's index and the batch headers after its last entry. After a
// crash, each partition is recovered from its recovery point (`recovery-point-offset-checkpoint`: what was
// fsynced): those segments are validated batch by batch (length, magic, CRC), their indexes rebuilt, a torn tail
// truncated with a log line. Earlier segments are trusted, as Kafka trusts them.
//
// Appends are serialised per partition; a batch's sequence check, write and bookkeeping happen under one permit
// and cannot be interrupted halfway. Reads take no lock: a segment only grows, and what a read sees was fully
// written.
import { Clock, Deferred, Duration, Effect, Exit, FileSystem, Layer, Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import {
  CLEAN_SHUTDOWN,
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  fileOffset,
  formatCheckpoint,
  indexFile,
  LOG_START_OFFSETS,
  parseCheckpoint,
  RECOVERY_POINTS,
  segmentFile,
  snapshotFile,
  timeIndexFile
} from "../protocol/LogFiles.ts"
import { COMPRESSION_MASK, decodeRecords, setBaseOffset, type BatchHeader } from "../protocol/RecordBatch.ts"
import { BrokerConfig } from "../services/BrokerConfig.ts"
import { ClusterMetadata } from "../services/ClusterMetadata.ts"
import { OffsetOutOfRange, StorageError, UnknownTopicOrPartition } from "../services/Errors.ts"
import {
  type AppendResult,
  LogStore,
  partitionName,
  type ReadResult,
  type SeenEnd,
  type TopicPartition
} from "../services/LogStore.ts"
import * as ProducerState from "../services/ProducerState.ts"
import { topicSetting } from "../services/TopicConfigs.ts"
import * as Segment from "./Segment.ts"

interface Partition {
  readonly tp: TopicPartition
  readonly name: string
  readonly dir: string
  readonly lock: Semaphore.Semaphore
  /** In offset order; the last one is the active segment, which takes appends. */
  readonly segments: Array<Segment.Segment>
  producers: ProducerState.ProducerState
  logStartOffset: number
  /** Everything below it is fsynced. */
  recoveryPoint: number
  /** The recovery point the checkpoint file holds: recovery would start there, so its snapshot is kept. */
  checkpointedRecoveryPoint: number
  unflushedMessages: number
  /** Segments written to since the last fsync. */
  readonly unflushed: Set<Segment.Segment>
  deleted: boolean
}

const active = (p: Partition) => p.segments[p.segments.length - 1]!
const nextOffset = (p: Partition) => active(p).nextOffset

/** The segment holding `offset` (or the first after it when it falls between segments). */
const segmentFor = (p: Partition, offset: number): number => {
  let lo = 0
  let hi = p.segments.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (p.segments[mid]!.baseOffset <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** A segment file is removed at once, but an open handle stays usable this long for reads already under way. */
const DELETE_DELAY = Duration.seconds(60)

export const layer = Layer.effect(
  LogStore,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    // Files live in a child scope, closed after the final flush below.
    const scope = yield* Scope.fork(yield* Effect.scope)
    const partitions = new Map<string, Partition>()
    /** Partitions deleted since start: they must not come back by being read or written. */
    const deleted = new Set<string>()
    const openLock = yield* Semaphore.make(1)
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
    const logDir = config.logDir

    const storageError = (name: string) => (cause: PlatformError) => new StorageError({ partition: name, cause })

    // --- What the last run left behind

    yield* fs.makeDirectory(logDir, { recursive: true })
    const readText = (name: string) =>
      fs.readFileString(`${logDir}/${name}`).pipe(Effect.catchTag("PlatformError", () => Effect.succeed("")))
    const checkpoint = (text: string) => new Map((parseCheckpoint(text) ?? []).map((e) => [partitionName(e), e.offset]))
    const clean = yield* fs.exists(`${logDir}/${CLEAN_SHUTDOWN}`)
    const recoveryPoints = checkpoint(yield* readText(RECOVERY_POINTS))
    const logStarts = checkpoint(yield* readText(LOG_START_OFFSETS))
    // From now on a crash must be recovered from: the marker goes until the next clean shutdown.
    yield* fs.remove(`${logDir}/${CLEAN_SHUTDOWN}`, { force: true })

    /** Per-topic settings, parsed once per version of the topic's configs. */
    const settingsCache = new WeakMap<object, ReturnType<typeof settingsOf>>()
    const settingsOf = (configs: ReadonlyMap<string, string>) => ({
      segmentBytes: topicSetting(config, configs, "segment.bytes"),
      segmentMs: topicSetting(config, configs, "segment.ms"),
      indexIntervalBytes: topicSetting(config, configs, "index.interval.bytes"),
      retentionMs: topicSetting(config, configs, "retention.ms"),
      retentionBytes: topicSetting(config, configs, "retention.bytes"),
      // A compact-only topic keeps its segments: retention deletes only under the "delete" policy.
      deletes: (configs.get("cleanup.policy") ?? "delete").split(",").some((v) => v.trim() === "delete")
    })
    const noOverrides = new Map<string, string>()
    const settings = Effect.fnUntraced(function*(p: Partition) {
      const configs = (yield* metadata.image).topics.get(p.tp.topic)?.configs ?? noOverrides
      let s = settingsCache.get(configs)
      if (s === undefined) settingsCache.set(configs, (s = settingsOf(configs)))
      return s
    })

    // --- Opening a partition

    const open = (tp: TopicPartition): Effect.Effect<Partition, StorageError | UnknownTopicOrPartition> => {
      const name = partitionName(tp)
      const existing = partitions.get(name)
      if (existing !== undefined) return Effect.succeed(existing)
      return openLock.withPermit(Effect.suspend((): Effect.Effect<Partition, StorageError | UnknownTopicOrPartition> => {
        if (deleted.has(name)) return Effect.fail(new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition }))
        const again = partitions.get(name)
        return again !== undefined ? Effect.succeed(again) : load(tp, name)
      }))
    }

    const load = (tp: TopicPartition, name: string) =>
      Effect.gen(function*() {
        const dir = `${logDir}/${name}`
        yield* fs.makeDirectory(dir, { recursive: true })
        const files = yield* fs.readDirectory(dir)
        const bases = files.map((f) => fileOffset(f, "log")).filter((o) => o !== undefined).sort((a, b) => a - b)
        const snapshots = new Set(files.map((f) => fileOffset(f, "snapshot")).filter((o) => o !== undefined))
        if (bases.length === 0) bases.push(0)
        const segments = bases.map((base) => Segment.newSegment(dir, base))
        for (let i = 0; i + 1 < segments.length; i++) segments[i]!.nextOffset = segments[i + 1]!.baseOffset
        const p: Partition = {
          tp,
          name,
          dir,
          lock: Semaphore.makeUnsafe(1),
          segments,
          producers: ProducerState.empty(),
          logStartOffset: Math.max(segments[0]!.baseOffset, logStarts.get(name) ?? 0),
          recoveryPoint: 0,
          checkpointedRecoveryPoint: recoveryPoints.get(name) ?? 0,
          unflushedMessages: 0,
          unflushed: new Set(),
          deleted: false
        }
        const { indexIntervalBytes } = yield* settings(p)
        const readSnapshot = (offset: number) =>
          Effect.map(fs.readFile(`${dir}/${snapshotFile(offset)}`), (bytes) => ProducerState.fromSnapshot(decodeProducerSnapshot(bytes)))

        const last = segments[segments.length - 1]!
        const lastFile = yield* Segment.open(fs, last, scope)
        if (clean && (yield* Segment.resumeTail(fs, lastFile, last))) {
          p.recoveryPoint = last.nextOffset
          const snapshot = snapshots.has(last.nextOffset)
            ? yield* readSnapshot(last.nextOffset).pipe(Effect.option)
            : undefined
          if (snapshot?._tag === "Some") {
            p.producers = snapshot.value
          } else {
            // No usable snapshot: the producers are rebuilt from every batch header.
            yield* recoverFrom(p, 0, ProducerState.empty(), indexIntervalBytes)
          }
        } else {
          // Unclean: start where the log was last known to be on disk, with the producers as they were there.
          let from = recoveryPoints.get(name) ?? 0
          let producers = ProducerState.empty()
          const snapshot = from > 0 && snapshots.has(from) ? yield* readSnapshot(from).pipe(Effect.option) : undefined
          if (snapshot?._tag === "Some") producers = snapshot.value
          else from = 0
          yield* recoverFrom(p, from, producers, indexIntervalBytes)
        }
        partitions.set(name, p)
        return p
      }).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(storageError(name)(e))))

    /** Validates the segments from the one holding `from` on, rebuilding indexes and producers; cuts a bad tail. */
    const recoverFrom = Effect.fnUntraced(function*(
      p: Partition,
      from: number,
      producers: ProducerState.ProducerState,
      indexIntervalBytes: number
    ) {
      const start = segmentFor(p, from)
      for (let i = start; i < p.segments.length; i++) {
        const segment = p.segments[i]!
        const file = yield* Segment.open(fs, segment, scope)
        const fileSize = segment.size
        const { validBytes, problem } = yield* Segment.recover(file, segment, indexIntervalBytes, (header) => {
          if (header.baseOffset >= from) ProducerState.observe(producers, header)
        })
        if (problem === undefined) continue
        const dropped = p.segments.slice(i + 1)
        yield* Effect.logWarning(
          `${Segment.logPath(segment)}: ${problem}; truncating ${fileSize - validBytes} bytes after the last valid batch` +
            (dropped.length > 0 ? ` and deleting ${dropped.length} later segments` : "")
        )
        yield* file.truncate(validBytes)
        segment.size = validBytes
        for (const d of dropped) yield* deleteSegmentFiles(d)
        p.segments.length = i + 1
        break
      }
      p.producers = producers
      // What was just validated is made durable and becomes the new recovery point, with its snapshot.
      for (let i = start; i < p.segments.length; i++) p.unflushed.add(p.segments[i]!)
      yield* flush(p)
      yield* snapshotProducers(p)
    })

    const deleteSegmentFiles = (s: Segment.Segment) =>
      Effect.gen(function*() {
        for (const name of [segmentFile(s.baseOffset), indexFile(s.baseOffset), timeIndexFile(s.baseOffset)]) {
          yield* fs.remove(`${s.dir}/${name}`, { force: true })
        }
        // Reads already under way keep their handle a while; the file itself is gone (unlinked) at once.
        if (s.scope !== undefined) {
          const segmentScope = s.scope
          yield* Effect.forkIn(Effect.andThen(Effect.sleep(DELETE_DELAY), Scope.close(segmentScope, Exit.void)), scope)
        }
      })

    const notify = (name: string) => {
      const set = waiters.get(name)
      if (set === undefined) return
      waiters.delete(name)
      for (const d of set) Deferred.doneUnsafe(d, Effect.void)
    }

    // --- Appending

    /** Starts a new active segment at the log end; the old one's indexes are sealed and written. */
    /**
     * Starts a new active segment at the log end. The old one is sealed, its indexes written and its data
     * fsynced, so the recovery point moves to the new segment, with a producer snapshot there (as Kafka does).
     */
    const roll = (p: Partition) =>
      Effect.gen(function*() {
        const old = active(p)
        Segment.seal(old)
        yield* Segment.writeIndexes(fs, old).pipe(Effect.mapError(storageError(p.name)))
        const next = Segment.newSegment(p.dir, old.nextOffset)
        Segment.emptyIndexes(next)
        yield* Segment.open(fs, next, scope).pipe(Effect.mapError(storageError(p.name)))
        p.segments.push(next)
        yield* flush(p)
        yield* snapshotProducers(p)
      })

    const append = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      Effect.flatMap(open(tp), (p) => p.lock.withPermit(appendLocked(p, batch, header)))

    /** The append itself, under the partition's lock, and not interruptible once it has started writing. */
    const appendLocked = (p: Partition, batch: Uint8Array, header: BatchHeader) =>
      Effect.gen(function*() {
        if (p.deleted) return yield* new UnknownTopicOrPartition(p.tp)
        const checked = ProducerState.check(p.producers, header)
        if (checked._tag === "Duplicate") {
          return { baseOffset: checked.baseOffset, logStartOffset: p.logStartOffset, duplicate: true } satisfies AppendResult
        }
        if (checked._tag !== "Append") return yield* checked
        const s = yield* settings(p)
        const now = yield* Clock.currentTimeMillis
        let segment = active(p)
        // A segment loaded at start has no first append yet (-1): it ages from its first append in this run.
        const aged = segment.firstAppendAt >= 0 && now - segment.firstAppendAt >= s.segmentMs
        if (segment.size > 0 && (segment.size + batch.length > s.segmentBytes || aged)) {
          yield* roll(p)
          segment = active(p)
        }
        const file = segment.file ?? (yield* Segment.open(fs, segment, scope).pipe(Effect.mapError(storageError(p.name))))
        const baseOffset = segment.nextOffset
        const position = segment.size
        // The CRC starts at byte 21, so the offset can be patched into the produced bytes as they are.
        setBaseOffset(batch, 0, baseOffset)
        yield* file.writeAll(batch).pipe(
          Effect.catch((e) => Effect.andThen(Effect.ignore(file.truncate(position)), Effect.fail(new StorageError({ partition: p.name, cause: e }))))
        )
        segment.size = position + batch.length
        if (segment.firstAppendAt < 0) segment.firstAppendAt = now
        Segment.indexBatch(segment, header, position, s.indexIntervalBytes, baseOffset)
        checked.record(baseOffset)
        p.unflushed.add(segment)
        p.unflushedMessages += header.recordCount
        if (p.unflushedMessages >= config.flushIntervalMessages) yield* flush(p)
        notify(p.name)
        return { baseOffset, logStartOffset: p.logStartOffset, duplicate: false } satisfies AppendResult
      }).pipe(Effect.uninterruptible)

    /** fsyncs what was written since the last flush; the recovery point moves to the log end. */
    const flush = (p: Partition) =>
      Effect.gen(function*() {
        for (const s of p.unflushed) if (s.file !== undefined) yield* s.file.sync
        p.unflushed.clear()
        p.unflushedMessages = 0
        p.recoveryPoint = nextOffset(p)
      }).pipe(Effect.mapError(storageError(p.name)))

    // --- Creating and deleting partitions

    const createPartition = (tp: TopicPartition) =>
      Effect.suspend(() => {
        deleted.delete(partitionName(tp))
        return Effect.asVoid(open(tp))
      }).pipe(Effect.catchTag("UnknownTopicOrPartition", () => Effect.void))

    const deletePartition = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const name = partitionName(tp)
        yield* openLock.withPermit(Effect.sync(() => deleted.add(name)))
        const p = partitions.get(name)
        if (p !== undefined) {
          yield* p.lock.withPermit(Effect.gen(function*() {
            p.deleted = true
            partitions.delete(name)
            for (const s of p.segments) yield* Segment.close(s)
          }))
          notify(name)
        }
        yield* fs.remove(`${logDir}/${name}`, { recursive: true, force: true }).pipe(Effect.mapError(storageError(name)))
      })

    // --- Reading

    /**
     * A segment ready for reading: its file open, its indexes loaded (old segments are opened lazily, never
     * created: the active one is always open already).
     */
    const ready = (p: Partition, s: Segment.Segment) =>
      Effect.gen(function*() {
        const file = yield* Segment.open(fs, s, scope, false)
        yield* Segment.loadIndexes(fs, s)
        return file
      }).pipe(Effect.mapError(storageError(p.name)))

    const read = (tp: TopicPartition, offset: number, maxBytes: number, minOneBatch: boolean) =>
      Effect.flatMap(open(tp), (p): Effect.Effect<ReadResult, OffsetOutOfRange | StorageError> =>
        Effect.gen(function*() {
          const logEndOffset = nextOffset(p)
          const offsets = { logStartOffset: p.logStartOffset, logEndOffset }
          if (offset < p.logStartOffset || offset > logEndOffset) {
            return yield* new OffsetOutOfRange({ offset, ...offsets })
          }
          // The segment list may change under a read (retention): work on the segments as they are now.
          const segments = p.segments.slice()
          for (let i = segmentFor(p, offset); i < segments.length; i++) {
            const s = segments[i]!
            if (s.nextOffset <= offset && i < segments.length - 1) continue
            const file = yield* ready(p, s).pipe(
              // Deleted (retention, DeleteRecords) before this read could open it: now below the log start.
              Effect.catchTag("StorageError", (e): Effect.Effect<never, StorageError | OffsetOutOfRange> =>
                p.segments.includes(s)
                  ? Effect.fail(e)
                  : Effect.fail(new OffsetOutOfRange({ offset, logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p) })))
            )
            const records = yield* Segment.read(file, s, Math.max(offset, s.baseOffset), maxBytes, minOneBatch).pipe(
              Effect.mapError(storageError(p.name))
            )
            if (records.length > 0 || i === segments.length - 1) return { ...offsets, records }
          }
          return { ...offsets, records: new Uint8Array(0) }
        }))

    const offsets = (tp: TopicPartition) =>
      Effect.map(open(tp), (p) => ({ logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p) }))

    const offsetForTimestamp = (tp: TopicPartition, timestamp: number) =>
      Effect.flatMap(open(tp), (p) =>
        Effect.gen(function*() {
          const segments = p.segments.slice()
          // Choosing a segment needs only the time indexes; only the chosen segment's log is opened.
          for (const s of segments) yield* Segment.loadIndexes(fs, s).pipe(Effect.mapError(storageError(p.name)))
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
          const file = yield* ready(p, chosen)
          const found = yield* Segment.findBatch(file, chosen, from, (h) => h.maxTimestamp >= target).pipe(
            Effect.mapError(storageError(p.name))
          )
          if (found === undefined) return undefined
          const { header, bytes } = found
          // Compressed batches are not opened: their first offset stands for the whole batch.
          if ((header.attributes & COMPRESSION_MASK) !== 0) return { offset: Math.max(from, header.baseOffset), timestamp: header.maxTimestamp }
          const record = decodeRecords(bytes).find((r) => r.offset >= from && (maxMode ? r.timestamp === target : r.timestamp >= target))
          return record === undefined
            ? { offset: header.baseOffset, timestamp: header.maxTimestamp }
            : { offset: record.offset, timestamp: record.timestamp }
        }))

    // --- Log start, retention

    /** Drops the oldest segments that lie wholly below the log start or that `expired` says go. */
    const dropSegments = (p: Partition, expired: (s: Segment.Segment, remaining: number) => boolean) =>
      Effect.gen(function*() {
        let remaining = 0
        for (const s of p.segments) {
          if (s.size < 0) s.size = Number((yield* fs.stat(Segment.logPath(s))).size)
          remaining += s.size
        }
        let dropped = 0
        // The active segment stays, and only a prefix of the log can go.
        while (p.segments.length > 1) {
          const s = p.segments[0]!
          if (!(s.nextOffset <= p.logStartOffset || expired(s, remaining))) break
          p.segments.shift()
          p.unflushed.delete(s)
          remaining -= s.size
          yield* deleteSegmentFiles(s)
          dropped++
        }
        if (dropped > 0) {
          p.logStartOffset = Math.max(p.logStartOffset, p.segments[0]!.baseOffset)
          yield* Effect.logInfo(`${p.name}: deleted ${dropped} segments; log start offset ${p.logStartOffset}`)
        }
        return dropped
      }).pipe(Effect.mapError(storageError(p.name)))

    const writeCheckpoint = (name: string, entries: ReadonlyArray<{ topic: string; partition: number; offset: number }>) =>
      Effect.gen(function*() {
        // Written whole, then renamed over the old one: a crash leaves either the old file or the new one.
        const path = `${logDir}/${name}`
        yield* fs.writeFileString(`${path}.tmp`, formatCheckpoint(entries))
        yield* fs.rename(`${path}.tmp`, path)
      })

    const logStartCheckpoint = Effect.suspend(() =>
      writeCheckpoint(LOG_START_OFFSETS, [...partitions.values()].map((p) => ({ ...p.tp, offset: p.logStartOffset })))
    )

    const deleteRecords = (tp: TopicPartition, offset: number) =>
      Effect.flatMap(open(tp), (p) =>
        p.lock.withPermit(Effect.gen(function*() {
          const end = nextOffset(p)
          const target = offset === -1 ? end : offset
          if (target < 0 || target > end) {
            return yield* new OffsetOutOfRange({ offset: target, logStartOffset: p.logStartOffset, logEndOffset: end })
          }
          if (target > p.logStartOffset) {
            p.logStartOffset = target
            yield* dropSegments(p, () => false)
            yield* logStartCheckpoint.pipe(Effect.mapError(storageError(p.name)))
          }
          return p.logStartOffset
        })))

    const enforceRetention = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let changed = false
      for (const p of [...partitions.values()]) {
        const s = yield* settings(p)
        if (!s.deletes || (!Number.isFinite(s.retentionMs) && !Number.isFinite(s.retentionBytes))) continue
        const dropped = yield* p.lock.withPermit(Effect.gen(function*() {
          if (p.deleted) return 0
          // Retention by time reads each closed segment's largest timestamp from its time index.
          if (Number.isFinite(s.retentionMs)) for (const seg of p.segments) yield* Segment.loadIndexes(fs, seg).pipe(Effect.mapError(storageError(p.name)))
          return yield* dropSegments(p, (seg, remaining) =>
            (seg.largestTimestamp >= 0 && seg.largestTimestamp < now - s.retentionMs) ||
            remaining - seg.size >= s.retentionBytes)
        }))
        if (dropped > 0) changed = true
      }
      if (changed) yield* logStartCheckpoint.pipe(Effect.mapError(storageError(LOG_START_OFFSETS)))
    }).pipe(Effect.catch((e) => Effect.logError(`retention: ${e.message}`)))

    // --- Waiting for appends

    const awaitAppend = (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) =>
      Effect.suspend(() => {
        const names = seen.map(partitionName)
        if (seen.some((s, i) => {
          const p = partitions.get(names[i]!)
          return p === undefined || nextOffset(p) !== s.logEndOffset
        })) return Effect.void
        const d = Deferred.makeUnsafe<void>()
        for (const name of names) {
          let set = waiters.get(name)
          if (set === undefined) waiters.set(name, (set = new Set()))
          set.add(d)
        }
        return Deferred.await(d).pipe(
          Effect.timeoutOption(timeout),
          Effect.ensuring(Effect.sync(() => {
            for (const name of names) waiters.get(name)?.delete(d)
          })),
          Effect.asVoid
        )
      })

    // --- Flushing and shutting down

    const recoveryPointCheckpoint = Effect.suspend(() => {
      const all = [...partitions.values()]
      return writeCheckpoint(RECOVERY_POINTS, all.map((p) => ({ ...p.tp, offset: p.recoveryPoint }))).pipe(
        Effect.mapError(storageError(RECOVERY_POINTS)),
        Effect.andThen(Effect.forEach(all, (p) =>
          p.checkpointedRecoveryPoint === p.recoveryPoint
            ? Effect.void
            : Effect.suspend(() => {
              p.checkpointedRecoveryPoint = p.recoveryPoint
              return pruneSnapshots(p)
            }), { discard: true }))
      )
    })

    /** The producers at the recovery point, so that recovery from it starts with them; older snapshots go. */
    const snapshotProducers = (p: Partition) =>
      Effect.gen(function*() {
        yield* fs.writeFile(`${p.dir}/${snapshotFile(p.recoveryPoint)}`, encodeProducerSnapshot(ProducerState.toSnapshot(p.producers)))
      }).pipe(Effect.mapError(storageError(p.name)))

    /** Snapshots below the checkpointed recovery point can no longer be needed: recovery starts there. */
    const pruneSnapshots = (p: Partition) =>
      Effect.gen(function*() {
        for (const f of yield* fs.readDirectory(p.dir)) {
          const offset = fileOffset(f, "snapshot")
          if (offset !== undefined && offset < p.checkpointedRecoveryPoint) yield* fs.remove(`${p.dir}/${f}`, { force: true })
        }
      }).pipe(Effect.mapError(storageError(p.name)))

    const flushAll = Effect.forEach([...partitions.values()], (p) =>
      p.unflushed.size === 0
        ? Effect.void
        : p.lock.withPermit(Effect.andThen(flush(p), snapshotProducers(p))), { discard: true }).pipe(
      Effect.andThen(recoveryPointCheckpoint)
    )

    if (Number.isFinite(config.flushIntervalMs)) {
      yield* flushAll.pipe(
        Effect.catch((e) => Effect.logError(`flush: ${e.message}`)),
        Effect.delay(Duration.millis(config.flushIntervalMs)),
        Effect.forever,
        Effect.forkIn(scope)
      )
    }
    yield* enforceRetention.pipe(
      Effect.delay(Duration.millis(config.logRetentionCheckIntervalMs)),
      Effect.forever,
      Effect.forkIn(scope)
    )

    /** A clean shutdown: everything fsynced, indexes and producer snapshots written, then the marker. */
    const shutdown = Effect.gen(function*() {
      for (const p of [...partitions.values()]) {
        yield* p.lock.withPermit(Effect.gen(function*() {
          for (const s of p.segments) yield* Segment.writeIndexes(fs, s).pipe(Effect.mapError(storageError(p.name)))
          yield* flush(p)
          yield* snapshotProducers(p)
        }))
      }
      yield* recoveryPointCheckpoint
      yield* logStartCheckpoint
      yield* fs.writeFileString(`${logDir}/${CLEAN_SHUTDOWN}`, "")
    }).pipe(Effect.catch((e) => Effect.logError(`unclean shutdown, the next start will recover: ${e.message}`)))
    yield* Effect.addFinalizer(() => shutdown)

    // Open every partition the metadata names before serving, then record where a crash would recover from.
    const image = yield* metadata.image
    yield* Effect.forEach(image.topics.values(), (topic) =>
      Effect.forEach(topic.partitions, (p) => open({ topic: topic.name, partition: p.index }), { discard: true }), {
      discard: true
    })
    yield* recoveryPointCheckpoint
    // As Kafka's log.flush.offset.checkpoint.interval.ms: the recovery points moved by rolls get recorded.
    yield* recoveryPointCheckpoint.pipe(
      Effect.catch((e) => Effect.logError(`recovery point checkpoint: ${e.message}`)),
      Effect.delay(Duration.minutes(1)),
      Effect.forever,
      Effect.forkIn(scope)
    )

    return LogStore.of({
      createPartition,
      deletePartition,
      append,
      read,
      offsets,
      offsetForTimestamp,
      deleteRecords,
      enforceRetention,
      awaitAppend
    })
  })
)
