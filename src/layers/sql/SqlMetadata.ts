// ClusterMetadata over PostgreSQL: the KRaft metadata log (the same encoded record batches as
// `__cluster_metadata-0`, protocol/MetadataRecords.ts) kept in the table `metadata_log`, one row per batch, shared
// by every broker of the cluster.
//
// - Writers are serialized by the database: an update locks the table (readers are not blocked), reads the
//   batches other brokers appended since it last looked, decides on that latest image, inserts its batch at the
//   next offset and notifies, all in one transaction. So the log has one order, without gaps, and what `decide`
//   checked still holds when its records commit, whichever broker they went through.
// - Every broker replays the table at start into the same MetadataImage (services/metadata/MetadataImage.ts) and
//   then follows it: a NOTIFY on `metadata_log` (sent on commit) makes it read the batches past its offset, in
//   offset order. The listener reconnects on its own and catches up after each (re)connection.
// - The image a broker serves only ever moves forward through the log; it may lag another broker's by the
//   notification's delay, never reorder.
// - The log does not grow forever: the update whose batch takes the records since the last snapshot past
//   `metadata.log.max.record.bytes.between.snapshots` also writes a snapshot of the image (Kafka's snapshot
//   format) to `metadata_snapshot` and deletes the batches and snapshots it covers, in the same transaction.
//   A broker starts from the newest snapshot; one that finds its next batch deleted loads the snapshot past it.
import { PgClient } from "@effect/sql-pg"
import { Cause, Clock, Effect, Latch, Layer, Queue, Schedule, Semaphore } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import {
  encodeMetadataBatch,
  encodeMetadataSnapshot,
  readMetadataBatches,
  readMetadataSnapshot
} from "../../protocol/MetadataRecords.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { describeFailure, StorageError } from "../../services/Errors.ts"
import { ClusterMetadata, type Update } from "../../services/metadata/ClusterMetadata.ts"
import { emptyImage, imageRecords, type MetadataImage, replay } from "../../services/metadata/MetadataImage.ts"
import { generateClusterId } from "../metadata/KRaftMetadata.ts"

/** The NOTIFY channel of metadata_log; the payload is the log's new end offset. */
export const METADATA_CHANNEL = "metadata_log"

/** What the StorageErrors of this layer name as their partition. */
const LOG_NAME = "metadata_log"

/** Every batch is written with this Raft epoch: there is no Raft quorum, the database orders the log. */
const EPOCH = 1

interface Row {
  readonly base_offset: string | number | bigint
  readonly next_offset: string | number | bigint
  readonly batch: Uint8Array
}

interface SnapshotRow {
  readonly end_offset: string | number | bigint
  readonly snapshot: Uint8Array
}

const storageError = (cause: SqlError) => new StorageError({ partition: LOG_NAME, cause })

/** The cluster id stored in the database, chosen by the first broker to ask (`format -t` chooses it first). */
export const clusterIdOf = (sql: SqlClient, proposed: string = generateClusterId()): Effect.Effect<string, SqlError> =>
  Effect.gen(function*() {
    yield* sql`insert into cluster (cluster_id) values (${proposed}) on conflict do nothing`
    const rows = yield* sql<{ cluster_id: string }>`select cluster_id from cluster`
    return rows[0]!.cluster_id
  })

export interface Options {
  /**
   * Follow the log through notifications (the default). Without, the image moves only at this broker's own
   * updates, which read what is new first: tests use it to hold a broker behind.
   */
  readonly follow?: boolean
}

/**
 * ClusterMetadata over the tables of layers/sql/Migrations.ts (migrated before). The follower runs for as long
 * as the layer's scope.
 */
export const makeWith = (options: Options = {}) => Effect.gen(function*() {
  const sql = yield* SqlClient
  const pg = yield* PgClient.PgClient
  const config = yield* BrokerConfig
  const clusterId = yield* clusterIdOf(sql)

  let image: MetadataImage = emptyImage
  let nextOffset = 0
  /** Bytes of batches applied since the snapshot the image started from (the whole log without one). */
  let bytesSinceSnapshot = 0
  // One reader or writer of the local state at a time (the follower, updates); the database orders the brokers.
  const lock = yield* Semaphore.make(1)

  const readFrom = (offset: number) =>
    sql<Row>`select base_offset, next_offset, batch from metadata_log where base_offset >= ${offset} order by base_offset`

  /** The newest snapshot past `offset`, if any. */
  const snapshotPast = (offset: number) =>
    Effect.map(
      sql<SnapshotRow>`select end_offset, snapshot from metadata_snapshot where end_offset > ${offset} order by end_offset desc limit 1`,
      (rows) => rows[0]
    )

  const loadSnapshot = (row: SnapshotRow) =>
    Effect.gen(function*() {
      const end = Number(row.end_offset)
      const read = readMetadataSnapshot(row.snapshot)
      for (const why of read.skipped) yield* Effect.logWarning(`metadata_snapshot at ${end}: skipped ${why}`)
      if (read.problem !== undefined) {
        // Written in one transaction with the batches' deletion: a bad one cannot be worked around.
        return yield* Effect.die(new Error(`metadata_snapshot at ${end}: ${read.problem.detail}`))
      }
      image = replay(read.records)
      nextOffset = end
      bytesSinceSnapshot = 0
    })

  /** Applies batches read from the table (contiguous, in offset order, starting at or below nextOffset). */
  const apply = (rows: ReadonlyArray<Row>) =>
    Effect.gen(function*() {
      for (const row of rows) {
        const base = Number(row.base_offset)
        if (base < nextOffset) continue
        const read = readMetadataBatches(row.batch, 0)
        for (const why of read.skipped) yield* Effect.logWarning(`metadata_log at ${base}: skipped ${why}`)
        if (read.problem !== undefined) yield* Effect.logWarning(`metadata_log at ${base}: ${read.problem.detail}`)
        image = replay(read.records, image)
        nextOffset = Number(row.next_offset)
        bytesSinceSnapshot += row.batch.length
      }
    })

  /**
   * Brings the image to the end of the log. When the batch at nextOffset is gone (a snapshot past it deleted
   * it), starts again from that snapshot.
   */
  const readNew = Effect.gen(function*() {
    for (;;) {
      const rows = yield* readFrom(nextOffset)
      if (rows.length > 0 && Number(rows[0]!.base_offset) === nextOffset) return yield* apply(rows)
      const snapshot = yield* snapshotPast(nextOffset)
      if (snapshot === undefined) {
        if (rows.length === 0) return
        // Writers are serialized and only delete below a snapshot: a hole without one is not ours to paper over.
        return yield* Effect.die(new Error(`metadata_log: batch at ${rows[0]!.base_offset} follows offset ${nextOffset}: a gap`))
      }
      yield* loadSnapshot(snapshot)
    }
  })

  const catchUp = lock.withPermit(readNew)

  yield* catchUp
  yield* Effect.logInfo(
    `cluster ${clusterId}: ${image.topics.size} topics from metadata_log (next offset ${nextOffset})`
  )

  // Follow the log: LISTEN first, then catch up (nothing committed between the two is missed), then read past
  // our offset at each notification. A lost connection fails the queue: listen again after a second.
  const listening = yield* Latch.make(false)
  const follow = Effect.scoped(Effect.gen(function*() {
    const notifications = yield* pg.listen(METADATA_CHANNEL)
    yield* catchUp
    yield* listening.open
    return yield* Effect.forever(Effect.andThen(Queue.takeAll(notifications), catchUp))
  }))
  if (options.follow !== false) {
    yield* follow.pipe(
      Effect.tapError((e) => Effect.logWarning(`metadata_log: following the log failed (${describeFailure(e)}); listening again`)),
      Effect.retry(Schedule.spaced("1 second")),
      // Only an impossible log (a gap, a bad snapshot) ends it: say so loudly, the image stops moving.
      Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("metadata_log: no longer following the log", cause)),
      Effect.forkScoped
    )
    yield* listening.await
  }

  const update = <A, E, R>(decide: (image: MetadataImage) => Effect.Effect<Update<A>, E, R>) =>
    lock.withPermit(Effect.gen(function*() {
      const decided = yield* sql.withTransaction(Effect.gen(function*() {
        // EXCLUSIVE: one writer at a time, plain reads go on. Held until commit, so batches commit in offset order.
        yield* sql`lock table metadata_log in exclusive mode`
        yield* readNew
        const { records, result } = yield* decide(image)
        if (records.length === 0) return { result, records, next: nextOffset, bytes: 0, snapshot: false }
        const next = nextOffset + records.length
        const timestamp = yield* Clock.currentTimeMillis
        const batch = encodeMetadataBatch(records, { baseOffset: nextOffset, epoch: EPOCH, timestamp })
        yield* sql`insert into metadata_log (base_offset, next_offset, batch) values (${nextOffset}, ${next}, ${batch})`
        const snapshot = bytesSinceSnapshot + batch.length >= config.metadataSnapshotMaxNewRecordBytes
        if (snapshot) {
          const bytes = encodeMetadataSnapshot(imageRecords(replay(records, image)), { epoch: EPOCH, lastContainedLogTimestamp: timestamp, timestamp })
          yield* sql`insert into metadata_snapshot (end_offset, snapshot) values (${next}, ${bytes})`
          yield* sql`delete from metadata_log where next_offset <= ${next}`
          yield* sql`delete from metadata_snapshot where end_offset < ${next}`
        }
        yield* sql`select pg_notify(${METADATA_CHANNEL}, ${String(next)})`
        return { result, records, next, bytes: batch.length, snapshot }
      }))
      // Committed: apply our own batch (the notification it sent finds nothing new). When the commit's outcome
      // is unknown (a lost connection) nothing is applied, and the next catch-up reads the batch if it is there.
      if (decided.records.length > 0) {
        image = replay(decided.records, image)
        nextOffset = decided.next
        bytesSinceSnapshot = decided.snapshot ? 0 : bytesSinceSnapshot + decided.bytes
        if (decided.snapshot) yield* Effect.logInfo(`metadata_snapshot at offset ${decided.next}: ${image.topics.size} topics; the log below it deleted`)
      }
      return decided.result
    })).pipe(Effect.mapError((e) => (isSqlError(e) ? storageError(e) : e) as E | StorageError))

  return ClusterMetadata.of({
    clusterId,
    image: Effect.sync(() => image),
    log: Effect.sync(() => ({ endOffset: nextOffset, epoch: EPOCH })),
    update: update as ClusterMetadata["Service"]["update"]
  })
}).pipe(Effect.mapError(storageError))

export const make = makeWith()

export const layer: Layer.Layer<ClusterMetadata, StorageError, SqlClient | PgClient.PgClient | BrokerConfig> = Layer.effect(ClusterMetadata, make)

export const layerWith = (options: Options): Layer.Layer<ClusterMetadata, StorageError, SqlClient | PgClient.PgClient | BrokerConfig> =>
  Layer.effect(ClusterMetadata, makeWith(options))
