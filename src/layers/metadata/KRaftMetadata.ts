// The live ClusterMetadata: on start it replays the KRaft metadata log Kafka keeps in
// `<log.dir>/__cluster_metadata-0/` (the newest `<offset>-<epoch>.checkpoint` snapshot if any, then the
// `<base offset>.log` segments from that offset on) and reads the cluster id from `<log.dir>/meta.properties`,
// creating that file once when it is missing. A torn or corrupt tail ends the replay with a warning and keeps
// what came before it, as Kafka's own recovery does; a missing directory is a cluster with no topics.
// The writing side (`writeMetadataLog`, `appendMetadataRecords`) appends batches in Kafka's format so Kafka's
// tools, and Kafka itself, can read what we write.
import { Effect, FileSystem, Layer, Schema, Scope, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { concat } from "../../protocol/Bytes.ts"
import {
  encodeMetadataBatch,
  type NewMetadataRecord,
  readMetadataBatches
} from "../../protocol/MetadataRecords.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { ClusterMetadata, type Update } from "../../services/metadata/ClusterMetadata.ts"
import { emptyImage, type MetadataImage, replay } from "../../services/metadata/MetadataImage.ts"
import { describeFailure, LogDirUnavailable, StorageError } from "../../services/Errors.ts"
import { parseProperties } from "../config/PropertiesConfig.ts"

export const METADATA_DIR = "__cluster_metadata-0"
export const META_PROPERTIES = "meta.properties"

// Only exact names count: Kafka leaves `.deleted`, `.cleaned`, `.swap` and `.checkpoint.part` files behind.
const SEGMENT = /^(\d{20})\.log$/
const SNAPSHOT = /^(\d{20})-(\d{10})\.checkpoint$/

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
}

/** Replays the metadata log under `logDir`; a missing directory gives an empty image. */
export const readMetadataLog = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  logDir: string
): Effect.fn.Return<MetadataLogState, PlatformError> {
  const dir = `${logDir}/${METADATA_DIR}`
  if (!(yield* fs.exists(dir))) return { image: emptyImage, nextOffset: 0, epoch: 0 }
  const { segments, snapshots } = listLogFiles(yield* fs.readDirectory(dir))

  let image = emptyImage
  let from = 0
  let nextOffset = segments[0]?.offset ?? 0
  let epoch = 0

  const snapshot = snapshots[0]
  if (snapshot !== undefined) {
    // Snapshot batches are numbered from 0 within the file; the file name says which log offset they reach.
    const read = readMetadataBatches(yield* fs.readFile(`${dir}/${snapshot.name}`))
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
  return { image, nextOffset, epoch }
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
 * ClusterMetadata from the log dir named by BrokerConfig. Updates append one batch to the last segment and
 * fsync it before the image changes: a topic the broker acknowledged is still there after a crash.
 */
export const make = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const config = yield* BrokerConfig
  const unusable = (cause: PlatformError) => new LogDirUnavailable({ dir: config.logDir, detail: describeFailure(cause) })
  const clusterId = yield* readOrCreateClusterId(fs, config.logDir, config.nodeId).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(unusable(e))))
  const loaded = yield* readMetadataLog(fs, config.logDir).pipe(Effect.mapError(unusable))
  yield* Effect.logInfo(
    `cluster ${clusterId}: ${loaded.image.topics.size} topics from the metadata log (next offset ${loaded.nextOffset})`
  )
  let image = loaded.image
  let nextOffset = loaded.nextOffset
  const epoch = Math.max(1, loaded.epoch)
  const lock = yield* Semaphore.make(1)
  const scope = yield* Effect.scope
  // Opened on the first update: a broker that only reads never creates the metadata log.
  let segment: FileSystem.File | undefined

  const append = (records: ReadonlyArray<NewMetadataRecord>) =>
    Effect.gen(function*() {
      if (segment === undefined) {
        // Cuts a torn tail and finds the segment to continue (creating the log when there is none).
        yield* writeMetadataLog(fs, config.logDir, [])
        const dir = `${config.logDir}/${METADATA_DIR}`
        const last = listLogFiles(yield* fs.readDirectory(dir)).segments.at(-1)
        segment = yield* Scope.provide(fs.open(`${dir}/${last?.name ?? segmentFileName(nextOffset)}`, { flag: "a" }), scope)
      }
      const batch = encodeMetadataBatch(records, { baseOffset: nextOffset, epoch })
      yield* segment.writeAll(batch)
      yield* segment.sync
      nextOffset += records.length
    }).pipe(Effect.mapError((cause) => new StorageError({ partition: METADATA_DIR, cause })))

  const update = <A, E, R>(decide: (image: MetadataImage) => Effect.Effect<Update<A>, E, R>) =>
    lock.withPermit(Effect.gen(function*() {
      const { records, result } = yield* decide(image)
      if (records.length > 0) {
        yield* append(records)
        image = replay(records, image)
      }
      return result
    }))

  return ClusterMetadata.of({ clusterId, image: Effect.sync(() => image), update })
})

export const layer = Layer.effect(ClusterMetadata, make)

// ---------------------------------------------------------------------------------------------------------
// Writing

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
