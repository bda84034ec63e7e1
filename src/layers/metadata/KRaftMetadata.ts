// The live ClusterMetadata: on start it replays the KRaft metadata log Kafka keeps in
// `<log.dir>/__cluster_metadata-0/` (the newest `<offset>-<epoch>.checkpoint` snapshot if any, then the
// `<base offset>.log` segments from that offset on) and reads the cluster id from `<log.dir>/meta.properties`,
// creating that file once when it is missing. A torn or corrupt tail ends the replay with a warning and keeps
// what came before it, as Kafka's own recovery does; a missing directory is a cluster with no topics.
// The writing side (`writeMetadataLog`, `appendMetadataRecords`) appends batches in Kafka's format so Kafka's
// tools, and Kafka itself, can read what we write. The layer rolls segments at `metadata.log.segment.bytes`
// and, every `metadata.log.max.record.bytes.between.snapshots` bytes of records, writes a snapshot of the image
// as Kafka does, then deletes the segments and older snapshots it covers, so the log does not grow forever.
import { Clock, Effect, Exit, FileSystem, Layer, Schema, Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { concat } from "../../protocol/Bytes.ts"
import {
  encodeMetadataBatch,
  encodeMetadataSnapshot,
  type NewMetadataRecord,
  readMetadataBatches,
  readMetadataSnapshot
} from "../../protocol/MetadataRecords.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { ClusterMetadata, type Update } from "../../services/metadata/ClusterMetadata.ts"
import { emptyImage, imageRecords, type MetadataImage, replay } from "../../services/metadata/MetadataImage.ts"
import { describeFailure, LogDirUnavailable, StorageError } from "../../services/Errors.ts"
import { parseProperties } from "../config/PropertiesConfig.ts"

export const METADATA_DIR = "__cluster_metadata-0"
export const META_PROPERTIES = "meta.properties"

// Only exact names count: Kafka leaves `.deleted`, `.cleaned`, `.swap` and `.checkpoint.part` files behind.
const SEGMENT = /^(\d{20})\.log$/
const SNAPSHOT = /^(\d{20})-(\d{10})\.checkpoint$/
/** A snapshot being written: it becomes a snapshot by its rename, so one left behind was never finished. */
const PARTIAL_SNAPSHOT = /^\d{20}-\d{10}\.checkpoint\.part$/

export const segmentFileName = (baseOffset: number): string => `${String(baseOffset).padStart(20, "0")}.log`
export const snapshotFileName = (offset: number, epoch: number): string =>
  `${String(offset).padStart(20, "0")}-${String(epoch).padStart(10, "0")}.checkpoint`

/** meta.properties exists but cannot be used; the broker refuses to start rather than invent a new identity. */
export class MetaPropertiesError extends Schema.TaggedError<MetaPropertiesError>()("MetaPropertiesError", {
  message: Schema.String
}) {}

// ---------------------------------------------------------------------------------------------------------
// Reading

interface LogFile {
  readonly name: string
  readonly offset: number
  readonly epoch: number
}

const listLogFiles = (names: ReadonlyArray<string>) => {
  const segments: Array<LogFile> = []
  const snapshots: Array<LogFile> = []
  for (const name of names) {
    const s = SEGMENT.exec(name)
    if (s !== null) segments.push({ name, offset: Number(s[1]), epoch: 0 })
    const c = SNAPSHOT.exec(name)
    if (c !== null) snapshots.push({ name, offset: Number(c[1]), epoch: Number(c[2]) })
  }
  segments.sort((a, b) => a.offset - b.offset)
  snapshots.sort((a, b) => b.offset - a.offset || b.epoch - a.epoch)
  return { segments, snapshots }
}

export interface MetadataLogState {
  readonly image: MetadataImage
  /** The offset the next metadata batch gets. */
  readonly nextOffset: number
  /** The Raft epoch of the last batch read, 0 when there is none. */
  readonly epoch: number
  /** Bytes of record batches read after the snapshot (the whole log without one). */
  readonly bytesSinceSnapshot: number
}

/** Replays the metadata log under `logDir`; a missing directory gives an empty image. */
export const readMetadataLog = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  logDir: string
): Effect.fn.Return<MetadataLogState, PlatformError> {
  const dir = `${logDir}/${METADATA_DIR}`
  if (!(yield* fs.exists(dir))) return { image: emptyImage, nextOffset: 0, epoch: 0, bytesSinceSnapshot: 0 }
  const { segments, snapshots } = listLogFiles(yield* fs.readDirectory(dir))

  let image = emptyImage
  let from = 0
  let nextOffset = segments[0]?.offset ?? 0
  let epoch = 0
  let bytesSinceSnapshot = 0

  const snapshot = snapshots[0]
  if (snapshot !== undefined) {
    // Snapshot batches are numbered from 0 within the file; the file name says which log offset they reach.
    const read = readMetadataSnapshot(yield* fs.readFile(`${dir}/${snapshot.name}`))
    yield* logSkipped(snapshot.name, read.skipped)
    if (read.problem !== undefined && segments[0]?.offset === 0) {
      yield* Effect.logWarning(
        `metadata snapshot ${snapshot.name}: ${read.problem.detail}; replaying the whole log instead`
      )
    } else {
      if (read.problem !== undefined) {
        yield* Effect.logWarning(
          `metadata snapshot ${snapshot.name}: ${read.problem.detail}; keeping its first ${read.records.length} records`
        )
      }
      image = replay(read.records)
      from = snapshot.offset
      nextOffset = Math.max(nextOffset, snapshot.offset)
      epoch = snapshot.epoch
    }
  }

  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    // A segment whose successor starts at or below `from` holds only offsets the snapshot covers.
    const following = segments[i + 1]
    if (following !== undefined && following.offset <= from) continue
    const read = readMetadataBatches(yield* fs.readFile(`${dir}/${segment.name}`), from)
    yield* logSkipped(segment.name, read.skipped)
    image = replay(read.records, image)
    bytesSinceSnapshot += read.recordBytes
    nextOffset = Math.max(nextOffset, read.nextOffset ?? segment.offset)
    epoch = read.lastEpoch ?? epoch
    if (read.problem !== undefined) {
      // Later segments would follow a gap: stop here, as Kafka's recovery truncates at the first bad batch.
      yield* Effect.logWarning(
        `metadata log ${segment.name}: ${read.problem.detail}; ignoring the log from byte ${read.validBytes} on`
      )
      break
    }
  }
  return { image, nextOffset, epoch, bytesSinceSnapshot }
})

const logSkipped = (file: string, skipped: ReadonlyArray<string>) =>
  Effect.forEach(skipped, (why) => Effect.logWarning(`metadata ${file}: skipped ${why}`), { discard: true })

// ---------------------------------------------------------------------------------------------------------
// meta.properties

/** A new cluster id as Kafka makes one: a random (version 4) UUID in URL-safe base64, 22 characters. */
export const generateClusterId = (): string => {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16))
    bytes[6] = (bytes[6]! & 0x0f) | 0x40
    bytes[8] = (bytes[8]! & 0x3f) | 0x80
    const id = Buffer.from(bytes).toString("base64url")
    // Kafka never hands out ids starting with "-": they read as options on a command line.
    if (!id.startsWith("-")) return id
  }
}

/** The cluster id from `<logDir>/meta.properties`, writing a new file (never replacing one) when there is none. */
export const readOrCreateClusterId = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  logDir: string,
  nodeId: number
): Effect.fn.Return<string, PlatformError | MetaPropertiesError> {
  const path = `${logDir}/${META_PROPERTIES}`
  if (!(yield* fs.exists(path))) {
    const id = generateClusterId()
    yield* fs.makeDirectory(logDir, { recursive: true })
    const text = `#\n#Written by the broker on first start\nversion=1\nnode.id=${nodeId}\ncluster.id=${id}\n`
    // "wx" fails if the file appeared meanwhile; then that file wins and is read below.
    const created = yield* fs.writeFileString(path, text, { flag: "wx" }).pipe(
      Effect.as(true),
      Effect.catchIf((e) => e.reason._tag === "AlreadyExists", () => Effect.succeed(false))
    )
    if (created) {
      yield* Effect.logInfo(`created ${path} with cluster id ${id}`)
      return id
    }
  }
  const properties = parseProperties(yield* fs.readFileString(path))
  const id = properties["cluster.id"]?.trim()
  if (id === undefined || id === "") {
    return yield* new MetaPropertiesError({ message: `${path} has no cluster.id` })
  }
  const storedNode = properties["node.id"]
  if (storedNode !== undefined && Number(storedNode) !== nodeId) {
    yield* Effect.logWarning(`${path} was written by node ${storedNode}, this broker is node.id=${nodeId}`)
  }
  return id
})

// ---------------------------------------------------------------------------------------------------------
// The layer

/**
 * ClusterMetadata from the log dir named by BrokerConfig. Updates append one batch to the active segment and
 * fsync it before the image changes: a topic the broker acknowledged is still there after a crash.
 */
export const make = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const config = yield* BrokerConfig
  const unusable = (cause: PlatformError) => new LogDirUnavailable({ dir: config.logDir, detail: describeFailure(cause) })
  const clusterId = yield* readOrCreateClusterId(fs, config.logDir, config.nodeId).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(unusable(e))))
  const loaded = yield* readMetadataLog(fs, config.logDir).pipe(Effect.mapError(unusable))
  const dir = `${config.logDir}/${METADATA_DIR}`
  yield* removePartialSnapshots(fs, dir).pipe(Effect.mapError(unusable))
  yield* Effect.logInfo(
    `cluster ${clusterId}: ${loaded.image.topics.size} topics from the metadata log (next offset ${loaded.nextOffset})`
  )
  let image = loaded.image
  let nextOffset = loaded.nextOffset
  const epoch = Math.max(1, loaded.epoch)
  // As Kafka's snapshot generator, the log replayed at start counts towards the next snapshot.
  let bytesSinceSnapshot = loaded.bytesSinceSnapshot
  let lastTimestamp = -1
  // The newest snapshot written here. What it covers is deleted once it is written and after each roll: the
  // segment being appended to when it was taken goes once the log has moved past it.
  let snapshotOffset: number | undefined
  const lock = yield* Semaphore.make(1)
  const scope = yield* Effect.scope
  // Opened on the first update: a broker that only reads never creates the metadata log.
  let active: { readonly file: FileSystem.File; readonly scope: Scope.Closeable; size: number } | undefined

  const open = (name: string) =>
    Effect.gen(function*() {
      const segmentScope = yield* Scope.fork(scope)
      const file = yield* Scope.provide(fs.open(`${dir}/${name}`, { flag: "a" }), segmentScope)
      return { file, scope: segmentScope, size: Number((yield* file.stat).size) }
    })

  const append = (records: ReadonlyArray<NewMetadataRecord>) =>
    Effect.gen(function*() {
      if (active === undefined) {
        // Cuts a torn tail and finds the segment to continue (creating the log when there is none).
        yield* writeMetadataLog(fs, config.logDir, [])
        const last = listLogFiles(yield* fs.readDirectory(dir)).segments.at(-1)
        active = yield* open(last?.name ?? segmentFileName(nextOffset))
      }
      const timestamp = yield* Clock.currentTimeMillis
      const batch = encodeMetadataBatch(records, { baseOffset: nextOffset, epoch, timestamp })
      // As Kafka's log: a segment with data is rolled before a batch would take it past the segment size.
      const roll = active.size > 0 && active.size + batch.length > config.metadataLogSegmentBytes
      if (roll) {
        const full = active
        active = undefined
        yield* Scope.close(full.scope, Exit.void)
        active = yield* open(segmentFileName(nextOffset))
      }
      yield* active.file.writeAll(batch)
      yield* active.file.sync
      active.size += batch.length
      nextOffset += records.length
      bytesSinceSnapshot += batch.length
      lastTimestamp = timestamp
      return roll
    }).pipe(Effect.mapError((cause) => new StorageError({ partition: METADATA_DIR, cause })))

  const deleteCovered = Effect.gen(function*() {
    if (snapshotOffset === undefined) return
    const deleted = yield* deleteBeforeSnapshot(fs, dir, snapshotOffset)
    if (deleted.length > 0) {
      yield* Effect.logInfo(`metadata log: deleted ${deleted.join(", ")}, covered by the snapshot at offset ${snapshotOffset}`)
    }
  })

  // Written under the update lock, so the snapshot is exactly the image at `nextOffset`.
  const snapshot = Effect.gen(function*() {
    const name = snapshotFileName(nextOffset, epoch)
    const bytes = encodeMetadataSnapshot(imageRecords(image), {
      epoch,
      lastContainedLogTimestamp: lastTimestamp,
      timestamp: yield* Clock.currentTimeMillis
    })
    yield* writeDurably(fs, dir, name, bytes)
    bytesSinceSnapshot = 0
    snapshotOffset = nextOffset
    yield* Effect.logInfo(`metadata snapshot ${name}: ${image.topics.size} topics in ${bytes.length} bytes`)
    yield* deleteCovered
  })

  const update = <A, E, R>(decide: (image: MetadataImage) => Effect.Effect<Update<A>, E, R>) =>
    lock.withPermit(Effect.gen(function*() {
      const { records, result } = yield* decide(image)
      if (records.length > 0) {
        const rolled = yield* append(records)
        image = replay(records, image)
        // The records are committed either way: a snapshot that fails is tried again after the next update.
        const housekeeping = bytesSinceSnapshot >= config.metadataSnapshotMaxNewRecordBytes ? snapshot : rolled ? deleteCovered : Effect.void
        yield* housekeeping.pipe(
          Effect.catch((e) => Effect.logWarning(`metadata log at offset ${nextOffset}: ${describeFailure(e)}`))
        )
      }
      return result
    }))

  return ClusterMetadata.of({
    clusterId,
    image: Effect.sync(() => image),
    log: Effect.sync(() => ({ endOffset: nextOffset, epoch })),
    update
  })
})

export const layer = Layer.effect(ClusterMetadata, make)

// ---------------------------------------------------------------------------------------------------------
// Writing

/** Deletes `.checkpoint.part` files, as Kafka does at start: a crash left them before they were complete. */
const removePartialSnapshots = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, dir: string) {
  if (!(yield* fs.exists(dir))) return
  for (const name of yield* fs.readDirectory(dir)) {
    if (PARTIAL_SNAPSHOT.test(name)) {
      yield* Effect.logWarning(`metadata log: deleting the unfinished snapshot ${name}`)
      yield* fs.remove(`${dir}/${name}`)
    }
  }
})

/**
 * Writes `<dir>/<name>` so that it is either absent or whole: the bytes go to `<name>.part`, are fsynced, and
 * the file is renamed into place (then the directory is fsynced, where the platform allows, to keep the rename).
 */
const writeDurably = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, dir: string, name: string, bytes: Uint8Array) {
  const part = `${dir}/${name}.part`
  yield* Effect.scoped(Effect.gen(function*() {
    const file = yield* fs.open(part, { flag: "w" })
    yield* file.writeAll(bytes)
    yield* file.sync
  }))
  yield* fs.rename(part, `${dir}/${name}`)
  yield* Effect.scoped(Effect.flatMap(fs.open(dir), (d) => d.sync)).pipe(Effect.ignore)
})

/**
 * Deletes what the snapshot ending at `offset` makes redundant: older snapshots, and each segment whose
 * successor starts at or below `offset` (all its records are in the snapshot). The last segment, the one
 * appended to, always stays. Returns the names deleted.
 */
const deleteBeforeSnapshot = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, dir: string, offset: number) {
  const { segments, snapshots } = listLogFiles(yield* fs.readDirectory(dir))
  const covered = [
    ...segments.filter((_, i) => (segments[i + 1]?.offset ?? Infinity) <= offset),
    ...snapshots.filter((s) => s.offset < offset)
  ]
  for (const file of covered) yield* fs.remove(`${dir}/${file.name}`)
  return covered.map((f) => f.name)
})

export interface WriteOptions {
  /** The Raft epoch stored in each batch; defaults to the last batch's, or 1 for a new log. */
  readonly epoch?: number
  readonly timestamp?: number
}

/**
 * Appends `batches` to the metadata log under `logDir`, each inner array as one batch (Kafka applies a
 * batch atomically: a topic and its partitions belong in one). Creates the directory and the first segment
 * when missing; a torn tail on the last segment is cut off first so the new batches follow valid ones.
 * Returns the offset after the last record written.
 */
export const writeMetadataLog = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  logDir: string,
  batches: ReadonlyArray<ReadonlyArray<NewMetadataRecord>>,
  options: WriteOptions = {}
): Effect.fn.Return<number, PlatformError> {
  const dir = `${logDir}/${METADATA_DIR}`
  yield* fs.makeDirectory(dir, { recursive: true })
  const { segments, snapshots } = listLogFiles(yield* fs.readDirectory(dir))
  const last = segments.at(-1)

  // A new log starts where the newest snapshot ends (offset 0 without one).
  let path = `${dir}/${segmentFileName(snapshots[0]?.offset ?? 0)}`
  let nextOffset = snapshots[0]?.offset ?? 0
  let epoch = snapshots[0]?.epoch ?? 1
  if (last !== undefined) {
    path = `${dir}/${last.name}`
    const bytes = yield* fs.readFile(path)
    const read = readMetadataBatches(bytes, Infinity)
    nextOffset = read.nextOffset ?? last.offset
    epoch = read.lastEpoch ?? epoch
    if (read.problem !== undefined) {
      yield* Effect.logWarning(
        `metadata log ${last.name}: ${read.problem.detail}; truncating to ${read.validBytes} bytes before appending`
      )
      yield* fs.truncate(path, read.validBytes)
    }
  }

  const encoded: Array<Uint8Array> = []
  for (const records of batches) {
    if (records.length === 0) continue
    encoded.push(encodeMetadataBatch(records, { baseOffset: nextOffset, epoch: options.epoch ?? epoch, timestamp: options.timestamp }))
    nextOffset += records.length
  }
  if (encoded.length > 0) yield* fs.writeFile(path, concat(encoded), { flag: "a" })
  return nextOffset
})

/** Appends `records` as one batch; see `writeMetadataLog`. */
export const appendMetadataRecords = (
  fs: FileSystem.FileSystem,
  logDir: string,
  records: ReadonlyArray<NewMetadataRecord>,
  options: WriteOptions = {}
): Effect.Effect<number, PlatformError> => writeMetadataLog(fs, logDir, [records], options)
