// The LogStore over PostgreSQL (schema: LogSchema.ts), for brokers that keep no state of their own: every
// broker over the same database serves the same logs.
//
// - An append of a producer's batch is one transaction: the partition's row is locked (SELECT … FOR UPDATE), the
//   producer's state checked by the same pure core the file store uses (services/log/ProducerState.ts), the
//   batch inserted with its base offset patched in and the log end moved on, then committed before the answer; a
//   batch without a producer id is one statement doing the same (UPDATE … RETURNING takes the lock). Two brokers
//   appending to one partition queue on that row lock, so no offset is assigned twice, and what is acknowledged
//   is committed. A duplicate is answered with its original's offset and writes nothing.
// - Reads are one statement over the (partition, last offset) index: whole batches from the one holding the
//   offset, their bytes concatenated by the server, up to maxBytes (at least one when asked), below the high
//   watermark or, read committed, the last stable offset (the first offset of the earliest open transaction),
//   with the aborted transactions of the range.
// - Long polls wake on the NOTIFY every append and marker sends in its transaction (delivered at commit, to
//   every broker's LISTEN), not by polling.
// - Retention (time, size) and DeleteRecords delete whole batches below the new log start; the last batch
//   always stays, as the file store keeps its active segment. The periodic pass runs on one broker of the
//   cluster per interval (a claim in log_maintenance); `enforceRetention` called directly runs at once.
// - Compaction (SqlCleaner.ts) cleans batches in place with the file store's pure core; the background pass
//   runs on one broker per `log.cleaner.backoff.ms` (a claim in log_maintenance).
//
// A database failure fails the request with KAFKA_STORAGE_ERROR (StorageError); nothing is answered as written
// unless it was committed.
import { PgClient } from "@effect/sql-pg/PgClient"
import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { type Marker, markerBatch } from "../../protocol/ControlRecords.ts"
import { type BatchHeader, CONTROL, decodeRecords, readHeader, setBaseOffset, TRANSACTIONAL } from "../../protocol/RecordBatch.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import { effectiveConfig } from "../../services/config/DynamicConfigs.ts"
import { OffsetOutOfRange, StorageError, UnknownTopicOrPartition } from "../../services/Errors.ts"
import {
  type AbortedTransaction,
  type AppendResult,
  appendEach,
  type CleanStats,
  type Isolation,
  LogStore,
  partitionName,
  type PartitionOffsets,
  type ProducerInfo,
  type ReadResult,
  type TimestampLookup,
  type TopicPartition
} from "../../services/log/LogStore.ts"
import { INTERNAL_LOGS, internalLogConfigs, type LogSettings, logSettings } from "../../services/log/Partition.ts"
import * as ProducerState from "../../services/log/ProducerState.ts"
import { ClusterMetadata } from "../../services/metadata/ClusterMetadata.ts"
import { cleanPartition } from "./SqlCleaner.ts"
import * as SqlLogWaits from "./SqlLogWaits.ts"

import { APPEND_CHANNEL } from "./SqlLogWaits.ts"

export { APPEND_CHANNEL }

/** At most this many batches per read (a read is sized by maxBytes first). */
const READ_BATCHES = 1000

/**
 * At most this many bytes per read whatever the client asks (at least one batch still comes): one result row
 * stays well below the client's largest backend message (16 MiB).
 */
const READ_MAX_BYTES = 8 * 1024 * 1024

export interface SqlLogStoreOptions {
  /** What DescribeLogDirs names as the log dir (default "postgresql"). */
  readonly path?: string
}

interface PartitionRow {
  readonly id: number
  readonly nextOffset: number
  readonly logStartOffset: number
  readonly deleted: boolean
}

interface PartitionState extends PartitionRow, PartitionOffsets {}

const num = (v: unknown): number => (v === null || v === undefined ? -1 : Number(v))
const bytesOf = (v: unknown): Uint8Array =>
  v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0)
const emptyRecords = new Uint8Array(0)
const noAborted: ReadonlyArray<AbortedTransaction> = []
const noOverrides = new Map<string, string>()

export const make = (options: SqlLogStoreOptions = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const pg = yield* PgClient
    const config = yield* BrokerConfig
    const metadata = yield* ClusterMetadata

    const failed = (tp: TopicPartition) => (cause: SqlError) => new StorageError({ partition: partitionName(tp), cause })

    const topicSettings = (topic: string): Effect.Effect<LogSettings> =>
      Effect.map(metadata.image, (image) => {
        const current = effectiveConfig(config, image)
        return logSettings(current, image.topics.get(topic)?.configs ?? internalLogConfigs(current, topic) ?? noOverrides)
      })

    // -------------------------------------------------------------------------------------------------------
    // Partition rows

    const rowOf = (r: any): PartitionRow => ({
      id: num(r.id),
      nextOffset: num(r.next_offset),
      logStartOffset: num(r.log_start_offset),
      deleted: r.deleted === true
    })

    /**
     * The partition's row, locked until the transaction ends, with the entry of `producerId` (-1: none) as a
     * ProducerState of its own for the pure checks; the row is made on first use (as the file store's directory).
     */
    const lockPartition = (tp: TopicPartition, producerId = -1) =>
      Effect.gen(function*() {
        const select = sql`SELECT p.id, p.next_offset, p.log_start_offset, p.deleted,
            o.epoch, o.coordinator_epoch, o.txn_first_offset, o.last_timestamp, o.batches
          FROM log_partitions p LEFT JOIN log_producers o ON o.partition_id = p.id AND o.producer_id = ${producerId}
          WHERE p.topic = ${tp.topic} AND p.partition = ${tp.partition} FOR UPDATE OF p`
        let rows = yield* select
        if (rows.length === 0) {
          yield* sql`INSERT INTO log_partitions (topic, partition) VALUES (${tp.topic}, ${tp.partition}) ON CONFLICT (topic, partition) DO NOTHING`
          rows = yield* select
        }
        const p = rowOf(rows[0])
        if (p.deleted) return yield* new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition })
        return { p, producers: producerState(producerId, rows[0]) }
      })

    const withOffsets = (p: PartitionRow, firstUnstable: number): PartitionState => ({
      ...p,
      logEndOffset: p.nextOffset,
      lastStableOffset: Math.max(p.logStartOffset, firstUnstable >= 0 ? firstUnstable : p.nextOffset)
    })

    /** The partition's row with its last stable offset, unlocked; undefined before its first append. */
    const stateOf = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const rows = yield* sql`SELECT p.id, p.next_offset, p.log_start_offset, p.deleted,
            (SELECT min(o.txn_first_offset) FROM log_producers o WHERE o.partition_id = p.id AND o.txn_first_offset >= 0) AS first_unstable
          FROM log_partitions p WHERE p.topic = ${tp.topic} AND p.partition = ${tp.partition}`
        if (rows.length === 0) return undefined
        const p = rowOf(rows[0])
        if (p.deleted) return yield* new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition })
        return withOffsets(p, num(rows[0]!.first_unstable))
      })

    const emptyOffsets: PartitionOffsets = { logStartOffset: 0, logEndOffset: 0, lastStableOffset: 0 }
    const offsetsOf = (s: PartitionState | undefined): PartitionOffsets =>
      s === undefined ? emptyOffsets : { logStartOffset: s.logStartOffset, logEndOffset: s.logEndOffset, lastStableOffset: s.lastStableOffset }

    /** Wakes the long polls of every broker, at commit. */
    const notifyEnd = (tp: TopicPartition, end: number) => sql`SELECT pg_notify(${APPEND_CHANNEL}, ${`${end} ${partitionName(tp)}`})`

    // -------------------------------------------------------------------------------------------------------
    // Producers: one producer's entry is loaded with the partition's row, checked by the pure core, and written
    // back with the batch.

    const producerState = (producerId: number, r: any): ProducerState.ProducerState => {
      const state = ProducerState.empty()
      if (r === undefined || r.epoch === null || r.epoch === undefined) return state
      const txn = num(r.txn_first_offset)
      state.producers.set(producerId, {
        epoch: num(r.epoch),
        batches: (JSON.parse(String(r.batches)) as Array<[number, number, number, number]>).map(([firstSequence, lastSequence, baseOffset, lastOffset]) => ({
          firstSequence,
          lastSequence,
          baseOffset,
          lastOffset
        })),
        coordinatorEpoch: num(r.coordinator_epoch),
        currentTxnFirstOffset: txn,
        lastTimestamp: num(r.last_timestamp)
      })
      if (txn >= 0) state.ongoing.set(producerId, txn)
      return state
    }

    const none = sql.literal("")

    /** The producer's entry written back, as one more part of the write's statement. */
    const saveProducer = (partitionId: number, producerId: number, state: ProducerState.ProducerState) => {
      const e = state.producers.get(producerId)
      if (e === undefined) return none
      const batches = JSON.stringify(e.batches.map((b) => [b.firstSequence, b.lastSequence, b.baseOffset, b.lastOffset]))
      return sql`, o AS (
          INSERT INTO log_producers (partition_id, producer_id, epoch, coordinator_epoch, txn_first_offset, last_timestamp, batches)
          VALUES (${partitionId}, ${producerId}, ${e.epoch}, ${e.coordinatorEpoch}, ${e.currentTxnFirstOffset}, ${e.lastTimestamp}, ${batches})
          ON CONFLICT (partition_id, producer_id) DO UPDATE SET epoch = EXCLUDED.epoch, coordinator_epoch = EXCLUDED.coordinator_epoch,
            txn_first_offset = EXCLUDED.txn_first_offset, last_timestamp = EXCLUDED.last_timestamp, batches = EXCLUDED.batches
        )`
    }

    /**
     * Writes a checked batch at the log end of the locked partition in one statement: the batch (its base offset
     * patched in), the partition's new log end, the parts given (the producer's entry, an aborted transaction)
     * and the NOTIFY. Answers the base offset.
     */
    const writeBatch = (tp: TopicPartition, p: PartitionRow, batch: Uint8Array, header: BatchHeader, ...parts: ReadonlyArray<ReturnType<typeof saveProducer>>) =>
      Effect.gen(function*() {
        const baseOffset = p.nextOffset
        setBaseOffset(batch, 0, baseOffset)
        const lastOffset = baseOffset + header.lastOffsetDelta
        yield* sql`WITH b AS (
            INSERT INTO log_batches (partition_id, base_offset, last_offset, max_timestamp, record_count, size, producer_id,
              producer_epoch, base_sequence, control, transactional, bytes)
            VALUES (${p.id}, ${baseOffset}, ${lastOffset}, ${header.maxTimestamp}, ${header.recordCount}, ${batch.length}, ${header.producerId},
              ${header.producerEpoch}, ${header.baseSequence}, ${(header.attributes & CONTROL) !== 0}, ${(header.attributes & TRANSACTIONAL) !== 0}, ${batch})
          ), u AS (UPDATE log_partitions SET next_offset = ${lastOffset + 1}, size_bytes = size_bytes + ${batch.length} WHERE id = ${p.id})
          ${parts[0] ?? none} ${parts[1] ?? none}
          SELECT pg_notify(${APPEND_CHANNEL}, ${`${lastOffset + 1} ${partitionName(tp)}`})`
        return baseOffset
      })

    /**
     * A batch without a producer id in one statement (no transaction around it): the partition's row is updated
     * (locked, its log end moved on), the batch inserted with the base offset patched into its bytes by the
     * server, and the NOTIFY sent, all committed together. Undefined when the partition has no row yet or is
     * deleted: the transactional path settles those.
     */
    const appendPlain = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      Effect.map(
        sql`WITH p AS (
            UPDATE log_partitions SET next_offset = next_offset + ${header.lastOffsetDelta + 1}, size_bytes = size_bytes + ${batch.length}
            WHERE topic = ${tp.topic} AND partition = ${tp.partition} AND NOT deleted
            RETURNING id, next_offset - ${header.lastOffsetDelta + 1} AS base, next_offset AS next, log_start_offset
          ), b AS (
            INSERT INTO log_batches (partition_id, base_offset, last_offset, max_timestamp, record_count, size, producer_id,
              producer_epoch, base_sequence, control, transactional, bytes)
            SELECT id, base, next - 1, ${header.maxTimestamp}, ${header.recordCount}, ${batch.length}, ${header.producerId},
              ${header.producerEpoch}, ${header.baseSequence}, ${(header.attributes & CONTROL) !== 0}, ${(header.attributes & TRANSACTIONAL) !== 0},
              overlay(${batch}::bytea PLACING int8send(base) FROM 1 FOR 8)
            FROM p
          )
          SELECT base, log_start_offset, pg_notify(${APPEND_CHANNEL}, next::text || ' ' || ${partitionName(tp)}) FROM p`,
        (rows): AppendResult | undefined => {
          const r = rows[0]
          if (r === undefined) return undefined
          const baseOffset = num(r.base)
          setBaseOffset(batch, 0, baseOffset)
          return { baseOffset, logStartOffset: num(r.log_start_offset), duplicate: false }
        }
      )

    const append = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      (ProducerState.isTracked(header.producerId) ? Effect.succeed(undefined) : appendPlain(tp, batch, header)).pipe(
        Effect.flatMap((done) => (done !== undefined ? Effect.succeed(done) : appendChecked(tp, batch, header))),
        Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e)))
      )

    /** An append in a transaction: the row locked, the producer's sequence checked, then written. */
    const appendChecked = (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) =>
      sql.withTransaction(Effect.gen(function*() {
        const { p, producers: state } = yield* lockPartition(tp, header.producerId)
        const checked = ProducerState.isTracked(header.producerId) ? ProducerState.check(state, header) : undefined
        if (checked?._tag === "Duplicate") {
          return { baseOffset: checked.baseOffset, logStartOffset: p.logStartOffset, duplicate: true } satisfies AppendResult
        }
        if (checked !== undefined && checked._tag !== "Append") return yield* checked
        // The entry as it will be once the batch is written at the log end (nothing of it stays if that fails).
        checked?.record(p.nextOffset)
        const baseOffset = yield* writeBatch(tp, p, batch, header, saveProducer(p.id, header.producerId, state))
        return { baseOffset, logStartOffset: p.logStartOffset, duplicate: false } satisfies AppendResult
      }))

    const writeMarker = (tp: TopicPartition, marker: Marker) =>
      sql.withTransaction(Effect.gen(function*() {
        const { p, producers: state } = yield* lockPartition(tp, marker.producerId)
        const now = yield* Clock.currentTimeMillis
        const checked = ProducerState.checkMarker(state, marker, now)
        if (checked._tag !== "Append") return yield* checked
        const batch = markerBatch(marker, now)
        const completed = checked.record(p.nextOffset)
        const aborted = completed?.aborted === true
          ? sql`, a AS (INSERT INTO log_aborted (partition_id, last_offset, producer_id, first_offset)
              VALUES (${p.id}, ${completed.lastOffset}, ${completed.producerId}, ${completed.firstOffset}))`
          : none
        return yield* writeBatch(tp, p, batch, readHeader(batch), saveProducer(p.id, marker.producerId, state), aborted)
      })).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    // -------------------------------------------------------------------------------------------------------
    // Reads

    const read = (tp: TopicPartition, offset: number, maxBytes: number, minOneBatch: boolean, isolation: Isolation = "uncommitted") =>
      Effect.gen(function*(): Effect.fn.Return<ReadResult, OffsetOutOfRange | UnknownTopicOrPartition | SqlError> {
        const s = yield* stateOf(tp)
        const offsets = offsetsOf(s)
        if (offset < offsets.logStartOffset || offset > offsets.logEndOffset) {
          return yield* new OffsetOutOfRange({ offset, logStartOffset: offsets.logStartOffset, logEndOffset: offsets.logEndOffset })
        }
        const committed = isolation === "committed"
        const maxOffset = committed ? offsets.lastStableOffset : offsets.logEndOffset
        if (s === undefined || offset >= maxOffset) return { ...offsets, records: emptyRecords, abortedTransactions: noAborted }
        // Sized on the index alone, then the bytes of the batches that fit, concatenated by the server.
        const rows = yield* sql`SELECT string_agg(b.bytes, ''::bytea ORDER BY b.base_offset) AS records, max(b.last_offset) AS last_offset
          FROM (
            SELECT base_offset, sum(size) OVER (ORDER BY last_offset) AS running, row_number() OVER (ORDER BY last_offset) AS n
            FROM (SELECT base_offset, last_offset, size FROM log_batches
              WHERE partition_id = ${s.id} AND last_offset >= ${offset} AND base_offset < ${maxOffset} AND record_count > 0
              ORDER BY last_offset LIMIT ${READ_BATCHES}) c
          ) w JOIN log_batches b ON b.partition_id = ${s.id} AND b.base_offset = w.base_offset
          WHERE w.running <= ${Math.min(READ_MAX_BYTES, Math.max(0, maxBytes))} OR (w.n = 1 AND ${minOneBatch})`
        const r = rows[0]
        if (r === undefined || r.records === null) return { ...offsets, records: emptyRecords, abortedTransactions: noAborted }
        const records = bytesOf(r.records)
        if (!committed) return { ...offsets, records, abortedTransactions: noAborted }
        const aborted = yield* sql`SELECT producer_id, first_offset FROM log_aborted
          WHERE partition_id = ${s.id} AND last_offset >= ${offset} AND first_offset <= ${num(r.last_offset)} ORDER BY first_offset`
        return {
          ...offsets,
          records,
          abortedTransactions: aborted.map((a) => ({ producerId: num(a.producer_id), firstOffset: num(a.first_offset) }))
        }
      }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    /** The first record at or after `timestamp` (-3: the one with the largest timestamp). */
    const offsetForTimestamp = (tp: TopicPartition, timestamp: number) =>
      Effect.gen(function*(): Effect.fn.Return<TimestampLookup | undefined, UnknownTopicOrPartition | SqlError> {
        const s = yield* stateOf(tp)
        if (s === undefined) return undefined
        const maxMode = timestamp === -3
        const rows = maxMode
          ? yield* sql`SELECT base_offset, max_timestamp, bytes FROM log_batches
              WHERE partition_id = ${s.id} AND last_offset >= ${s.logStartOffset} AND max_timestamp >= 0
              ORDER BY max_timestamp DESC, base_offset LIMIT 1`
          : yield* sql`SELECT base_offset, max_timestamp, bytes FROM log_batches
              WHERE partition_id = ${s.id} AND last_offset >= ${s.logStartOffset} AND max_timestamp >= ${timestamp}
              ORDER BY base_offset LIMIT 1`
        const r = rows[0]
        if (r === undefined) return undefined
        const target = maxMode ? num(r.max_timestamp) : timestamp
        const from = Math.max(s.logStartOffset, num(r.base_offset))
        // As Kafka's LogSegment.findOffsetByTimestamp, the batch's records (decompressed) give the exact one.
        const record = decodeRecords(bytesOf(r.bytes)).find((x) => x.offset >= from && (maxMode ? x.timestamp === target : x.timestamp >= target))
        return record === undefined
          ? { offset: num(r.base_offset), timestamp: num(r.max_timestamp) }
          : { offset: record.offset, timestamp: record.timestamp }
      }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    const producers = (tp: TopicPartition) =>
      Effect.gen(function*(): Effect.fn.Return<ReadonlyArray<ProducerInfo>, UnknownTopicOrPartition | SqlError> {
        const s = yield* stateOf(tp)
        if (s === undefined) return []
        const rows = yield* sql`SELECT producer_id, epoch, coordinator_epoch, txn_first_offset, last_timestamp, batches FROM log_producers
          WHERE partition_id = ${s.id} ORDER BY producer_id`
        return rows.map((r) => {
          const batches = JSON.parse(String(r.batches)) as Array<[number, number, number, number]>
          return {
            producerId: num(r.producer_id),
            producerEpoch: num(r.epoch),
            lastSequence: batches.at(-1)?.[1] ?? -1,
            lastTimestamp: num(r.last_timestamp),
            coordinatorEpoch: num(r.coordinator_epoch),
            currentTxnStartOffset: num(r.txn_first_offset)
          }
        })
      }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    const partitionSize = (tp: TopicPartition) =>
      Effect.gen(function*() {
        const rows = yield* sql`SELECT deleted, size_bytes AS bytes FROM log_partitions WHERE topic = ${tp.topic} AND partition = ${tp.partition}`
        const r = rows[0]
        if (r === undefined) return 0
        if (r.deleted === true) return yield* new UnknownTopicOrPartition({ topic: tp.topic, partition: tp.partition })
        return num(r.bytes)
      }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    // -------------------------------------------------------------------------------------------------------
    // Creating and deleting partitions

    /**
     * A new partition starts empty: the tombstone of a deleted one of that name goes. A live row is kept: the
     * topic is in the metadata before this runs, so appends through other brokers may already have reached it.
     */
    const createPartition = (tp: TopicPartition) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`DELETE FROM log_partitions WHERE topic = ${tp.topic} AND partition = ${tp.partition} AND deleted`
        yield* sql`INSERT INTO log_partitions (topic, partition) VALUES (${tp.topic}, ${tp.partition}) ON CONFLICT (topic, partition) DO NOTHING`
        yield* notifyEnd(tp, 0)
      })).pipe(Effect.mapError(failed(tp)))

    /** Its batches and producers go; a tombstone row keeps the name unknown until it is created again. */
    const deletePartition = (tp: TopicPartition) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`DELETE FROM log_partitions WHERE topic = ${tp.topic} AND partition = ${tp.partition}`
        yield* sql`INSERT INTO log_partitions (topic, partition, deleted) VALUES (${tp.topic}, ${tp.partition}, true)`
        yield* notifyEnd(tp, -1)
      })).pipe(Effect.mapError(failed(tp)))

    // -------------------------------------------------------------------------------------------------------
    // Log start: DeleteRecords and retention

    /** Moves the locked partition's log start up to `target`, deleting the batches wholly below it. */
    const moveLogStart = (p: PartitionRow, target: number) =>
      Effect.gen(function*() {
        yield* sql`WITH d AS (DELETE FROM log_batches WHERE partition_id = ${p.id} AND last_offset < ${target} RETURNING size)
          UPDATE log_partitions SET log_start_offset = ${target}, size_bytes = size_bytes - (SELECT coalesce(sum(size), 0) FROM d)
          WHERE id = ${p.id}`
        yield* sql`DELETE FROM log_aborted WHERE partition_id = ${p.id} AND last_offset < ${target}`
      })

    const deleteRecords = (tp: TopicPartition, offset: number) =>
      sql.withTransaction(Effect.gen(function*() {
        const { p } = yield* lockPartition(tp)
        const target = offset === -1 ? p.nextOffset : offset
        if (target < 0 || target > p.nextOffset) {
          return yield* new OffsetOutOfRange({ offset: target, logStartOffset: p.logStartOffset, logEndOffset: p.nextOffset })
        }
        if (target <= p.logStartOffset) return p.logStartOffset
        yield* moveLogStart(p, target)
        return target
      })).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e))))

    /**
     * Retention of one partition, under its row lock: the oldest batches go while each is older than
     * `now - retention.ms` or the partition stays at or above `retention.bytes` without it, and it lies wholly
     * below the last stable offset; the last batch stays.
     */
    const retainPartition = (tp: TopicPartition, s: LogSettings, now: number) =>
      sql.withTransaction(Effect.gen(function*() {
        const locked = yield* sql`SELECT p.id, p.next_offset, p.log_start_offset, p.deleted,
            (SELECT min(o.txn_first_offset) FROM log_producers o WHERE o.partition_id = p.id AND o.txn_first_offset >= 0) AS first_unstable
          FROM log_partitions p WHERE p.topic = ${tp.topic} AND p.partition = ${tp.partition} FOR UPDATE OF p`
        if (locked.length === 0) return 0
        const p = withOffsets(rowOf(locked[0]), num(locked[0]!.first_unstable))
        if (p.deleted) return 0
        const byTime = Number.isFinite(s.retentionMs)
        const byBytes = Number.isFinite(s.retentionBytes)
        const rows = yield* sql`SELECT min(base_offset) AS keep_from FROM (
            SELECT base_offset, last_offset, max_timestamp, size,
              sum(size) OVER (ORDER BY base_offset DESC) AS from_here, row_number() OVER (ORDER BY base_offset DESC) AS from_end
            FROM log_batches WHERE partition_id = ${p.id}
          ) b
          WHERE b.from_end = 1 OR b.last_offset >= ${p.lastStableOffset}
            OR NOT ((${byTime} AND b.max_timestamp >= 0 AND b.max_timestamp < ${byTime ? now - s.retentionMs : 0})
              OR (${byBytes} AND b.from_here - b.size >= ${byBytes ? s.retentionBytes : 0}))`
        const keepFrom = rows[0]?.keep_from === null || rows[0] === undefined ? -1 : num(rows[0].keep_from)
        if (keepFrom <= p.logStartOffset) return 0
        yield* moveLogStart(p, keepFrom)
        yield* Effect.logInfo(`${partitionName(tp)}: retention deleted the batches below ${keepFrom}; log start offset ${keepFrom}`)
        return keepFrom - p.logStartOffset
      })).pipe(Effect.mapError(failed(tp)))

    /**
     * One look at every partition (its size, and its first batch's largest timestamp, through the index), then,
     * under its lock, each one retention may delete from: above retention.bytes, or its first batch (where the
     * deleted prefix starts) past retention.ms.
     */
    const enforceRetention = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const image = yield* metadata.image
      const rows = yield* sql`SELECT p.topic, p.partition, p.size_bytes,
          (SELECT b.max_timestamp FROM log_batches b WHERE b.partition_id = p.id ORDER BY b.base_offset LIMIT 1) AS first_timestamp
        FROM log_partitions p WHERE NOT p.deleted`.pipe(
          Effect.catch((e) => Effect.as(Effect.logError(`retention: ${e.message}`), []))
        )
      for (const r of rows) {
        const tp = { topic: String(r.topic), partition: num(r.partition) }
        const topic = image.topics.get(tp.topic)
        if (topic === undefined || tp.partition >= topic.partitions.length) continue
        const s = yield* topicSettings(tp.topic)
        if (!s.deletes) continue
        const first = num(r.first_timestamp)
        const due = (Number.isFinite(s.retentionBytes) && num(r.size_bytes) > s.retentionBytes) ||
          (Number.isFinite(s.retentionMs) && first >= 0 && first < now - s.retentionMs)
        if (due) yield* retainPartition(tp, s, now).pipe(Effect.catch((e) => Effect.logError(`retention: ${e.message}`)))
      }
    })

    /** The periodic pass, on the broker that claims this interval's turn (one per interval in the cluster). */
    const retentionTurn = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const interval = config.logRetentionCheckIntervalMs
      const claimed = yield* sql`UPDATE log_maintenance SET next_run = ${now + Math.floor(interval * 0.9)}
        WHERE task = 'retention' AND next_run <= ${now} RETURNING task`
      if (claimed.length > 0) yield* enforceRetention
    }).pipe(Effect.catch((e) => Effect.logError(`retention: ${e.message}`)))
    yield* Effect.forkScoped(Effect.schedule(retentionTurn, Schedule.spaced(Duration.millis(config.logRetentionCheckIntervalMs))))

    // -------------------------------------------------------------------------------------------------------
    // Compaction (SqlCleaner.ts): compacted topics and the broker's own logs, each dirty enough cleaned once.

    const clean = Effect.gen(function*() {
      const image = yield* metadata.image
      const current = effectiveConfig(config, image)
      if (!current.logCleanerEnable) return []
      const candidates: Array<TopicPartition> = [...INTERNAL_LOGS]
      for (const topic of image.topics.values()) {
        if (!logSettings(current, topic.configs).compacts) continue
        for (const info of topic.partitions) candidates.push({ topic: topic.name, partition: info.index })
      }
      const done: Array<CleanStats> = []
      for (const tp of candidates) {
        const s = yield* topicSettings(tp.topic)
        if (!s.compacts) continue
        const stats = yield* cleanPartition(sql, current, tp, s).pipe(
          Effect.catch((e) => Effect.as(Effect.logWarning(`log cleaner: ${partitionName(tp)}: ${e.message}; not cleaned`), undefined))
        )
        if (stats !== undefined) done.push(stats)
      }
      return done
    }).pipe(Effect.withSpan("LogCleaner.clean"))

    /** The background cleaner's turn, on one broker of the cluster per `log.cleaner.backoff.ms`. */
    const cleanTurn = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const claimed = yield* sql`UPDATE log_maintenance SET next_run = ${now + Math.floor(config.logCleanerBackoffMs * 0.9)}
        WHERE task = 'clean' AND next_run <= ${now} RETURNING task`
      if (claimed.length > 0) yield* clean
    }).pipe(Effect.catch((e) => Effect.logError(`log cleaner: ${e.message}`)))
    if (config.logCleanerEnable) {
      yield* Effect.forkScoped(Effect.schedule(cleanTurn, Schedule.spaced(Duration.millis(config.logCleanerBackoffMs))))
    }

    // Long polls: one LISTEN per broker (SqlLogWaits.ts).
    const { awaitAppend } = yield* SqlLogWaits.make(pg, sql)

    return LogStore.of({
      createPartition,
      deletePartition,
      append,
      appendAll: appendEach(append),
      writeMarker,
      // Appends are committed (durable in PostgreSQL) before they are answered: nothing to fsync.
      flush: () => Effect.void,
      read,
      offsets: (tp) => Effect.map(stateOf(tp), offsetsOf).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(tp)(e)))),
      producers,
      offsetForTimestamp,
      awaitAppend,
      deleteRecords,
      enforceRetention,
      clean,
      describeLogDir: Effect.succeed({ path: options.path ?? "postgresql", totalBytes: -1, usableBytes: -1 }),
      partitionSize
    })
  })

/** The LogStore over the PgClient's database (its schema migrated first: LogSchema.ts). */
export const layer = (options: SqlLogStoreOptions = {}) => Layer.effect(LogStore, make(options))
