// The LogStore over Effect's FileSystem, in Kafka's layout: `<log.dir>/<topic>-<partition>/` holds segments
// (`<base offset>.log`, RecordBatch v2 exactly as produced, offsets assigned) with their sparse offset and time
// indexes, and `<offset>.snapshot` files of the idempotent producers. The decisions are the partition's and the
// segment's (services/log/); this shell does the I/O, in pieces: Loading (first use, recovery), Appending,
// Reading, Retention (and checkpoints); SegmentFiles bounds the open files.
//
// Partitions cost nothing until used: a partition's directory is made by its first append, its state is loaded
// on first use, and segment files are opened on demand with at most `log.max.open.files` open at once, so a broker
// with tens of thousands of partitions starts at once. After a crash every partition with data is recovered
// before the broker serves. A failing file system (full, read-only, I/O errors) fails the partition's request
// with KAFKA_STORAGE_ERROR and a log line naming the file; the broker keeps serving.
import { Deferred, Duration, Effect, FileSystem, Layer, Schedule, Scope } from "effect"
import { CLEAN_SHUTDOWN, fileOffset } from "../../protocol/logdir/LogFiles.ts"
import type { BatchHeader } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { type StorageError, UnknownTopicOrPartition } from "../../services/Errors.ts"
import { DiskSpace } from "../../services/log/DiskSpace.ts"
import { LogStore, partitionName, type SeenEnd, type TopicPartition } from "../../services/log/LogStore.ts"
import { lastStableOffset, nextOffset, type Partition } from "../../services/log/Partition.ts"
import * as Segment from "../../services/log/Segment.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { BufferPool } from "../../services/network/BufferPool.ts"
import { appendLocked, appendMarkerLocked, flush, snapshotProducers } from "./Appending.ts"
import { partitionOf } from "./Loading.ts"
import * as LogDir from "./LogDir.ts"
import * as Cleaner from "./Cleaner.ts"
import * as Reading from "./Reading.ts"
import * as Retention from "./Retention.ts"
import * as SegmentIO from "./SegmentIO.ts"

/** The size from which the live file system writes on the thread pool (layers/fs/NodeFileSystem.ts). */
const LARGE_BATCH_BYTES = 256 * 1024

export const make = Effect.gen(function*() {
  // Files live in a child scope, closed after the final flush.
  const scope = yield* Scope.fork(yield* Effect.scope)
  const dir = yield* LogDir.open(yield* FileSystem.FileSystem, yield* BrokerConfig, yield* ClusterMetadata, yield* BufferPool, scope)
  const { fs, config } = dir
  const logFailure = (what: string) => (e: StorageError) => Effect.logError(`${what}: ${e.message}`)

  const createPartition = (tp: TopicPartition) =>
    Effect.gen(function*() {
      const name = partitionName(tp)
      dir.deleted.delete(name)
      dir.partitions.delete(name)
      dir.recoveryPoints.delete(name)
      dir.logStarts.delete(name)
      dir.cleanerOffsets.delete(name)
      // A new partition starts empty: a directory of that name is left over from an older topic.
      if (dir.onDisk.delete(name)) {
        yield* Effect.logWarning(`${dir.path}/${name} is left over from an earlier topic of that name; deleting it`)
        yield* fs.remove(`${dir.path}/${name}`, { recursive: true, force: true })
      }
    }).pipe(Effect.mapError(LogDir.storageError(partitionName(tp), `${dir.path}/${partitionName(tp)}`)))

  const deletePartition = (tp: TopicPartition) =>
    Effect.gen(function*() {
      const name = partitionName(tp)
      yield* dir.loadLock.withPermit(Effect.sync(() => dir.deleted.add(name)))
      dir.onDisk.delete(name)
      dir.recoveryPoints.delete(name)
      dir.logStarts.delete(name)
      dir.cleanerOffsets.delete(name)
      const p = dir.partitions.get(name)
      if (p !== undefined) {
        yield* p.lock.withPermit(Effect.gen(function*() {
          p.deleted = true
          dir.partitions.delete(name)
          for (const s of p.segments) {
            s.deleted = true
            yield* dir.files.close(s)
          }
        }))
        LogDir.notify(dir, name)
      }
      yield* fs.remove(`${dir.path}/${name}`, { recursive: true, force: true }).pipe(Effect.mapError(LogDir.storageError(name, `${dir.path}/${name}`)))
    })

  const awaitAppend = (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) =>
    Effect.suspend(() => {
      const names = seen.map(partitionName)
      if (seen.some((s, i) => {
        const p = dir.partitions.get(names[i]!)
        return p === undefined || nextOffset(p) !== s.logEndOffset
      })) return Effect.void
      const d = Deferred.makeUnsafe<void>()
      for (const name of names) {
        let set = dir.waiters.get(name)
        if (set === undefined) dir.waiters.set(name, (set = new Set()))
        set.add(d)
      }
      return Deferred.await(d).pipe(
        Effect.timeoutOption(timeout),
        Effect.ensuring(Effect.sync(() => {
          for (const name of names) dir.waiters.get(name)?.delete(d)
        })),
        Effect.asVoid
      )
    })

  // The partitions as they are at each run (not as they were when the store started).
  const flushAll = Effect.suspend(() =>
    Effect.forEach([...dir.partitions.values()], (p) =>
      p.unflushed.size === 0 ? Effect.void : p.lock.withPermit(Effect.andThen(flush(dir, p), snapshotProducers(dir, p))), { discard: true })
  ).pipe(Effect.andThen(Retention.recoveryPointCheckpoint(dir)))

  /** A clean shutdown: everything fsynced, indexes and producer snapshots written, then the marker. */
  const shutdown = Effect.gen(function*() {
    for (const p of [...dir.partitions.values()]) {
      yield* p.lock.withPermit(Effect.gen(function*() {
        if (!p.dirMade) return
        for (const s of p.segments) yield* SegmentIO.writeIndexes(fs, s).pipe(Effect.mapError(LogDir.storageError(p.name, Segment.indexPath(s))))
        yield* flush(dir, p)
        yield* snapshotProducers(dir, p)
      }))
    }
    yield* Retention.recoveryPointCheckpoint(dir)
    yield* Retention.logStartCheckpoint(dir)
    yield* fs.writeFileString(`${dir.path}/${CLEAN_SHUTDOWN}`, "").pipe(Effect.mapError(LogDir.storageError(CLEAN_SHUTDOWN, `${dir.path}/${CLEAN_SHUTDOWN}`)))
  }).pipe(Effect.catch((e) => Effect.logError(`unclean shutdown, the next start will recover: ${e.message}`)))
  yield* Effect.addFinalizer(() => shutdown)

  // After a crash every partition is recovered before the broker serves; after a clean shutdown each is loaded
  // when first used. Then the recovery points are recorded where a crash would recover from.
  if (!dir.clean) {
    const recovered = yield* Retention.everyPartition(dir)
    if (recovered.length > 0) yield* Effect.logInfo(`recovered ${recovered.length} partitions after an unclean shutdown`)
  }
  const checkpoint = Retention.recoveryPointCheckpoint(dir).pipe(Effect.catch(logFailure("recovery point checkpoint")))
  yield* checkpoint

  const every = (ms: number, task: Effect.Effect<void>) => Effect.forkIn(Effect.schedule(task, Schedule.spaced(Duration.millis(ms))), scope)
  const enforceRetention = Retention.enforceRetention(dir)
  // The flush interval is read at every turn: a dynamic `log.flush.interval.ms` applies without a restart
  // (within a minute when flushing by time was off).
  const flushing = Effect.gen(function*() {
    for (;;) {
      const ms = (yield* LogDir.currentConfig(dir)).flushIntervalMs
      yield* Effect.sleep(Duration.millis(Number.isFinite(ms) ? ms : 60_000))
      if (Number.isFinite(ms)) yield* flushAll.pipe(Effect.catch(logFailure("flush")))
    }
  })
  yield* Effect.forkIn(flushing, scope)
  yield* every(config.logRetentionCheckIntervalMs, enforceRetention)
  // As Kafka's log.flush.offset.checkpoint.interval.ms: the recovery points moved by rolls get recorded.
  yield* every(60_000, checkpoint)
  // The cleaner goes on while it finds logs to clean, and backs off when it finds none.
  const clean = Cleaner.cleanLogs(dir)
  if (config.logCleanerEnable) {
    const backoff = Effect.flatMap(LogDir.currentConfig(dir), (c) => Effect.sleep(Duration.millis(c.logCleanerBackoffMs)))
    yield* Effect.forkIn(Effect.andThen(backoff, Effect.forever(Effect.flatMap(clean, (done) => (done.length === 0 ? backoff : Effect.yieldNow)))), scope)
  }

  const space = yield* DiskSpace
  /** Segment sizes from what the partition knows, else from the file system: a loaded partition's files, or the
   * `.log` files of a directory not loaded yet (a segment deleted meanwhile counts nothing). */
  const partitionSize = (tp: TopicPartition) =>
    Effect.gen(function*() {
      const name = partitionName(tp)
      if (dir.deleted.has(name)) return yield* new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition })
      const path = `${dir.path}/${name}`
      const sizeOf = (file: string) =>
        fs.stat(file).pipe(
          Effect.map((info) => Number(info.size)),
          Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.succeed(0)),
          Effect.mapError(LogDir.storageError(name, file))
        )
      const p = dir.partitions.get(name)
      if (p !== undefined) {
        let bytes = 0
        for (const s of [...p.segments]) bytes += s.size >= 0 ? s.size : yield* sizeOf(Segment.logPath(s))
        return bytes
      }
      if (!dir.onDisk.has(name)) return 0
      const files = yield* fs.readDirectory(path).pipe(
        Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.succeed([] as Array<string>)),
        Effect.mapError(LogDir.storageError(name, path))
      )
      let bytes = 0
      for (const f of files) if (fileOffset(f, "log") !== undefined) bytes += yield* sizeOf(`${path}/${f}`)
      return bytes
    })

  const append = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
    Effect.flatMap(partitionOf(dir, tp), (p) => p.lock.withPermit(appendLocked(dir, p, batch, header)))

  const offsetsOf = (p: Partition) => ({ logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p), lastStableOffset: lastStableOffset(p) })

  return LogStore.of({
    createPartition,
    deletePartition,
    append,
    appendAll: (appends) => {
      // Large batches are written on the thread pool (the live file system's choice): a request's are then
      // written side by side rather than each waiting for the one before. Small ones are written on the
      // event loop, one after another, for less than it would take to run them side by side.
      let large = 0
      for (const a of appends) if (a.batch.length >= LARGE_BATCH_BYTES) large++
      return Effect.forEach(appends, (a) => Effect.result(append(a.tp, a.batch, a.header)), large > 1 ? { concurrency: "unbounded" } : undefined)
    },
    writeMarker: (tp, marker) => Effect.flatMap(partitionOf(dir, tp), (p) => p.lock.withPermit(appendMarkerLocked(dir, p, marker))),
    flush: (tp) => Effect.flatMap(partitionOf(dir, tp), (p) => p.lock.withPermit(flush(dir, p))),
    read: (tp, offset, maxBytes, minOneBatch, isolation) =>
      Effect.flatMap(partitionOf(dir, tp), (p) => Reading.read(dir, p, offset, maxBytes, minOneBatch, isolation)),
    offsets: (tp) => Effect.map(partitionOf(dir, tp), offsetsOf),
    producers: (tp) =>
      Effect.map(partitionOf(dir, tp), (p) =>
        [...p.producers.producers].map(([producerId, e]) => ({
          producerId,
          producerEpoch: e.epoch,
          lastSequence: e.batches.at(-1)?.lastSequence ?? -1,
          lastTimestamp: e.lastTimestamp,
          coordinatorEpoch: e.coordinatorEpoch,
          currentTxnStartOffset: e.currentTxnFirstOffset
        }))),
    offsetForTimestamp: (tp, timestamp) => Effect.flatMap(partitionOf(dir, tp), (p) => Reading.offsetForTimestamp(dir, p, timestamp)),
    deleteRecords: (tp, offset) => Effect.flatMap(partitionOf(dir, tp), (p) => Retention.deleteRecords(dir, p, offset)),
    enforceRetention,
    clean,
    awaitAppend,
    describeLogDir: space.describe(dir.path),
    partitionSize
  })
})

export const layer = Layer.effect(LogStore, make)
