// ClusterMetadata over PostgreSQL (layers/sql/SqlMetadata.ts) against a throwaway server (test/support/Postgres.ts):
// the schema migrates once when several brokers start together; two metadata services over one database see
// each other's updates, in order; concurrent updates through both serialize (no lost update); a service
// started later replays the same image.
import { Context, Effect, Exit, Layer, Logger, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bootstrapRecords, type NewMetadataRecord, topicRecords } from "../../src/protocol/MetadataRecords.ts"
import * as Migrations from "../../src/layers/sql/Migrations.ts"
import * as PgClient from "../../src/layers/sql/PgClient.ts"
import * as SqlMetadata from "../../src/layers/sql/SqlMetadata.ts"
import * as ProducerIdsLayer from "../../src/layers/metadata/ProducerIds.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { ProducerIds } from "../../src/services/metadata/ProducerIds.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import type { StorageError } from "../../src/services/Errors.ts"
import { ConfigResource, type MetadataImage } from "../../src/services/metadata/MetadataImage.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

let pg: Postgres | undefined

/** A metadata service as one broker has it: its own pool, the schema migrated first. Closed with its scope. */
const open = (url: string, properties: Readonly<Record<string, string>> = {}, options: SqlMetadata.Options = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      SqlMetadata.layerWith(options).pipe(
        Layer.provide(Migrations.layer),
        Layer.provideMerge(PgClient.layerFromUrl(url, { maxConnections: 4 })),
        Layer.provide(BrokerConfig.layerFrom(properties))
      ),
      scope
    )
    return { metadata: Context.get(context, ClusterMetadata), sql: Context.get(context, SqlClient), close: Scope.close(scope, Exit.void) }
  })

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(Logger.layer([]))))

const counterOf = (image: MetadataImage) => Number(image.brokerConfigs.get("")?.get("test.counter") ?? "0")
const setCounter = (value: number): NewMetadataRecord => ({
  type: "Config",
  resourceType: ConfigResource.Broker,
  resourceName: "",
  name: "test.counter",
  value: String(value)
})

/** Waits until `check` holds on the image (followers learn of changes through a notification). */
const until = (metadata: ClusterMetadata["Service"], check: (image: MetadataImage) => boolean, timeoutMs = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const image = yield* metadata.image
      if (check(image)) return image
      if (Date.now() > deadline) return yield* Effect.die(new Error("the image did not reach the expected state"))
      yield* Effect.sleep("10 millis")
    }
  })

const topicNames = (image: MetadataImage) => [...image.topics.keys()].sort()

describe("SqlMetadata", () => {
  requirePostgres()
  beforeAll(async () => {
    if (postgresInstalled) pg = await startPostgres()
  }, 60_000)
  afterAll(() => pg?.stop())

  it.runIf(postgresInstalled)("migrates once when several brokers start at the same time", async () => {
    const url = await pg!.createDatabase()
    const brokers = await run(Effect.all([open(url), open(url), open(url), open(url)], { concurrency: "unbounded" }))
    try {
      const ids = new Set(brokers.map((b) => b.metadata.clusterId))
      assert.strictEqual(ids.size, 1, "one cluster id")
      const rows = await run(brokers[0]!.sql<{ migration_id: number }>`select migration_id from broker_migrations order by migration_id`)
      assert.deepStrictEqual(rows.map((r) => Number(r.migration_id)), Object.keys(Migrations.migrations).map((k) => Number(k.split("_")[0])))
    } finally {
      await run(Effect.forEach(brokers, (b) => b.close))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("two brokers see each other's updates, in order; a restarted one replays them", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url))
    const b = await run(open(url))
    try {
      const update = (m: ClusterMetadata["Service"], records: ReadonlyArray<NewMetadataRecord>) =>
        run(m.update(() => Effect.succeed({ records, result: undefined })))
      await update(a.metadata, bootstrapRecords())
      await update(a.metadata, topicRecords("orders", "00000000-0000-4000-8000-000000000001", 3, 1))
      await update(b.metadata, topicRecords("payments", "00000000-0000-4000-8000-000000000002", 2, 1))
      const seenByA = await run(until(a.metadata, (i) => i.topics.has("payments")))
      const seenByB = await run(until(b.metadata, (i) => i.topics.has("orders")))
      assert.deepStrictEqual(topicNames(seenByA), ["orders", "payments"])
      assert.deepStrictEqual(topicNames(seenByB), ["orders", "payments"])
      assert.strictEqual(seenByB.topics.get("orders")!.partitions.length, 3)

      // B follows A's updates one by one: every value it observes is one A wrote, never going back.
      const observed: Array<number> = []
      const watcher = Effect.runFork(Effect.forever(Effect.gen(function*() {
        const c = counterOf(yield* b.metadata.image)
        if (observed.at(-1) !== c) observed.push(c)
        yield* Effect.sleep("1 millis")
      })))
      for (let i = 1; i <= 30; i++) await update(a.metadata, [setCounter(i)])
      await run(until(b.metadata, (i) => counterOf(i) === 30))
      await run(Effect.sleep("20 millis"))
      watcher.interruptUnsafe()
      for (let i = 1; i < observed.length; i++) assert.isAbove(observed[i]!, observed[i - 1]!, `in order: ${observed.join(",")}`)
      assert.strictEqual(observed.at(-1), 30)

      const endA = (await run(a.metadata.log)).endOffset
      assert.strictEqual((await run(b.metadata.log)).endOffset, endA)
      // One batch per update, at consecutive offsets.
      const rows = await run(a.sql<{ base_offset: string; next_offset: string }>`select base_offset, next_offset from metadata_log order by base_offset`)
      assert.strictEqual(rows.length, 33)
      for (let i = 1; i < rows.length; i++) assert.strictEqual(Number(rows[i]!.base_offset), Number(rows[i - 1]!.next_offset))

      // A broker started afterwards replays the table into the same image.
      await run(a.close)
      const c = await run(open(url))
      try {
        const image = await run(c.metadata.image)
        assert.strictEqual(c.metadata.clusterId, b.metadata.clusterId)
        assert.deepStrictEqual(topicNames(image), ["orders", "payments"])
        assert.strictEqual(counterOf(image), 30)
        assert.strictEqual((await run(c.metadata.log)).endOffset, endA)
        assert.deepStrictEqual(image.topics.get("payments"), (await run(b.metadata.image)).topics.get("payments"))
      } finally {
        await run(c.close)
      }
    } finally {
      await run(Effect.all([a.close, b.close]))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("concurrent updates through two brokers serialize: each decides on the latest image", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url))
    const b = await run(open(url))
    try {
      const increment = (m: ClusterMetadata["Service"]) =>
        m.update((image) => Effect.succeed({ records: [setCounter(counterOf(image) + 1)], result: counterOf(image) + 1 }))
      const results = await run(Effect.all(
        Array.from({ length: 40 }, (_, i) => increment(i % 2 === 0 ? a.metadata : b.metadata)),
        { concurrency: "unbounded" }
      ))
      // No lost update: every increment saw the one before it, whichever broker made it.
      assert.deepStrictEqual([...results].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1))
      assert.strictEqual(counterOf(await run(until(a.metadata, (i) => counterOf(i) === 40))), 40)
      assert.strictEqual(counterOf(await run(until(b.metadata, (i) => counterOf(i) === 40))), 40)
    } finally {
      await run(Effect.all([a.close, b.close]))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("producer ids handed out through two brokers are never the same", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url))
    const b = await run(open(url))
    try {
      const idsOf = (m: ClusterMetadata["Service"], nodeId: number) =>
        Effect.gen(function*() {
          const ids = yield* ProducerIds
          return yield* Effect.all(Array.from({ length: 2500 }, () => ids.next))
        }).pipe(
          Effect.provide(ProducerIdsLayer.layer.pipe(
            Layer.provide(Layer.succeed(ClusterMetadata, m)),
            Layer.provide(BrokerConfig.layerFrom({ "node.id": String(nodeId) }))
          ))
        )
      const [fromA, fromB] = await run(Effect.all([idsOf(a.metadata, 1), idsOf(b.metadata, 2)], { concurrency: 2 }))
      assert.strictEqual(new Set([...fromA, ...fromB]).size, 5000)
    } finally {
      await run(Effect.all([a.close, b.close]))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("snapshots replace the log below them; brokers behind one, or started after, load it", async () => {
    const url = await pg!.createDatabase()
    // A snapshot once the batches since the last one pass 2000 bytes.
    const small = { "metadata.log.max.record.bytes.between.snapshots": "2000" }
    const a = await run(open(url, small))
    const b = await run(open(url, small))
    try {
      const update = (m: ClusterMetadata["Service"], records: ReadonlyArray<NewMetadataRecord>) =>
        run(m.update(() => Effect.succeed({ records, result: undefined })))
      await update(a.metadata, bootstrapRecords())
      for (let t = 0; t < 12; t++) {
        await update(t % 2 === 0 ? a.metadata : b.metadata, topicRecords(`topic-${t}`, `00000000-0000-4000-8000-${String(t).padStart(12, "0")}`, 4, 1))
      }
      for (let i = 1; i <= 40; i++) await update(a.metadata, [setCounter(i)])
      const snapshots = await run(a.sql<{ end_offset: string }>`select end_offset from metadata_snapshot`)
      assert.strictEqual(snapshots.length, 1, "older snapshots are deleted")
      const end = Number(snapshots[0]!.end_offset)
      const rows = await run(a.sql<{ base_offset: string }>`select base_offset from metadata_log order by base_offset`)
      assert.isTrue(rows.every((r) => Number(r.base_offset) >= end), "no batch below the snapshot")
      const endA = (await run(a.metadata.log)).endOffset
      assert.isAbove(end, 0)

      // B followed all along; C starts from the snapshot and the batches after it. Both have A's image.
      const expected = await run(a.metadata.image)
      await run(until(b.metadata, (i) => counterOf(i) === 40))
      const c = await run(open(url, small))
      try {
        for (const m of [b.metadata, c.metadata]) {
          const image = await run(m.image)
          assert.deepStrictEqual(topicNames(image), topicNames(expected))
          assert.deepStrictEqual(image.topics.get("topic-7"), expected.topics.get("topic-7"))
          assert.strictEqual(counterOf(image), 40)
          assert.strictEqual((await run(m.log)).endOffset, endA)
        }
        // C writes next, on top of what it loaded.
        await update(c.metadata, [setCounter(41)])
        await run(until(a.metadata, (i) => counterOf(i) === 41))
      } finally {
        await run(c.close)
      }
    } finally {
      await run(Effect.all([a.close, b.close]))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("a broker whose next batch was deleted under a snapshot loads the snapshot", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url, { "metadata.log.max.record.bytes.between.snapshots": "2000" }))
    const b = await run(open(url, {}, { follow: false }))
    try {
      // B does not follow: A writes past a snapshot that deletes every batch B has not read.
      for (let i = 1; i <= 60; i++) await run(a.metadata.update(() => Effect.succeed({ records: [setCounter(i)], result: undefined })))
      assert.isAbove((await run(a.sql<{ n: number }>`select count(*)::int as n from metadata_snapshot`))[0]!.n, 0)
      assert.strictEqual((await run(b.metadata.log)).endOffset, 0)
      const first = await run(a.sql<{ base_offset: string }>`select min(base_offset) as base_offset from metadata_log`)
      assert.isAbove(Number(first[0]!.base_offset), 0, "B's next batch is gone")
      // Its next update reads what is new first, from the snapshot since its batches are gone.
      const seen = await run(b.metadata.update((image) => Effect.succeed({ records: [setCounter(counterOf(image) + 1)], result: counterOf(image) })))
      assert.strictEqual(seen, 60)
      await run(until(a.metadata, (i) => counterOf(i) === 61))
    } finally {
      await run(Effect.all([a.close, b.close]))
    }
  }, 60_000)

  it.runIf(postgresInstalled)("a failed decision writes nothing; an update that writes nothing leaves the log alone", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url))
    try {
      const failed = await run(Effect.exit(a.metadata.update(() => Effect.fail("refused" as const))))
      assert.isTrue(Exit.isFailure(failed))
      const nothing = await run(a.metadata.update(() => Effect.succeed({ records: [], result: "same" })))
      assert.strictEqual(nothing, "same")
      assert.strictEqual((await run(a.metadata.log)).endOffset, 0)
      const rows = await run(a.sql<{ n: number }>`select count(*)::int as n from metadata_log`)
      assert.strictEqual(rows[0]!.n, 0)
    } finally {
      await run(a.close)
    }
  }, 60_000)

  // Last: it takes the shared server down for a while.
  it.runIf(postgresInstalled)("with the database down an update fails with a storage error; after it is back both brokers go on", async () => {
    const url = await pg!.createDatabase()
    const a = await run(open(url))
    const b = await run(open(url))
    try {
      const put = (m: ClusterMetadata["Service"], value: number) =>
        m.update(() => Effect.succeed({ records: [setCounter(value)], result: value }))
      await run(put(a.metadata, 1))
      await pg!.halt()
      const failed = await run(Effect.flip(put(a.metadata, 2)).pipe(Effect.timeout("20 seconds")))
      assert.strictEqual(failed._tag, "StorageError")
      assert.strictEqual((failed as StorageError).code, 56)
      assert.strictEqual(counterOf(await run(a.metadata.image)), 1, "nothing applied that was not committed")
      await pg!.resume()
      await run(put(b.metadata, 3).pipe(Effect.retry({ times: 20, schedule: Schedule.spaced("250 millis") })))
      // A's follower reconnects and catches up; its own next update decides on the latest image.
      await run(until(a.metadata, (i) => counterOf(i) === 3, 20_000))
      assert.strictEqual(await run(a.metadata.update((image) => Effect.succeed({ records: [setCounter(counterOf(image) + 1)], result: counterOf(image) + 1 }))), 4)
      await run(until(b.metadata, (i) => counterOf(i) === 4, 20_000))
    } finally {
      await pg!.resume()
      await run(Effect.all([a.close, b.close]))
    }
  }, 90_000)
})
