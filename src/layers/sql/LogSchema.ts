// The partition logs' part of the PostgreSQL schema: migration 4 of Migrations.ts (run with the others in one
// migrator, whose ids are one sequence: a migration with an id below the latest run is never run). One row per partition holds its offsets and is the lock appends take; one row per batch holds the
// bytes the client sent (base offset patched in) with what reads and retention look at as columns; the
// idempotent producers' state and the aborted transactions have a row each.
//
//   log_partitions   id, (topic, partition) unique, next_offset (the log end), log_start_offset, deleted
//                    (a tombstone: the partition was deleted and stays unknown until created again),
//                    cleaned_offset (where the last compaction ended, -1: never cleaned), size_bytes (the
//                    bytes of its batches, kept with every change)
//   log_batches      (partition_id, base_offset) primary key, last_offset, max_timestamp, record_count, size,
//                    producer_id, producer_epoch, base_sequence, control, transactional, bytes; an index on
//                    (partition_id, last_offset) including base_offset, size and record_count finds the batch
//                    holding an offset and sizes a read without touching the bytes
//   log_producers    (partition_id, producer_id) primary key, epoch, coordinator_epoch, txn_first_offset (-1:
//                    none open; a partial index finds a partition's open transactions, whose first is where the
//                    last stable offset stops), last_timestamp, batches (JSON: the last five batches'
//                    [firstSequence, lastSequence, baseOffset, lastOffset])
//   log_aborted      (partition_id, last_offset) primary key, producer_id, first_offset: aborted transactions,
//                    for read_committed fetches
//   log_maintenance  task primary key, next_run (ms): background work (retention, compaction) claimed by one
//                    broker of the cluster per interval
//
// Batch bytes are stored out of line without compression (STORAGE EXTERNAL): they are compressed, if at all,
// by the producer, and a read copies them as they are.
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

const logTables: Effect.Effect<void, SqlError, SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient
  yield* sql`
    CREATE TABLE log_partitions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      topic text NOT NULL,
      partition integer NOT NULL,
      next_offset bigint NOT NULL DEFAULT 0,
      log_start_offset bigint NOT NULL DEFAULT 0,
      deleted boolean NOT NULL DEFAULT false,
      cleaned_offset bigint NOT NULL DEFAULT -1,
      size_bytes bigint NOT NULL DEFAULT 0,
      UNIQUE (topic, partition)
    )`
  yield* sql`
    CREATE TABLE log_batches (
      partition_id bigint NOT NULL REFERENCES log_partitions (id) ON DELETE CASCADE,
      base_offset bigint NOT NULL,
      last_offset bigint NOT NULL,
      max_timestamp bigint NOT NULL,
      record_count integer NOT NULL,
      size integer NOT NULL,
      producer_id bigint NOT NULL,
      producer_epoch integer NOT NULL,
      base_sequence integer NOT NULL,
      control boolean NOT NULL,
      transactional boolean NOT NULL,
      bytes bytea NOT NULL,
      PRIMARY KEY (partition_id, base_offset)
    )`
  yield* sql`ALTER TABLE log_batches ALTER COLUMN bytes SET STORAGE EXTERNAL`
  yield* sql`CREATE UNIQUE INDEX log_batches_last_offset ON log_batches (partition_id, last_offset) INCLUDE (base_offset, size, record_count)`
  yield* sql`
    CREATE TABLE log_producers (
      partition_id bigint NOT NULL REFERENCES log_partitions (id) ON DELETE CASCADE,
      producer_id bigint NOT NULL,
      epoch integer NOT NULL,
      coordinator_epoch integer NOT NULL,
      txn_first_offset bigint NOT NULL,
      last_timestamp bigint NOT NULL,
      batches text NOT NULL,
      PRIMARY KEY (partition_id, producer_id)
    )`
  yield* sql`CREATE INDEX log_producers_open ON log_producers (partition_id, txn_first_offset) WHERE txn_first_offset >= 0`
  yield* sql`
    CREATE TABLE log_aborted (
      partition_id bigint NOT NULL REFERENCES log_partitions (id) ON DELETE CASCADE,
      last_offset bigint NOT NULL,
      producer_id bigint NOT NULL,
      first_offset bigint NOT NULL,
      PRIMARY KEY (partition_id, last_offset)
    )`
  yield* sql`CREATE TABLE log_maintenance (task text PRIMARY KEY, next_run bigint NOT NULL)`
  yield* sql`INSERT INTO log_maintenance (task, next_run) VALUES ('retention', 0), ('clean', 0)`
})

/** Migration 4 of Migrations.ts: the partition logs' tables. */
export const migration = logTables
