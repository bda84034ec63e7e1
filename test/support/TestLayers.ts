// The broker's services for unit tests, over the in-memory file system: the live BrokerConfig, KRaftMetadata
// and FileLogStore layers, exactly as Main wires them, with the topics a test names written to the metadata
// log first. A restart is building `layer` again over the same file system.
//
// `call` runs a handler the way a connection would: the request is encoded and decoded at the given version
// (so fields that version lacks arrive as their defaults), and so is the response (so the test sees what the
// client would read).
import { createHash } from "node:crypto"
import { Effect, FileSystem, Layer } from "effect"
import * as Broker from "../../src/layers/Broker.ts"
import * as KRaftMetadata from "../../src/layers/metadata/KRaftMetadata.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import * as Migrations from "../../src/layers/sql/Migrations.ts"
import * as PgClient from "../../src/layers/sql/PgClient.ts"
import * as SqlLogStore from "../../src/layers/sql/SqlLogStore.ts"
import { databaseFor, sameLogs, sqlLogStores } from "./SqlLogStores.ts"
import { ByteReader, type ByteSource, ByteWriter, bytesOf, concat } from "../../src/protocol/Bytes.ts"
import { requestCodec, responseCodec } from "../../src/protocol/Message.ts"
import { bootstrapRecords, type NewMetadataRecord, topicRecords } from "../../src/protocol/MetadataRecords.ts"
import { readHeader, scanBatches, type BatchHeader } from "../../src/protocol/RecordBatch.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { ConfigResource } from "../../src/services/metadata/MetadataImage.ts"
import { type ConnectionInfo, type Handler, NoResponse, type RequestContext } from "../../src/services/api/Handler.ts"
import * as GroupCoordinator from "../../src/services/group/GroupCoordinator.ts"
import { LogStore, partitionName, type TopicPartition } from "../../src/services/log/LogStore.ts"
import { BufferPool } from "../../src/services/network/BufferPool.ts"
import { ProducerIds } from "../../src/services/metadata/ProducerIds.ts"
import { ClientQuotas } from "../../src/services/quota/ClientQuotas.ts"
import { ScramCredentials } from "../../src/services/security/ScramCredentials.ts"
import type { Hashing } from "../../src/services/security/Hashing.ts"
import type { BrokerMetrics } from "../../src/services/metrics/BrokerStats.ts"
import { TransactionCoordinator } from "../../src/services/txn/TransactionCoordinator.ts"

export const LOG_DIR = "/data"

export const defaultProperties: Readonly<Record<string, string>> = {
  "log.dirs": LOG_DIR,
  "node.id": "1",
  "listeners": "PLAINTEXT://:9092"
}

export type BrokerServices =
  | BrokerConfig
  | ClusterMetadata
  | LogStore
  | GroupCoordinator.GroupCoordinator
  | TransactionCoordinator
  | ProducerIds
  | ClientQuotas
  | ScramCredentials
  | BrokerMetrics
  | Hashing
  | BufferPool
  | FileSystem.FileSystem

export interface BrokerOptions {
  /** Merged over `defaultProperties`. */
  readonly properties?: Readonly<Record<string, string>>
  /** Topics to have in the metadata log: name → partition count. Topics the log already holds are left as they are. */
  readonly topics?: Readonly<Record<string, number>>
  /** Topic configs of those topics, written with them (ConfigRecords). */
  readonly topicConfigs?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /**
   * A PostgreSQL URL: the partition logs are kept there (layers/sql/SqlLogStore.ts, its schema migrated first)
   * instead of in files; the metadata stays in the file system's metadata log.
   */
  readonly logStoreUrl?: string
}

/** A stable topic id per name, so tests (and restarts) can name topics by id without asking the image. */
export const topicIdOf = (name: string): string => {
  const h = createHash("sha256").update(name).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** Writes the topics the metadata log under the configured log dir does not hold yet. */
const seedTopics = (
  fs: FileSystem.FileSystem,
  topics: Readonly<Record<string, number>>,
  topicConfigs: Readonly<Record<string, Readonly<Record<string, string>>>>
) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const config = yield* BrokerConfig
    const { image, nextOffset } = yield* KRaftMetadata.readMetadataLog(fs, config.logDir)
    const batches: Array<Array<NewMetadataRecord>> = []
    for (const [name, partitions] of Object.entries(topics)) {
      if (image.topics.has(name)) continue
      batches.push([
        ...topicRecords(name, topicIdOf(name), partitions, config.nodeId),
        ...Object.entries(topicConfigs[name] ?? {}).map(([key, value]): NewMetadataRecord => ({
          type: "Config",
          resourceType: ConfigResource.Topic,
          resourceName: name,
          name: key,
          value
        }))
      ])
    }
    if (batches.length === 0) return
    if (nextOffset === 0) batches.unshift(bootstrapRecords())
    yield* KRaftMetadata.writeMetadataLog(fs, config.logDir, batches)
  }))

/**
 * BrokerConfig, the live ClusterMetadata and LogStore, and the FileSystem they use, built over `fs`. Fresh on
 * every build (nothing is shared through layer memoisation), so building it again is a broker restart.
 */
export const layer = (
  fs: FileSystem.FileSystem,
  options: BrokerOptions = {}
): Layer.Layer<BrokerServices, unknown> => {
  const base = Layer.mergeAll(
    MemoryFileSystem.layerWith(fs),
    BrokerConfig.layerFrom({ ...defaultProperties, ...options.properties })
  )
  // The topics are in the metadata log before the broker reads it.
  const config = seedTopics(fs, options.topics ?? {}, options.topicConfigs ?? {}).pipe(Layer.provideMerge(base))
  if (options.logStoreUrl === undefined && !sqlLogStores) return Broker.services(config).pipe(Layer.fresh)
  const overSql = (url: string) => {
    const client = Migrations.layer.pipe(Layer.provideMerge(PgClient.layerFromUrl(url, { maxConnections: 6 })))
    return Broker.servicesWith(Layer.merge(config, client), SqlLogStore.layer())
  }
  return (options.logStoreUrl !== undefined
    ? overSql(options.logStoreUrl)
    : Layer.unwrap(Effect.map(Effect.promise(() => databaseFor(fs)), overSql))).pipe(Layer.fresh)
}


/**
 * `fs` with file handles that yield to other fibers before every write and read, as a real disk would: the
 * in-memory file system completes each call at once, which would hide missing serialisation between fibers.
 */
export const yielding = (fs: FileSystem.FileSystem): FileSystem.FileSystem => {
  const wrapped = FileSystem.make({
    ...fs,
    open: (path, options) =>
      Effect.map(fs.open(path, options), (file): FileSystem.File => ({
        [FileSystem.FileTypeId]: FileSystem.FileTypeId,
        stat: file.stat,
        sync: file.sync,
        seek: (offset, from) => file.seek(offset, from),
        read: (buffer, o) => Effect.andThen(Effect.yieldNow, file.read(buffer, o)),
        readAlloc: (size, o) => Effect.andThen(Effect.yieldNow, file.readAlloc(size, o)),
        truncate: (length) => file.truncate(length),
        write: (buffer) => Effect.andThen(Effect.yieldNow, file.write(buffer)),
        writeAll: (buffer) => Effect.andThen(Effect.yieldNow, file.writeAll(buffer))
      }))
  })
  sameLogs(wrapped, fs)
  return wrapped
}

/** `layer` over a new, empty in-memory file system. */
export const fresh = (options: BrokerOptions = {}) => layer(MemoryFileSystem.make(), options)

// ---------------------------------------------------------------------------------------------------------
// Calling handlers

export const connection: ConnectionInfo = {
  id: 1,
  localHost: "127.0.0.1",
  localPort: 9092,
  remote: "127.0.0.1:54321",
  principal: "User:ANONYMOUS"
}

/** A request context for calling a handler directly. */
export const context: RequestContext = {
  apiVersion: 0,
  correlationId: 1,
  clientId: "unit-test",
  connection
}

export const contextAt = (apiVersion: number, conn: Partial<ConnectionInfo> = {}): RequestContext => ({
  ...context,
  apiVersion,
  connection: { ...connection, ...conn }
})

type Codec<A> = { read: (r: ByteReader) => A; write: (w: ByteWriter, value: A) => void }

/** Encodes then decodes `value` with the codec of `version`: what the other side of the wire would see. */
const overTheWire = <A>(codec: Codec<A>, value: A): A => {
  const w = new ByteWriter()
  codec.write(w, value)
  return codec.read(new ByteReader(w.toBytes()))
}

/** `overTheWire` for responses, whose records may still be in the log: they are read as a connection would. */
const responseOverTheWire = <A>(codec: Codec<A>, value: A): Effect.Effect<A> =>
  Effect.gen(function*() {
    const w = new ByteWriter()
    codec.write(w, value)
    const parts = yield* Effect.forEach(w.finish(), bytesOf)
    return codec.read(new ByteReader(concat(parts)))
  }).pipe(Effect.orDie)

/** Runs `h` on `request` at `version` as a connection would, both messages passing through their codecs. */
export const call = <Req, Res, R>(
  h: Handler<Req, Res, R>,
  version: number,
  request: Req,
  conn: Partial<ConnectionInfo> = {}
): Effect.Effect<Res | NoResponse, never, R> =>
  Effect.suspend(() => {
    if (version < h.minVersion || version > h.maxVersion) {
      return Effect.die(new Error(`${h.api.name} v${version} is outside ${h.minVersion}-${h.maxVersion}`))
    }
    const decoded = overTheWire(requestCodec(h.api, version), request)
    return Effect.flatMap(h.handle(decoded, contextAt(version, conn)), (response): Effect.Effect<Res | NoResponse> =>
      response === NoResponse ? Effect.succeed(NoResponse) : responseOverTheWire(responseCodec(h.api, version), response))
  })

/** Records as a client has them: a decoded response always holds their bytes. */
export const received = (records: Uint8Array | ByteSource | null): Uint8Array => {
  if (records === null) return new Uint8Array(0)
  if (!(records instanceof Uint8Array)) throw new Error("records of a decoded response must be bytes")
  return records
}

/** `call` for handlers that always answer. */
export const callResponse = <Req, Res, R>(
  h: Handler<Req, Res, R>,
  version: number,
  request: Req,
  conn: Partial<ConnectionInfo> = {}
): Effect.Effect<Res, never, R> =>
  Effect.flatMap(call(h, version, request, conn), (response) =>
    response === NoResponse ? Effect.die(new Error(`${h.api.name} gave no response`)) : Effect.succeed(response))

// ---------------------------------------------------------------------------------------------------------
// Looking at the log dir

export const segmentPath = (tp: TopicPartition, logDir = LOG_DIR): string =>
  `${logDir}/${partitionName(tp)}/00000000000000000000.log`

/**
 * The bytes of a partition's log file (none before its first append, which makes the file); over PostgreSQL
 * (`sqlLogStores`), every batch of the partition from its log start.
 */
export const readLog = (tp: TopicPartition, logDir = LOG_DIR) =>
  Effect.gen(function*() {
    if (sqlLogStores) {
      const store = yield* LogStore
      const parts: Array<Uint8Array> = []
      let offset = (yield* store.offsets(tp)).logStartOffset
      for (;;) {
        const read = yield* store.read(tp, offset, 1 << 30, true)
        const bytes = yield* bytesOf(read.records)
        if (bytes.length === 0) break
        parts.push(bytes)
        for (let at = 0; at < bytes.length;) {
          const h = readHeader(bytes, at)
          offset = h.baseOffset + h.lastOffsetDelta + 1
          at += h.size
        }
        if (offset >= read.logEndOffset) break
      }
      return concat(parts)
    }
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readFile(segmentPath(tp, logDir)).pipe(
      Effect.catchIf((e) => e.reason._tag === "NotFound", () => Effect.succeed(new Uint8Array(0)))
    )
  }).pipe(Effect.orDie)

export interface StoredBatch {
  readonly header: BatchHeader
  readonly position: number
  readonly bytes: Uint8Array
}

/** The batches in `bytes`, walked with `scanBatches`; dies if the bytes are not whole, valid batches. */
export const batchesIn = (bytes: Uint8Array): Array<StoredBatch> => {
  const out: Array<StoredBatch> = []
  const { problem } = scanBatches(bytes, (header, position) =>
    out.push({ header, position, bytes: bytes.subarray(position, position + header.size) }))
  if (problem !== undefined) throw new Error(`not a clean log: ${problem.kind}: ${problem.detail}`)
  return out
}
