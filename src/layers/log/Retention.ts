// What keeps the log dir bounded and its recovery cheap: retention deleting whole segments (the partition decides
// which: services/log/Partition.ts), DeleteRecords moving the log start offset, and Kafka's checkpoint files
// (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`, written whole and renamed into place) with
// the producer snapshots they make unnecessary pruned.
import { Clock, Effect } from "effect"
import { type CheckpointEntry, fileOffset, formatCheckpoint, LOG_START_OFFSETS, RECOVERY_POINTS } from "../../protocol/logdir/LogFiles.ts"
import { OffsetOutOfRange } from "../../services/Errors.ts"
import { partitionName } from "../../services/log/LogStore.ts"
import { type LogSettings, nextOffset, type Partition, retains, segmentsToDrop } from "../../services/log/Partition.ts"
import * as Segment from "../../services/log/Segment.ts"
import { deleteSegmentFiles, partitionOf } from "./Loading.ts"
import { type LogDir, settings, storageError } from "./LogDir.ts"
import { ensureIndexes } from "./Reading.ts"

/**
 * Every partition the metadata names that holds data (loading those not loaded yet), for work that covers them
 * all: recovery after a crash, retention.
 */
export const everyPartition = (dir: LogDir) =>
  Effect.gen(function*() {
    const image = yield* dir.metadata.image
    const out: Array<Partition> = []
    for (const topic of image.topics.values()) {
      for (const info of topic.partitions) {
        const tp = { topic: topic.name, partition: info.index }
        if (!dir.onDisk.has(partitionName(tp))) continue
        const p = yield* partitionOf(dir, tp).pipe(Effect.option)
        if (p._tag === "Some") out.push(p.value)
      }
    }
    return out
  })

/** Drops the oldest segments the partition says go (below the log start, or past retention when given). */
const dropSegments = (dir: LogDir, p: Partition, now: number, retention: LogSettings | undefined) =>
  Effect.gen(function*() {
    for (const s of p.segments) {
      if (s.size < 0) s.size = Number((yield* dir.fs.stat(Segment.logPath(s)).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))).size)
    }
    const dropped = segmentsToDrop(p, now, retention)
    for (const s of p.segments.splice(0, dropped)) {
      p.unflushed.delete(s)
      yield* deleteSegmentFiles(dir, s).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
    }
    if (dropped > 0) {
      p.logStartOffset = Math.max(p.logStartOffset, p.segments[0]!.baseOffset)
      dir.logStarts.set(p.name, { ...p.tp, offset: p.logStartOffset })
      yield* Effect.logInfo(`${p.name}: deleted ${dropped} segments; log start offset ${p.logStartOffset}`)
    }
    return dropped
  })

export const enforceRetention = (dir: LogDir) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    let changed = false
    for (const p of yield* everyPartition(dir)) {
      const s = yield* settings(dir, p)
      if (!retains(p, s)) continue
      const dropped = yield* p.lock.withPermit(Effect.gen(function*() {
        if (p.deleted) return 0
        // Retention by time reads each closed segment's largest timestamp from its time index.
        if (Number.isFinite(s.retentionMs)) for (const seg of p.segments) if (seg.size !== 0) yield* ensureIndexes(dir, p, seg)
        return yield* dropSegments(dir, p, now, s)
      })).pipe(Effect.catch((e) => Effect.as(Effect.logError(`retention: ${e.message}`), 0)))
      if (dropped > 0) changed = true
    }
    if (changed) yield* logStartCheckpoint(dir).pipe(Effect.catch((e) => Effect.logError(`retention: ${e.message}`)))
  })

/** Moves the log start offset up to `offset` (-1: the log end), deleting the segments wholly below it. */
export const deleteRecords = (dir: LogDir, p: Partition, offset: number) =>
  p.lock.withPermit(Effect.gen(function*() {
    const end = nextOffset(p)
    const target = offset === -1 ? end : offset
    if (target < 0 || target > end) return yield* new OffsetOutOfRange({ offset: target, logStartOffset: p.logStartOffset, logEndOffset: end })
    if (target > p.logStartOffset) {
      p.logStartOffset = target
      yield* dropSegments(dir, p, 0, undefined)
      yield* logStartCheckpoint(dir)
    }
    return p.logStartOffset
  }))

/** Written whole, then renamed over the old one: a crash leaves either the old file or the new one. */
export const writeCheckpoint = (dir: LogDir, name: string, entries: Iterable<CheckpointEntry>) =>
  Effect.gen(function*() {
    const path = `${dir.path}/${name}`
    yield* dir.fs.writeFileString(`${path}.tmp`, formatCheckpoint([...entries]))
    yield* dir.fs.rename(`${path}.tmp`, path)
  }).pipe(Effect.mapError(storageError(name, `${dir.path}/${name}`)))

// Partitions not loaded in this run keep the entries the last run wrote for them.
export const logStartCheckpoint = (dir: LogDir) =>
  Effect.suspend(() => {
    for (const p of dir.partitions.values()) dir.logStarts.set(p.name, { ...p.tp, offset: p.logStartOffset })
    return writeCheckpoint(dir, LOG_START_OFFSETS, dir.logStarts.values())
  })

/** Records where a crash would recover from; the producer snapshots below those points go. */
export const recoveryPointCheckpoint = (dir: LogDir) =>
  Effect.suspend(() => {
    const loaded = [...dir.partitions.values()]
    for (const p of loaded) dir.recoveryPoints.set(p.name, { ...p.tp, offset: p.recoveryPoint })
    return writeCheckpoint(dir, RECOVERY_POINTS, dir.recoveryPoints.values()).pipe(
      Effect.andThen(Effect.forEach(loaded, (p) =>
        p.checkpointedRecoveryPoint === p.recoveryPoint
          ? Effect.void
          : Effect.suspend(() => {
            p.checkpointedRecoveryPoint = p.recoveryPoint
            return pruneSnapshots(dir, p)
          }), { discard: true }))
    )
  })

/** Snapshots below the checkpointed recovery point can no longer be needed: recovery starts there. */
const pruneSnapshots = (dir: LogDir, p: Partition) =>
  Effect.gen(function*() {
    if (!p.dirMade) return
    for (const f of yield* dir.fs.readDirectory(p.dir)) {
      const offset = fileOffset(f, "snapshot")
      if (offset !== undefined && offset < p.checkpointedRecoveryPoint) yield* dir.fs.remove(`${p.dir}/${f}`, { force: true })
    }
  }).pipe(Effect.mapError(storageError(p.name, p.dir)))
