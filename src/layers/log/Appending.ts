// Appends, under the partition's lock: the producer's sequence and transaction checked, the segment rolled when
// the segment says so, the batch written with its base offset patched in (the CRC starts at byte 21), the
// indexes and producer state updated, and the waiting long polls woken. A failed write leaves nothing behind.
// A transaction marker closes its producer's transaction; an aborted one goes into the active segment's
// transaction index, and the marker is fsynced before it counts. Flushes fsync what was written and move the
// recovery point; a roll flushes and snapshots the producers there.
import { Clock, Effect } from "effect"
import { type Marker, markerBatch } from "../../protocol/ControlRecords.ts"
import { encodeProducerSnapshot, snapshotFile } from "../../protocol/logdir/LogFiles.ts"
import { type BatchHeader, readHeader, setBaseOffset } from "../../protocol/RecordBatch.ts"
import { type StorageError, UnknownTopicOrPartition } from "../../services/Errors.ts"
import type { AppendResult } from "../../services/log/LogStore.ts"
import { active, nextOffset, type Partition } from "../../services/log/Partition.ts"
import * as ProducerState from "../../services/log/ProducerState.ts"
import * as Segment from "../../services/log/Segment.ts"
import { type LogDir, notify, settings, storageError } from "./LogDir.ts"
import * as SegmentIO from "./SegmentIO.ts"

/**
 * The append itself, under the partition's lock, and not interruptible once it has started writing. Plain
 * steps rather than a generator: every produced batch takes this path, and each step of an effect costs.
 */
export const appendLocked = (dir: LogDir, p: Partition, batch: Uint8Array, header: BatchHeader) =>
  Effect.clockWith((clock): Effect.Effect<AppendResult, AppendFailure> => {
    if (p.deleted) return Effect.fail(new UnknownTopicOrPartition(p.tp))
    const checked = ProducerState.check(p.producers, header)
    if (checked._tag === "Duplicate") {
      return Effect.succeed({ baseOffset: checked.baseOffset, logStartOffset: p.logStartOffset, duplicate: true })
    }
    if (checked._tag !== "Append") return Effect.fail(checked)
    return Effect.map(writeBatch(dir, p, batch, header, clock.currentTimeMillisUnsafe()), (baseOffset) => {
      checked.record(baseOffset)
      notify(dir, p.name)
      return { baseOffset, logStartOffset: p.logStartOffset, duplicate: false }
    })
  }).pipe(Effect.uninterruptible)

type AppendFailure = StorageError | UnknownTopicOrPartition | Exclude<ProducerState.CheckResult, { readonly _tag: "Append" | "Duplicate" }>

/** A transaction marker, under the partition's lock; answers its offset once it is fsynced. */
export const appendMarkerLocked = (dir: LogDir, p: Partition, marker: Marker) =>
  Effect.gen(function*() {
    if (p.deleted) return yield* new UnknownTopicOrPartition(p.tp)
    const now = yield* Clock.currentTimeMillis
    const checked = ProducerState.checkMarker(p.producers, marker, now)
    if (checked._tag !== "Append") return yield* checked
    const batch = markerBatch(marker, now)
    const offset = yield* writeBatch(dir, p, batch, readHeader(batch), now)
    const completed = checked.record(offset)
    if (completed?.aborted === true) {
      const lastStableOffset = ProducerState.firstUnstableOffset(p.producers) ?? offset + 1
      const segment = active(p)
      yield* SegmentIO.appendTxnIndex(dir.fs, segment, { ...completed, lastStableOffset }).pipe(
        Effect.mapError(storageError(p.name, Segment.txnIndexPath(segment)))
      )
    }
    yield* flush(dir, p)
    notify(dir, p.name)
    return offset
  }).pipe(Effect.uninterruptible)

/** Writes a checked batch at the log end (rolling first when due) and indexes it; answers its base offset. */
const writeBatch = (dir: LogDir, p: Partition, batch: Uint8Array, header: BatchHeader, now: number) =>
  Effect.flatMap(settings(dir, p), (s) => {
    // The first append makes the partition's directory; a segment full or old enough rolls first.
    const rolls = Segment.shouldRoll(active(p), batch.length, now, s.segmentBytes, s.segmentMs)
    const ready = !p.dirMade ? Effect.andThen(makeDirectory(dir, p), rolls ? roll(dir, p) : Effect.void) : rolls ? roll(dir, p) : undefined
    const write = Effect.suspend(() => {
      const segment = active(p)
      const baseOffset = segment.nextOffset
      const position = segment.size
      setBaseOffset(batch, 0, baseOffset)
      return dir.files.use(segment, (file) =>
        // Nothing of a failed write may stay: the next batch must start where this one did.
        Effect.catch(file.writeAll(batch), (e) => Effect.andThen(Effect.ignore(file.truncate(position)), Effect.fail(e))), true).pipe(
        Effect.mapError((cause) => storageError(p.name, Segment.logPath(segment))(cause)),
        Effect.flatMap(() => {
          segment.size = position + batch.length
          if (segment.firstAppendAt < 0) segment.firstAppendAt = now
          Segment.indexBatch(segment, header, position, s.indexIntervalBytes, baseOffset)
          p.unflushed.add(segment)
          p.unflushedMessages += header.recordCount
          return p.unflushedMessages >= s.flushMessages ? Effect.as(flush(dir, p), baseOffset) : Effect.succeed(baseOffset)
        })
      )
    })
    return ready === undefined ? write : Effect.andThen(ready, write)
  })

const makeDirectory = (dir: LogDir, p: Partition) =>
  dir.fs.makeDirectory(p.dir, { recursive: true }).pipe(
    Effect.mapError(storageError(p.name, p.dir)),
    Effect.map(() => {
      p.dirMade = true
      dir.onDisk.add(p.name)
    })
  )

/**
 * Starts a new active segment at the log end. The old one is sealed, its indexes written and its data fsynced,
 * so the recovery point moves to the new segment, with a producer snapshot there (as Kafka does).
 */
const roll = (dir: LogDir, p: Partition) =>
  Effect.gen(function*() {
    const old = active(p)
    Segment.seal(old)
    yield* SegmentIO.writeIndexes(dir.fs, old).pipe(Effect.mapError(storageError(p.name, Segment.indexPath(old))))
    const next = Segment.newSegment(p.dir, old.nextOffset)
    Segment.emptyIndexes(next)
    next.size = 0
    yield* dir.files.use(next, () => Effect.void, true).pipe(Effect.mapError(storageError(p.name, Segment.logPath(next))))
    p.segments.push(next)
    yield* flush(dir, p)
    yield* snapshotProducers(dir, p)
  })

/** fsyncs what was written since the last flush; the recovery point moves to the log end. */
export const flush = (dir: LogDir, p: Partition) =>
  Effect.gen(function*() {
    for (const s of p.unflushed) {
      if (!s.deleted && s.size > 0) {
        yield* dir.files.use(s, (file) => file.sync).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
      }
    }
    p.unflushed.clear()
    p.unflushedMessages = 0
    p.recoveryPoint = nextOffset(p)
  })

/** The producers at the recovery point, so that recovery from it starts with them. */
export const snapshotProducers = (dir: LogDir, p: Partition) => {
  if (!p.dirMade) return Effect.void
  const path = `${p.dir}/${snapshotFile(p.recoveryPoint)}`
  return dir.fs.writeFile(path, encodeProducerSnapshot(ProducerState.toSnapshot(p.producers))).pipe(Effect.mapError(storageError(p.name, path)))
}
