// Loading a partition, on its first use. After a clean shutdown only its active segment's index and the batch
// headers after the last index entry are read, and the producers come from the snapshot at the log end. After a
// crash (or when those files do not agree), the segments from the recovery point on are validated batch by batch
// (length, magic, CRC), their indexes and transaction indexes rebuilt, a torn tail truncated with a log line;
// earlier segments are trusted, as Kafka trusts them. A partition without a directory holds nothing and costs
// no file.
import { Effect, Semaphore } from "effect"
import { readMarker } from "../../protocol/ControlRecords.ts"
import { decodeProducerSnapshot, fileOffset, indexFile, segmentFile, snapshotFile, timeIndexFile, txnIndexFile } from "../../protocol/logdir/LogFiles.ts"
import { CONTROL } from "../../protocol/RecordBatch.ts"
import { UnknownTopicOrPartition, type StorageError } from "../../services/Errors.ts"
import { partitionName, type TopicPartition } from "../../services/log/LogStore.ts"
import { nextOffset, type Partition, segmentFor } from "../../services/log/Partition.ts"
import * as ProducerState from "../../services/log/ProducerState.ts"
import * as Segment from "../../services/log/Segment.ts"
import { type LogDir, settings, storageError, topicSettings } from "./LogDir.ts"
import * as SegmentIO from "./SegmentIO.ts"
import * as Swap from "./Swap.ts"

/** The partition, loaded on first use; UnknownTopicOrPartition once it was deleted in this run. */
export const partitionOf = (dir: LogDir, tp: TopicPartition): Effect.Effect<Partition, StorageError | UnknownTopicOrPartition> => {
  const name = partitionName(tp)
  const existing = dir.partitions.get(name)
  if (existing !== undefined) return Effect.succeed(existing)
  return dir.loadLock.withPermit(Effect.suspend((): Effect.Effect<Partition, StorageError | UnknownTopicOrPartition> => {
    if (dir.deleted.has(name)) return Effect.fail(new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition }))
    const again = dir.partitions.get(name)
    return again !== undefined ? Effect.succeed(again) : load(dir, tp, name)
  }))
}

const load = (dir: LogDir, tp: TopicPartition, name: string) =>
  Effect.gen(function*() {
    const { fs, files } = dir
    const path = `${dir.path}/${name}`
    const listing = dir.onDisk.has(name)
      ? yield* fs.readDirectory(path).pipe(Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.succeed(undefined)))
      : undefined
    // A clean interrupted by a crash is settled first: the old segments or the new one, never both.
    const found = listing === undefined
      ? []
      : yield* Swap.settleLeftovers(fs, path, listing, (yield* topicSettings(dir, tp.topic)).indexIntervalBytes)
    const bases = found.map((f) => fileOffset(f, "log")).filter((o) => o !== undefined).sort((a, b) => a - b)
    const snapshots = new Set(found.map((f) => fileOffset(f, "snapshot")).filter((o) => o !== undefined))
    const empty = bases.length === 0
    if (empty) bases.push(0)
    const segments = bases.map((base) => Segment.newSegment(path, base))
    for (let i = 0; i + 1 < segments.length; i++) segments[i]!.nextOffset = segments[i + 1]!.baseOffset
    const checkpointed = dir.recoveryPoints.get(name)?.offset ?? 0
    const p: Partition = {
      tp,
      name,
      dir: path,
      dirMade: listing !== undefined,
      lock: Semaphore.makeUnsafe(1),
      segments,
      producers: ProducerState.empty(),
      logStartOffset: Math.max(segments[0]!.baseOffset, dir.logStarts.get(name)?.offset ?? 0),
      recoveryPoint: 0,
      checkpointedRecoveryPoint: checkpointed,
      unflushedMessages: 0,
      unflushed: new Set(),
      deleted: false
    }
    if (empty) {
      // Nothing stored: no file to open until the first append makes one.
      const only = segments[0]!
      only.size = 0
      Segment.emptyIndexes(only)
      dir.partitions.set(name, p)
      return p
    }
    const readSnapshot = (offset: number) =>
      Effect.map(fs.readFile(`${path}/${snapshotFile(offset)}`), (bytes) => ProducerState.fromSnapshot(decodeProducerSnapshot(bytes)))

    const last = segments[segments.length - 1]!
    const mismatch = dir.clean ? yield* files.use(last, (file) => SegmentIO.resumeTail(fs, file, last), true) : "unclean"
    if (mismatch !== undefined && mismatch !== "unclean") {
      yield* Effect.logWarning(`${path}: ${mismatch}; recovering the partition from its recovery point`)
      // Whatever the failed resume loaded is rebuilt by the recovery.
      last.offsetIndex = undefined
    }
    if (mismatch === undefined) {
      p.recoveryPoint = last.nextOffset
      const snapshot = snapshots.has(last.nextOffset) ? yield* readSnapshot(last.nextOffset).pipe(Effect.option) : undefined
      if (snapshot?._tag === "Some") p.producers = snapshot.value
      // No usable snapshot: the producers are rebuilt from every batch header.
      else yield* recoverFrom(dir, p, 0, ProducerState.empty())
    } else {
      // Unclean: start where the log was last known to be on disk, with the producers as they were there.
      let from = checkpointed
      let producers = ProducerState.empty()
      const snapshot = from > 0 && snapshots.has(from) ? yield* readSnapshot(from).pipe(Effect.option) : undefined
      if (snapshot?._tag === "Some") producers = snapshot.value
      else from = 0
      yield* recoverFrom(dir, p, from, producers)
    }
    dir.partitions.set(name, p)
    return p
  }).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(storageError(name, `${dir.path}/${name}`)(e))))

/**
 * Validates the segments from the one holding `from` on, rebuilding indexes and producers; cuts a bad tail.
 * The recovery point stays where it was: what was validated is fsynced by the next flush, not here, so that a
 * start after a crash costs no fsync per partition.
 */
const recoverFrom = Effect.fnUntraced(function*(dir: LogDir, p: Partition, from: number, producers: ProducerState.ProducerState) {
  const { indexIntervalBytes } = yield* settings(dir, p)
  const start = segmentFor(p, from)
  for (let i = start; i < p.segments.length; i++) {
    const segment = p.segments[i]!
    // Aborted transactions closed before `from` are not seen again: the segment keeps those it has.
    const kept = (yield* SegmentIO.loadTxnIndex(dir.fs, segment)).filter((a) => a.lastOffset < from)
    segment.aborted = kept
    const outcome = yield* dir.files.use(segment, (file) =>
      Effect.gen(function*() {
        const fileSize = segment.size
        const result = yield* SegmentIO.recover(file, segment, indexIntervalBytes, dir.pool, (header, batch) => {
          if (header.baseOffset < from) return
          const marker = (header.attributes & CONTROL) !== 0 ? readMarker(batch) : undefined
          const completed = ProducerState.observe(producers, header, marker)
          if (completed?.aborted === true) {
            kept.push({ ...completed, lastStableOffset: ProducerState.firstUnstableOffset(producers) ?? completed.lastOffset + 1 })
          }
        })
        if (result.problem !== undefined) {
          yield* file.truncate(result.validBytes)
          segment.size = result.validBytes
        }
        return { ...result, fileSize }
      }), true)
    yield* SegmentIO.writeTxnIndex(dir.fs, segment)
    p.unflushed.add(segment)
    if (outcome.problem === undefined) continue
    const dropped = p.segments.slice(i + 1)
    yield* Effect.logWarning(
      `${Segment.logPath(segment)}: ${outcome.problem}; truncating ${outcome.fileSize - outcome.validBytes} bytes after the last valid batch` +
        (dropped.length > 0 ? ` and deleting ${dropped.length} later segments` : "")
    )
    for (const d of dropped) yield* deleteSegmentFiles(dir, d)
    p.segments.length = i + 1
    break
  }
  p.producers = producers
  p.recoveryPoint = Math.min(from, nextOffset(p))
})

/** Removes a segment's files at once; reads already under way keep the open file a while. */
export const deleteSegmentFiles = (dir: LogDir, s: Segment.Segment) =>
  Effect.gen(function*() {
    yield* dir.files.retire(s)
    for (const name of [segmentFile(s.baseOffset), indexFile(s.baseOffset), timeIndexFile(s.baseOffset), txnIndexFile(s.baseOffset)]) {
      yield* dir.fs.remove(`${s.dir}/${name}`, { force: true })
    }
  })
