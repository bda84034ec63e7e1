// The LogStore over Effect's FileSystem, in Kafka's layout: `<log.dir>/<topic>-<partition>/00000000000000000000.log`
// holding RecordBatch v2 exactly as produced, with offsets assigned. Each partition keeps an in-memory index of
// its batches (base offset, last offset, position, size, max timestamp) rebuilt at start by validating every batch;
// a torn or corrupt tail is truncated with a log line. The same scan rebuilds the partition's idempotent-producer
// state (services/ProducerState.ts). Appends are serialised by a per-partition semaphore, and a batch's sequence
// check, its write and its recording happen under one permit, so a retry racing its original is written once.
// Reads never block appends (they use the index as it was when the read began, which only ever grows).
import { Deferred, Duration, Effect, Exit, FileSystem, Layer, Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { COMPRESSION_MASK, decodeRecords, HEADER_SIZE, readHeader, type BatchHeader, computeCrc, MAGIC } from "../protocol/RecordBatch.ts"
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

const SEGMENT = "00000000000000000000.log"

/** Column-wise index of a partition's batches, in offset order. */
interface BatchIndex {
  readonly baseOffsets: Array<number>
  readonly lastOffsets: Array<number>
  readonly positions: Array<number>
  readonly sizes: Array<number>
  readonly maxTimestamps: Array<number>
}

interface PartitionLog {
  readonly name: string
  readonly dir: string
  readonly file: FileSystem.File
  /** Holds the file open; closed when the partition is deleted or the store shuts down. */
  readonly scope: Scope.Closeable
  readonly lock: Semaphore.Semaphore
  readonly index: BatchIndex
  readonly producers: ProducerState.ProducerState
  size: number
  nextOffset: number
  logStartOffset: number
  unflushedMessages: number
  deleted: boolean
}

const emptyIndex = (): BatchIndex => ({ baseOffsets: [], lastOffsets: [], positions: [], sizes: [], maxTimestamps: [] })

const addToIndex = (index: BatchIndex, header: BatchHeader, position: number) => {
  index.baseOffsets.push(header.baseOffset)
  index.lastOffsets.push(header.baseOffset + header.lastOffsetDelta)
  index.positions.push(position)
  index.sizes.push(header.size)
  index.maxTimestamps.push(header.maxTimestamp)
}

/** The index of the batch holding `offset` (the first batch after it when it falls in a gap). */
const findBatch = (index: BatchIndex, offset: number): number => {
  let lo = 0
  let hi = index.lastOffsets.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (index.lastOffsets[mid]! < offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

const WINDOW = 1024 * 1024

/**
 * Walks a log file batch by batch through a sliding window, validating length, magic and CRC. Returns the
 * index, the producer state of the valid batches and the number of valid bytes; anything after them is a
 * torn or corrupt tail.
 */
const recover = Effect.fnUntraced(function*(file: FileSystem.File, fileSize: number) {
  const index = emptyIndex()
  const producers = ProducerState.empty()
  let window = new Uint8Array(Math.min(WINDOW, Math.max(fileSize, HEADER_SIZE)))
  let windowStart = 0
  let windowLength = 0
  let position = 0
  let problem: string | undefined

  const fill = Effect.fnUntraced(function*(from: number, needed: number) {
    if (needed > window.length) window = new Uint8Array(needed)
    windowStart = from
    windowLength = 0
    while (windowLength < needed) {
      const n = yield* file.read(window.subarray(windowLength), { position: BigInt(from + windowLength) })
      if (n === 0) break
      windowLength += n
    }
  })

  while (position < fileSize) {
    if (fileSize - position < HEADER_SIZE) {
      problem = `${fileSize - position} bytes of a batch header at position ${position}`
      break
    }
    if (position + HEADER_SIZE > windowStart + windowLength) yield* fill(position, Math.min(window.length, fileSize - position))
    const header = readHeader(window, position - windowStart)
    if (header.magic !== MAGIC || header.size < HEADER_SIZE) {
      problem = `invalid batch header at position ${position}`
      break
    }
    if (position + header.size > fileSize) {
      problem = `batch of ${header.size} bytes at position ${position} runs past the end`
      break
    }
    if (position + header.size > windowStart + windowLength) {
      yield* fill(position, Math.max(header.size, Math.min(window.length, fileSize - position)))
    }
    const at = position - windowStart
    if (computeCrc(window.subarray(at, at + header.size)) !== header.crc) {
      problem = `CRC mismatch in batch at position ${position}`
      break
    }
    addToIndex(index, header, position)
    ProducerState.observe(producers, header)
    position += header.size
  }
  return { index, producers, validBytes: position, problem }
})

export const layer = Layer.effect(
  LogStore,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata
    // Files live in a child scope, closed after the final flush below.
    const scope = yield* Scope.fork(yield* Effect.scope)
    const partitions = new Map<string, PartitionLog>()
    /** Partitions deleted since start: they must not come back by being read or written. */
    const deleted = new Set<string>()
    const openLock = yield* Semaphore.make(1)
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()

    const storageError = (name: string) => (cause: PlatformError) => new StorageError({ partition: name, cause })

    const open = (tp: TopicPartition): Effect.Effect<PartitionLog, StorageError | UnknownTopicOrPartition> => {
      const name = partitionName(tp)
      const existing = partitions.get(name)
      if (existing !== undefined) return Effect.succeed(existing)
      return openLock.withPermit(Effect.suspend((): Effect.Effect<PartitionLog, StorageError | UnknownTopicOrPartition> => {
        if (deleted.has(name)) return Effect.fail(new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition }))
        const again = partitions.get(name)
        return again !== undefined ? Effect.succeed(again) : load(name)
      }))
    }

    const load = (name: string) =>
      Effect.gen(function*() {
        const dir = `${config.logDir}/${name}`
        yield* fs.makeDirectory(dir, { recursive: true })
        const path = `${dir}/${SEGMENT}`
        const fileScope = yield* Scope.fork(scope)
        const file = yield* Scope.provide(fs.open(path, { flag: "a+" }), fileScope)
        const fileSize = Number((yield* file.stat).size)
        const { index, producers, validBytes, problem } = yield* recover(file, fileSize)
        if (problem !== undefined) {
          yield* Effect.logWarning(
            `${path}: ${problem}; truncating ${fileSize - validBytes} bytes after the last valid batch (${index.baseOffsets.length} batches kept)`
          )
          yield* file.truncate(validBytes)
        }
        const last = index.lastOffsets.length
        const log: PartitionLog = {
          name,
          dir,
          file,
          scope: fileScope,
          lock: Semaphore.makeUnsafe(1),
          index,
          producers,
          size: validBytes,
          nextOffset: last === 0 ? 0 : index.lastOffsets[last - 1]! + 1,
          logStartOffset: last === 0 ? 0 : index.baseOffsets[0]!,
          unflushedMessages: 0,
          deleted: false
        }
        partitions.set(name, log)
        return log
      }).pipe(Effect.mapError(storageError(name)))

    const notify = (name: string) => {
      const set = waiters.get(name)
      if (set === undefined) return
      waiters.delete(name)
      for (const d of set) Deferred.doneUnsafe(d, Effect.void)
    }

    const append = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      Effect.flatMap(open(tp), (log) =>
        log.lock.withPermit(Effect.gen(function*() {
          if (log.deleted) return yield* new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition })
          const checked = ProducerState.check(log.producers, header)
          if (checked._tag === "Duplicate") {
            return { baseOffset: checked.baseOffset, logStartOffset: log.logStartOffset, duplicate: true } satisfies AppendResult
          }
          if (checked._tag !== "Append") return yield* checked
          const baseOffset = log.nextOffset
          const position = log.size
          // The CRC starts at byte 21, so the offset can be patched into the produced bytes as they are.
          new DataView(batch.buffer, batch.byteOffset, 8).setBigInt64(0, BigInt(baseOffset))
          yield* log.file.writeAll(batch).pipe(
            Effect.tapError(() => Effect.ignore(log.file.truncate(position))),
            Effect.mapError(storageError(log.name))
          )
          log.size = position + batch.length
          addToIndex(log.index, { ...header, baseOffset }, position)
          log.nextOffset = baseOffset + header.lastOffsetDelta + 1
          checked.record(baseOffset)
          log.unflushedMessages += header.recordCount
          if (log.unflushedMessages >= config.flushIntervalMessages) {
            yield* log.file.sync.pipe(Effect.mapError(storageError(log.name)))
            log.unflushedMessages = 0
          }
          notify(log.name)
          return { baseOffset, logStartOffset: log.logStartOffset, duplicate: false } satisfies AppendResult
        })))

    const createPartition = (tp: TopicPartition) =>
      Effect.suspend(() => {
        deleted.delete(partitionName(tp))
        return Effect.asVoid(open(tp))
      }).pipe(Effect.catchTag("UnknownTopicOrPartition", () => Effect.void))

    const deletePartition = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const name = partitionName(tp)
        const dir = `${config.logDir}/${name}`
        yield* openLock.withPermit(Effect.sync(() => deleted.add(name)))
        const log = partitions.get(name)
        if (log !== undefined) {
          yield* log.lock.withPermit(Effect.gen(function*() {
            log.deleted = true
            partitions.delete(name)
            yield* Scope.close(log.scope, Exit.void)
          }))
          notify(name)
        }
        yield* fs.remove(dir, { recursive: true, force: true }).pipe(Effect.mapError(storageError(name)))
      })

    const readAt = (log: PartitionLog, position: number, length: number) =>
      Effect.gen(function*() {
        const buffer = new Uint8Array(length)
        let done = 0
        while (done < length) {
          const n = yield* log.file.read(buffer.subarray(done), { position: BigInt(position + done) })
          if (n === 0) break
          done += n
        }
        return done === length ? buffer : buffer.subarray(0, done)
      }).pipe(Effect.mapError(storageError(log.name)))

    const read = (tp: TopicPartition, offset: number, maxBytes: number, minOneBatch: boolean) =>
      Effect.flatMap(open(tp), (log): Effect.Effect<ReadResult, OffsetOutOfRange | StorageError> => {
        const logEndOffset = log.nextOffset
        const offsets = { logStartOffset: log.logStartOffset, logEndOffset }
        if (offset < log.logStartOffset || offset > logEndOffset) {
          return Effect.fail(new OffsetOutOfRange({ offset, ...offsets }))
        }
        const { index } = log
        const first = findBatch(index, offset)
        const count = index.baseOffsets.length
        let end = first
        let bytes = 0
        while (end < count && (bytes + index.sizes[end]! <= maxBytes || (end === first && minOneBatch))) {
          bytes += index.sizes[end]!
          end++
        }
        if (bytes === 0) return Effect.succeed({ ...offsets, records: new Uint8Array(0) })
        return Effect.map(readAt(log, index.positions[first]!, bytes), (records) => ({ ...offsets, records }))
      })

    const offsets = (tp: TopicPartition) =>
      Effect.map(open(tp), (log) => ({ logStartOffset: log.logStartOffset, logEndOffset: log.nextOffset }))

    const offsetForTimestamp = (tp: TopicPartition, timestamp: number) =>
      Effect.flatMap(open(tp), (log) => {
        const { maxTimestamps } = log.index
        let i = -1
        if (timestamp === -3) {
          for (let j = 0; j < maxTimestamps.length; j++) if (i < 0 || maxTimestamps[j]! > maxTimestamps[i]!) i = j
        } else {
          i = maxTimestamps.findIndex((t) => t >= timestamp)
        }
        if (i < 0) return Effect.succeed(undefined)
        const target = timestamp === -3 ? maxTimestamps[i]! : timestamp
        return Effect.map(readAt(log, log.index.positions[i]!, log.index.sizes[i]!), (batch) => {
          const header = readHeader(batch)
          // Compressed batches are not opened: their first offset stands for the whole batch.
          if ((header.attributes & COMPRESSION_MASK) !== 0) {
            return { offset: header.baseOffset, timestamp: header.maxTimestamp }
          }
          const record = decodeRecords(batch).find((r) => (timestamp === -3 ? r.timestamp === target : r.timestamp >= target))
          return record === undefined
            ? { offset: header.baseOffset, timestamp: header.maxTimestamp }
            : { offset: record.offset, timestamp: record.timestamp }
        })
      })

    const awaitAppend = (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) =>
      Effect.suspend(() => {
        const names = seen.map(partitionName)
        if (seen.some((s, i) => (partitions.get(names[i]!)?.nextOffset ?? 0) !== s.logEndOffset)) return Effect.void
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

    const flushAll = Effect.forEach(partitions.values(), (log) =>
      log.unflushedMessages === 0
        ? Effect.void
        : log.lock.withPermit(log.file.sync.pipe(
          Effect.tap(() => Effect.sync(() => (log.unflushedMessages = 0))),
          Effect.catch((e) => Effect.logError(`${log.name}: flush failed: ${e.message}`))
        )), { discard: true })

    if (Number.isFinite(config.flushIntervalMs)) {
      yield* flushAll.pipe(
        Effect.delay(Duration.millis(config.flushIntervalMs)),
        Effect.forever,
        Effect.forkScoped
      )
    }
    // A clean shutdown leaves nothing unflushed.
    yield* Effect.addFinalizer(() => flushAll)

    // Recover every partition the metadata names before serving.
    const image = yield* metadata.image
    yield* Effect.forEach(image.topics.values(), (topic) =>
      Effect.forEach(topic.partitions, (p) => open({ topic: topic.name, partition: p.index }), { discard: true }), {
      discard: true
    })

    return LogStore.of({ createPartition, deletePartition, append, read, offsets, offsetForTimestamp, awaitAppend })
  })
)

