// The LogStore over Effect's FileSystem, in Kafka's layout: `<log.dir>/<topic>-<partition>/` holds segments
// (`<base offset>.log`, RecordBatch v2 exactly as produced, offsets assigned) with their sparse offset and time
// indexes (layers/Segment.ts), and `<offset>.snapshot` files of the idempotent producers. A segment is rolled at
// `segment.bytes` or `segment.ms` (per topic, defaulting to `log.segment.bytes` / `log.roll.*`); retention deletes
// whole segments past `retention.ms` or `retention.bytes`, and DeleteRecords moves the log start offset.
//
// Partitions cost nothing until used: a partition's directory is made by its first append, its state is loaded
// on first use, and segment files are opened on demand with at most `log.max.open.files` open at once
// (layers/SegmentFiles.ts), so a broker with tens of thousands of partitions starts at once and holds a bounded
// number of file descriptors. Large reads are answered with where the bytes lie, read when the response is sent.
//
// Start-up: a clean shutdown leaves `.kafka_cleanshutdown`, every index and a producer snapshot at each log end;
// a partition then loads by reading only its active segment's index and the batch headers after its last entry.
// After a crash, every partition is recovered before the broker serves, from its recovery point
// (`recovery-point-offset-checkpoint`: what was fsynced): those segments are validated batch by batch (length,
// magic, CRC), their indexes rebuilt, a torn tail truncated with a log line. Earlier segments are trusted, as
// Kafka trusts them, but their index files are sanity-checked when loaded and rebuilt when wrong.
//
// Appends are serialised per partition; a batch's sequence check, write and bookkeeping happen under one permit
// and cannot be interrupted halfway. Reads take no lock: a segment only grows, and what a read sees was fully
// written. A failing file system (full, read-only, I/O errors) fails the partition's request with
// KAFKA_STORAGE_ERROR and a log line naming the file; the broker keeps serving.
import { Clock, Deferred, Duration, Effect, FileSystem, Layer, Schedule, Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import type { ByteSource } from "../../protocol/Bytes.ts"
import {
  CLEAN_SHUTDOWN,
  type CheckpointEntry,
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
} from "../../protocol/logdir/LogFiles.ts"
import { COMPRESSION_MASK, decodeRecords, setBaseOffset, type BatchHeader } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { describeFailure, LogDirUnavailable, OffsetOutOfRange, StorageError, UnknownTopicOrPartition } from "../../services/Errors.ts"
import {
  type AppendResult,
  LogStore,
  partitionName,
  type ReadResult,
  type SeenEnd,
  type TopicPartition
} from "../../services/log/LogStore.ts"
import * as ProducerState from "../../services/log/ProducerState.ts"
import { topicSetting } from "../../services/metadata/TopicConfigs.ts"
import * as Segment from "../../services/log/Segment.ts"
import * as SegmentFiles from "./SegmentFiles.ts"

interface Partition {
  readonly tp: TopicPartition
  readonly name: string
  readonly dir: string
  /** Whether the directory exists (it is made by the first append). */
  dirMade: boolean
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

/** Results smaller than this are read at once; larger ones are read while the response is written. */
const INLINE_READ = 64 * 1024

export const layer = Layer.effect(
  LogStore,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    // Files live in a child scope, closed after the final flush below.
    const scope = yield* Scope.fork(yield* Effect.scope)
    const files = SegmentFiles.make(fs, scope, config.logMaxOpenFiles)
    const partitions = new Map<string, Partition>()
    /** Partitions deleted since start: they must not come back by being read or written. */
    const deleted = new Set<string>()
    const openLock = yield* Semaphore.make(1)
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
    const logDir = config.logDir

    const storageError = (name: string, path?: string) => (cause: PlatformError) => new StorageError({ partition: name, path, cause })
    /** A failure of the log as a whole (its checkpoints), logged with the file and the operating system's words. */
    const logFailure = (what: string) => (e: StorageError) => Effect.logError(`${what}: ${e.message}`)

    // --- What the last run left behind

    const readText = (name: string) =>
      fs.readFileString(`${logDir}/${name}`).pipe(Effect.catchTag("PlatformError", () => Effect.succeed("")))
    const checkpoint = (text: string) => new Map((parseCheckpoint(text) ?? []).map((e) => [partitionName(e), e]))
    const { clean, recoveryPoints, logStarts, onDisk } = yield* Effect.gen(function*() {
      yield* fs.makeDirectory(logDir, { recursive: true })
      const clean = yield* fs.exists(`${logDir}/${CLEAN_SHUTDOWN}`)
      const recoveryPoints = checkpoint(yield* readText(RECOVERY_POINTS))
      const logStarts = checkpoint(yield* readText(LOG_START_OFFSETS))
      /** Names of the partition directories there are: a partition without one holds nothing yet. */
      const onDisk = new Set(yield* fs.readDirectory(logDir))
      // From now on a crash must be recovered from: the marker goes until the next clean shutdown.
      yield* fs.remove(`${logDir}/${CLEAN_SHUTDOWN}`, { force: true })
      return { clean, recoveryPoints, logStarts, onDisk }
    }).pipe(Effect.mapError((cause) => new LogDirUnavailable({ dir: logDir, detail: describeFailure(cause) })))

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

    /** A damaged batch found by a read: reported once per position, then stepped over. */
    const reportDamage = (s: Segment.Segment) => (position: number) =>
      Effect.logWarning(
        `${Segment.logPath(s)}: damaged batch at position ${position} (bad magic or length); reads skip to the next indexed batch`
      )

    /** The segment's indexes, loaded (and rebuilt from the log when their files are damaged). */
    const ensureIndexes = (p: Partition, s: Segment.Segment) =>
      Effect.gen(function*() {
        if (s.offsetIndex !== undefined) return
        const problem = yield* Segment.loadIndexes(fs, s)
        if (problem === undefined) return
        yield* rebuild(p, s, problem)
      }).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))

    const rebuild = (p: Partition, s: Segment.Segment, problem: string) =>
      Effect.gen(function*() {
        const { indexIntervalBytes } = yield* settings(p)
        const result = yield* files.use(s, (file) => Segment.rebuildIndexes(file, s, indexIntervalBytes))
        yield* Effect.logWarning(
          `${p.dir}: ${problem}; indexes rebuilt from ${segmentFile(s.baseOffset)}` +
            (result.problem === undefined ? "" : ` up to ${result.problem}`)
        )
      })

    // --- Loading a partition

    const partitionOf = (tp: TopicPartition): Effect.Effect<Partition, StorageError | UnknownTopicOrPartition> => {
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
        // A partition never written to has no directory yet.
        const listing = onDisk.has(name)
          ? yield* fs.readDirectory(dir).pipe(Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.succeed(undefined)))
          : undefined
        const found = listing ?? []
        const bases = found.map((f) => fileOffset(f, "log")).filter((o) => o !== undefined).sort((a, b) => a - b)
        const snapshots = new Set(found.map((f) => fileOffset(f, "snapshot")).filter((o) => o !== undefined))
        const empty = bases.length === 0
        if (empty) bases.push(0)
        const segments = bases.map((base) => Segment.newSegment(dir, base))
        for (let i = 0; i + 1 < segments.length; i++) segments[i]!.nextOffset = segments[i + 1]!.baseOffset
        const checkpointed = recoveryPoints.get(name)?.offset ?? 0
        const p: Partition = {
          tp,
          name,
          dir,
          dirMade: listing !== undefined,
          lock: Semaphore.makeUnsafe(1),
          segments,
          producers: ProducerState.empty(),
          logStartOffset: Math.max(segments[0]!.baseOffset, logStarts.get(name)?.offset ?? 0),
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
          partitions.set(name, p)
          return p
        }
        const { indexIntervalBytes } = yield* settings(p)
        const readSnapshot = (offset: number) =>
          Effect.map(fs.readFile(`${dir}/${snapshotFile(offset)}`), (bytes) => ProducerState.fromSnapshot(decodeProducerSnapshot(bytes)))

        const last = segments[segments.length - 1]!
        const mismatch = clean ? yield* files.use(last, (file) => Segment.resumeTail(fs, file, last), true) : "unclean"
        if (mismatch !== undefined && mismatch !== "unclean") {
          yield* Effect.logWarning(`${dir}: ${mismatch}; recovering the partition from its recovery point`)
          // Whatever the failed resume loaded is rebuilt by the recovery.
          last.offsetIndex = undefined
        }
        if (mismatch === undefined) {
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
          let from = checkpointed
          let producers = ProducerState.empty()
          const snapshot = from > 0 && snapshots.has(from) ? yield* readSnapshot(from).pipe(Effect.option) : undefined
          if (snapshot?._tag === "Some") producers = snapshot.value
          else from = 0
          yield* recoverFrom(p, from, producers, indexIntervalBytes)
        }
        partitions.set(name, p)
        return p
      }).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(storageError(name, `${logDir}/${name}`)(e))))

    /**
     * Validates the segments from the one holding `from` on, rebuilding indexes and producers; cuts a bad tail.
     * The recovery point stays where it was: what was validated is fsynced by the next flush, not here, so that
     * a start after a crash costs no fsync per partition.
     */
    const recoverFrom = Effect.fnUntraced(function*(
      p: Partition,
      from: number,
      producers: ProducerState.ProducerState,
      indexIntervalBytes: number
    ) {
      const start = segmentFor(p, from)
      for (let i = start; i < p.segments.length; i++) {
        const segment = p.segments[i]!
        const outcome = yield* files.use(segment, (file) =>
          Effect.gen(function*() {
            const fileSize = segment.size
            const result = yield* Segment.recover(file, segment, indexIntervalBytes, (header) => {
              if (header.baseOffset >= from) ProducerState.observe(producers, header)
            })
            if (result.problem !== undefined) {
              yield* file.truncate(result.validBytes)
              segment.size = result.validBytes
            }
            return { ...result, fileSize }
          }), true)
        p.unflushed.add(segment)
        if (outcome.problem === undefined) continue
        const dropped = p.segments.slice(i + 1)
        yield* Effect.logWarning(
          `${Segment.logPath(segment)}: ${outcome.problem}; truncating ${outcome.fileSize - outcome.validBytes} bytes after the last valid batch` +
            (dropped.length > 0 ? ` and deleting ${dropped.length} later segments` : "")
        )
        for (const d of dropped) yield* deleteSegmentFiles(d)
        p.segments.length = i + 1
        break
      }
      p.producers = producers
      p.recoveryPoint = Math.min(from, nextOffset(p))
    })

    const deleteSegmentFiles = (s: Segment.Segment) =>
      Effect.gen(function*() {
        // Reads already under way keep the open file a while; the files themselves are gone (unlinked) at once.
        yield* files.retire(s)
        for (const name of [segmentFile(s.baseOffset), indexFile(s.baseOffset), timeIndexFile(s.baseOffset)]) {
          yield* fs.remove(`${s.dir}/${name}`, { force: true })
        }
      })

    const notify = (name: string) => {
      const set = waiters.get(name)
      if (set === undefined) return
      waiters.delete(name)
      for (const d of set) Deferred.doneUnsafe(d, Effect.void)
    }

    // --- Appending

    /**
     * Starts a new active segment at the log end. The old one is sealed, its indexes written and its data
     * fsynced, so the recovery point moves to the new segment, with a producer snapshot there (as Kafka does).
     */
    const roll = (p: Partition) =>
      Effect.gen(function*() {
        const old = active(p)
        Segment.seal(old)
        yield* Segment.writeIndexes(fs, old).pipe(Effect.mapError(storageError(p.name, Segment.indexPath(old))))
        const next = Segment.newSegment(p.dir, old.nextOffset)
        Segment.emptyIndexes(next)
        next.size = 0
        yield* files.use(next, () => Effect.void, true).pipe(Effect.mapError(storageError(p.name, Segment.logPath(next))))
        p.segments.push(next)
        yield* flush(p)
        yield* snapshotProducers(p)
      })

    const append = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      Effect.flatMap(partitionOf(tp), (p) => p.lock.withPermit(appendLocked(p, batch, header)))

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
        if (!p.dirMade) {
          yield* fs.makeDirectory(p.dir, { recursive: true }).pipe(Effect.mapError(storageError(p.name, p.dir)))
          p.dirMade = true
          onDisk.add(p.name)
        }
        let segment = active(p)
        // A segment loaded at start has no first append yet (-1): it ages from its first append in this run.
        const aged = segment.firstAppendAt >= 0 && now - segment.firstAppendAt >= s.segmentMs
        if (segment.size > 0 && (segment.size + batch.length > s.segmentBytes || aged)) {
          yield* roll(p)
          segment = active(p)
        }
        const baseOffset = segment.nextOffset
        const position = segment.size
        // The CRC starts at byte 21, so the offset can be patched into the produced bytes as they are.
        setBaseOffset(batch, 0, baseOffset)
        yield* files.use(segment, (file) =>
          file.writeAll(batch).pipe(
            // Nothing of a failed write may stay: the next batch must start where this one did.
            Effect.onError(() => Effect.ignore(file.truncate(position)))
          ), true).pipe(Effect.mapError(storageError(p.name, Segment.logPath(segment))))
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
        for (const s of p.unflushed) {
          if (!s.deleted && s.size > 0) {
            yield* files.use(s, (file) => file.sync).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
          }
        }
        p.unflushed.clear()
        p.unflushedMessages = 0
        p.recoveryPoint = nextOffset(p)
      })

    // --- Creating and deleting partitions

    const createPartition = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const name = partitionName(tp)
        deleted.delete(name)
        partitions.delete(name)
        recoveryPoints.delete(name)
        logStarts.delete(name)
        // A new partition starts empty: a directory of that name is left over from an older topic.
        const dir = `${logDir}/${name}`
        if (onDisk.delete(name)) {
          yield* Effect.logWarning(`${dir} is left over from an earlier topic of that name; deleting it`)
          yield* fs.remove(dir, { recursive: true, force: true })
        }
      }).pipe(Effect.mapError(storageError(partitionName(tp), `${logDir}/${partitionName(tp)}`)))

    const deletePartition = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const name = partitionName(tp)
        yield* openLock.withPermit(Effect.sync(() => deleted.add(name)))
        onDisk.delete(name)
        recoveryPoints.delete(name)
        logStarts.delete(name)
        const p = partitions.get(name)
        if (p !== undefined) {
          yield* p.lock.withPermit(Effect.gen(function*() {
            p.deleted = true
            partitions.delete(name)
            for (const s of p.segments) {
              s.deleted = true
              yield* files.close(s)
            }
          }))
          notify(name)
        }
        yield* fs.remove(`${logDir}/${name}`, { recursive: true, force: true }).pipe(Effect.mapError(storageError(name, `${logDir}/${name}`)))
      })

    // --- Reading

    /** Bytes of a segment read when they are sent (a failure then closes the connection, as Kafka's sendfile). */
    const sourceOf = (p: Partition, s: Segment.Segment, position: number, length: number): ByteSource => ({
      length,
      read: (into, offset) =>
        files.use(s, (file) => Segment.readInto(file, position + offset, into)).pipe(
          Effect.mapError(storageError(p.name, Segment.logPath(s)))
        )
    })

    /** Whole batches of one segment from the one holding `offset`, or undefined when it has none there. */
    const readSegment = (p: Partition, s: Segment.Segment, offset: number, maxBytes: number, minOneBatch: boolean) =>
      Effect.gen(function*() {
        if (s.size === 0) return undefined
        yield* ensureIndexes(p, s)
        const found = yield* files.use(s, (file) =>
          Effect.gen(function*() {
            const first = yield* Segment.read(file, s, offset, maxBytes, minOneBatch, reportDamage(s))
            if (first !== Segment.IndexMismatch) return first
            yield* rebuild(p, s, `${indexFile(s.baseOffset)} does not match the log`)
            const again = yield* Segment.read(file, s, offset, maxBytes, minOneBatch, reportDamage(s))
            return again === Segment.IndexMismatch ? undefined : again
          })).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
        if (found === undefined || found.length === 0) return undefined
        if (found.bytes !== undefined) return found.bytes
        if (found.length >= INLINE_READ) return sourceOf(p, s, found.position, found.length)
        return yield* files.use(s, (file) => Segment.readBytes(file, found.position, found.length)).pipe(
          Effect.mapError(storageError(p.name, Segment.logPath(s)))
        )
      })

    const read = (tp: TopicPartition, offset: number, maxBytes: number, minOneBatch: boolean) =>
      Effect.flatMap(partitionOf(tp), (p): Effect.Effect<ReadResult, OffsetOutOfRange | StorageError | UnknownTopicOrPartition> =>
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
            const records = yield* readSegment(p, s, Math.max(offset, s.baseOffset), Math.max(0, maxBytes), minOneBatch).pipe(
              // Deleted (retention, DeleteRecords) before this read could open it: now below the log start.
              Effect.catchTag("StorageError", (e): Effect.Effect<never, StorageError | OffsetOutOfRange | UnknownTopicOrPartition> =>
                p.deleted
                  ? Effect.fail(new UnknownTopicOrPartition(p.tp))
                  : s.deleted
                  ? Effect.fail(new OffsetOutOfRange({ offset, logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p) }))
                  : Effect.fail(e))
            )
            if (records !== undefined) return { ...offsets, records }
          }
          return { ...offsets, records: new Uint8Array(0) }
        }))

    const offsets = (tp: TopicPartition) =>
      Effect.map(partitionOf(tp), (p) => ({ logStartOffset: p.logStartOffset, logEndOffset: nextOffset(p) }))

    const offsetForTimestamp = (tp: TopicPartition, timestamp: number) =>
      Effect.flatMap(partitionOf(tp), (p) =>
        Effect.gen(function*() {
          const segments = p.segments.slice()
          // Choosing a segment needs only the time indexes; only the chosen segment's log is opened.
          for (const s of segments) if (s.size !== 0) yield* ensureIndexes(p, s)
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
          const found = yield* files.use(segment, (file) =>
            Segment.findBatch(file, segment, from, (h) => h.maxTimestamp >= target, reportDamage(segment))).pipe(
              Effect.mapError(storageError(p.name, Segment.logPath(segment)))
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
          if (s.size < 0) s.size = Number((yield* fs.stat(Segment.logPath(s)).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))).size)
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
          yield* deleteSegmentFiles(s).pipe(Effect.mapError(storageError(p.name, Segment.logPath(s))))
          dropped++
        }
        if (dropped > 0) {
          p.logStartOffset = Math.max(p.logStartOffset, p.segments[0]!.baseOffset)
          logStarts.set(p.name, { ...p.tp, offset: p.logStartOffset })
          yield* Effect.logInfo(`${p.name}: deleted ${dropped} segments; log start offset ${p.logStartOffset}`)
        }
        return dropped
      })

    /** Written whole, then renamed over the old one: a crash leaves either the old file or the new one. */
    const writeCheckpoint = (name: string, entries: Iterable<CheckpointEntry>) =>
      Effect.gen(function*() {
        const path = `${logDir}/${name}`
        yield* fs.writeFileString(`${path}.tmp`, formatCheckpoint([...entries]))
        yield* fs.rename(`${path}.tmp`, path)
      }).pipe(Effect.mapError(storageError(name, `${logDir}/${name}`)))

    // Partitions not loaded in this run keep the entries the last run wrote for them.
    const logStartCheckpoint = Effect.suspend(() => {
      for (const p of partitions.values()) logStarts.set(p.name, { ...p.tp, offset: p.logStartOffset })
      return writeCheckpoint(LOG_START_OFFSETS, logStarts.values())
    })

    const deleteRecords = (tp: TopicPartition, offset: number) =>
      Effect.flatMap(partitionOf(tp), (p) =>
        p.lock.withPermit(Effect.gen(function*() {
          const end = nextOffset(p)
          const target = offset === -1 ? end : offset
          if (target < 0 || target > end) {
            return yield* new OffsetOutOfRange({ offset: target, logStartOffset: p.logStartOffset, logEndOffset: end })
          }
          if (target > p.logStartOffset) {
            p.logStartOffset = target
            yield* dropSegments(p, () => false)
            yield* logStartCheckpoint
          }
          return p.logStartOffset
        })))

    /**
     * Every partition the metadata names that holds data (loading those not loaded yet), for work that covers
     * them all: recovery after a crash, retention.
     */
    const everyPartition = Effect.gen(function*() {
      const image = yield* metadata.image
      const out: Array<Partition> = []
      for (const topic of image.topics.values()) {
        for (const info of topic.partitions) {
          const tp = { topic: topic.name, partition: info.index }
          if (!onDisk.has(partitionName(tp))) continue
          const p = yield* partitionOf(tp).pipe(Effect.option)
          if (p._tag === "Some") out.push(p.value)
        }
      }
      return out
    })

    const enforceRetention = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let changed = false
      for (const p of yield* everyPartition) {
        const s = yield* settings(p)
        if (!s.deletes || (!Number.isFinite(s.retentionMs) && !Number.isFinite(s.retentionBytes)) || p.segments.length < 2) continue
        const dropped = yield* p.lock.withPermit(Effect.gen(function*() {
          if (p.deleted) return 0
          // Retention by time reads each closed segment's largest timestamp from its time index.
          if (Number.isFinite(s.retentionMs)) for (const seg of p.segments) if (seg.size !== 0) yield* ensureIndexes(p, seg)
          return yield* dropSegments(p, (seg, remaining) =>
            (seg.largestTimestamp >= 0 && seg.largestTimestamp < now - s.retentionMs) ||
            remaining - seg.size >= s.retentionBytes)
        })).pipe(Effect.catch((e) => Effect.as(Effect.logError(`retention: ${e.message}`), 0)))
        if (dropped > 0) changed = true
      }
      if (changed) yield* logStartCheckpoint.pipe(Effect.catch(logFailure("retention")))
    })

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
      const loaded = [...partitions.values()]
      for (const p of loaded) recoveryPoints.set(p.name, { ...p.tp, offset: p.recoveryPoint })
      return writeCheckpoint(RECOVERY_POINTS, recoveryPoints.values()).pipe(
        Effect.andThen(Effect.forEach(loaded, (p) =>
          p.checkpointedRecoveryPoint === p.recoveryPoint
            ? Effect.void
            : Effect.suspend(() => {
              p.checkpointedRecoveryPoint = p.recoveryPoint
              return pruneSnapshots(p)
            }), { discard: true }))
      )
    })

    /** The producers at the recovery point, so that recovery from it starts with them; older snapshots go. */
    const snapshotProducers = (p: Partition) => {
      if (!p.dirMade) return Effect.void
      const path = `${p.dir}/${snapshotFile(p.recoveryPoint)}`
      return fs.writeFile(path, encodeProducerSnapshot(ProducerState.toSnapshot(p.producers))).pipe(Effect.mapError(storageError(p.name, path)))
    }

    /** Snapshots below the checkpointed recovery point can no longer be needed: recovery starts there. */
    const pruneSnapshots = (p: Partition) =>
      Effect.gen(function*() {
        if (!p.dirMade) return
        for (const f of yield* fs.readDirectory(p.dir)) {
          const offset = fileOffset(f, "snapshot")
          if (offset !== undefined && offset < p.checkpointedRecoveryPoint) yield* fs.remove(`${p.dir}/${f}`, { force: true })
        }
      }).pipe(Effect.mapError(storageError(p.name, p.dir)))

    const flushAll = Effect.forEach([...partitions.values()], (p) =>
      p.unflushed.size === 0
        ? Effect.void
        : p.lock.withPermit(Effect.andThen(flush(p), snapshotProducers(p))), { discard: true }).pipe(
      Effect.andThen(recoveryPointCheckpoint)
    )

    const every = (ms: number, task: Effect.Effect<void>) => Effect.forkIn(Effect.schedule(task, Schedule.spaced(Duration.millis(ms))), scope)
    if (Number.isFinite(config.flushIntervalMs)) yield* every(config.flushIntervalMs, flushAll.pipe(Effect.catch(logFailure("flush"))))
    yield* every(config.logRetentionCheckIntervalMs, enforceRetention)

    /** A clean shutdown: everything fsynced, indexes and producer snapshots written, then the marker. */
    const shutdown = Effect.gen(function*() {
      for (const p of [...partitions.values()]) {
        yield* p.lock.withPermit(Effect.gen(function*() {
          if (!p.dirMade) return
          for (const s of p.segments) yield* Segment.writeIndexes(fs, s).pipe(Effect.mapError(storageError(p.name, Segment.indexPath(s))))
          yield* flush(p)
          yield* snapshotProducers(p)
        }))
      }
      yield* recoveryPointCheckpoint
      yield* logStartCheckpoint
      yield* fs.writeFileString(`${logDir}/${CLEAN_SHUTDOWN}`, "").pipe(Effect.mapError(storageError(CLEAN_SHUTDOWN, `${logDir}/${CLEAN_SHUTDOWN}`)))
    }).pipe(Effect.catch((e) => Effect.logError(`unclean shutdown, the next start will recover: ${e.message}`)))
    yield* Effect.addFinalizer(() => shutdown)

    // After a crash every partition is recovered before the broker serves; after a clean shutdown each is loaded
    // when first used. Then the recovery points are recorded where a crash would recover from.
    if (!clean) {
      const recovered = yield* everyPartition
      if (recovered.length > 0) yield* Effect.logInfo(`recovered ${recovered.length} partitions after an unclean shutdown`)
    }
    yield* recoveryPointCheckpoint.pipe(Effect.catch(logFailure("recovery point checkpoint")))
    // As Kafka's log.flush.offset.checkpoint.interval.ms: the recovery points moved by rolls get recorded.
    yield* every(60_000, recoveryPointCheckpoint.pipe(Effect.catch(logFailure("recovery point checkpoint"))))

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
