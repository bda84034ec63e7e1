// The broker's schema in PostgreSQL, created and migrated at start by effect's SQL Migrator: each migration is
// one entry of `migrations` ("<id>_<name>"), run once, recorded in `broker_migrations`. A released migration is
// never edited; a change is a new entry with the next id.
//
// Several brokers may start at once. The Migrator alone is not enough then: a broker that loses its race for the
// migrations table skips the run as "Locked" and would go on before the tables exist. So the whole run happens
// in one transaction holding a transaction-level advisory lock: the others wait for it, then find nothing to do.
import { Effect, Layer } from "effect"
import * as Migrator from "effect/sql/Migrator"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as LogSchema from "./LogSchema.ts"

/** The advisory lock key the migration holds ("kafkaMig" as a number). */
export const MIGRATION_LOCK = 0x6b61666b614d6967n

export const MIGRATIONS_TABLE = "broker_migrations"

export const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient>> = {
  "1_cluster": Effect.gen(function*() {
    const sql = yield* SqlClient
    // One row: the cluster's id, chosen by the first broker to start.
    yield* sql`create table cluster (
      singleton boolean primary key default true check (singleton),
      cluster_id text not null,
      created_at timestamptz not null default now()
    )`
  }),
  "2_metadata_log": Effect.gen(function*() {
    const sql = yield* SqlClient
    // KRaft metadata record batches (protocol/MetadataRecords.ts), each encoded with its own base offset. Offsets
    // count records as in __cluster_metadata-0: a batch covers [base_offset, next_offset), the next one starts
    // at next_offset. Appended by one writer at a time (layers/sql/SqlMetadata.ts), so there are no gaps.
    yield* sql`create table metadata_log (
      base_offset bigint primary key,
      next_offset bigint not null check (next_offset > base_offset),
      batch bytea not null,
      appended_at timestamptz not null default now()
    )`
    // Snapshots of the image (KRaft's snapshot format), each covering the log below end_offset: written with the
    // batch that passes metadata.log.max.record.bytes.between.snapshots, which deletes the batches it covers.
    yield* sql`create table metadata_snapshot (
      end_offset bigint primary key,
      snapshot bytea not null,
      created_at timestamptz not null default now()
    )`
  }),
  "3_brokers": Effect.gen(function*() {
    const sql = yield* SqlClient
    // Registered brokers. host and port: the first listener's advertised address; listeners: all of them, as
    // JSON [{name, host, port}]. Liveness is last_heartbeat against the database's clock.
    yield* sql`create table brokers (
      node_id integer primary key,
      host text not null,
      port integer not null,
      listeners text not null default '[]',
      incarnation text not null,
      registered_at timestamptz not null default now(),
      last_heartbeat timestamptz not null default now()
    )`
  }),
  // The partition logs (layers/sql/SqlLogStore.ts).
  "4_log_tables": LogSchema.migration
}

const runMigrator = Migrator.make({})

/** Creates or migrates the schema; returns the migrations run now (none when it was up to date). */
export const migrate: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Migrator.MigrationError | SqlError, SqlClient> =
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const done = yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
      return yield* runMigrator({ loader: Migrator.fromRecord(migrations), table: MIGRATIONS_TABLE })
    }))
    if (done.length > 0) yield* Effect.logInfo(`database schema migrated: ${done.map(([id, name]) => `${id}_${name}`).join(", ")}`)
    return done
  })

/** Runs `migrate` when built: put it before the layers that use the tables. */
export const layer: Layer.Layer<never, Migrator.MigrationError | SqlError, SqlClient> = Layer.effectDiscard(migrate)
