// What every ClusterMetadata implementation promises (services/metadata/ClusterMetadata.ts), one suite run
// against each: the KRaft metadata log in files (layers/metadata/KRaftMetadata.ts, over the in-memory file
// system) and PostgreSQL (layers/sql/SqlMetadata.ts, against a throwaway server). An empty store is a cluster
// without topics; an update's records are applied whole and counted in the log's end offset; a refused decision
// writes nothing; concurrent updates decide one after another; a restart replays the same image and cluster id.
import { Context, Effect, Exit, Layer, Logger, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import * as KRaftMetadata from "../../src/layers/metadata/KRaftMetadata.ts"
import * as Migrations from "../../src/layers/sql/Migrations.ts"
import * as PgClient from "../../src/layers/sql/PgClient.ts"
import * as SqlMetadata from "../../src/layers/sql/SqlMetadata.ts"
import { bootstrapRecords, type NewMetadataRecord, topicRecords } from "../../src/protocol/MetadataRecords.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { ConfigResource, type MetadataImage } from "../../src/services/metadata/MetadataImage.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

type Service = ClusterMetadata["Service"]

/** A store: `open` builds a metadata service over it (again: a restart); each stays open until `close`. */
interface Store {
  readonly open: () => Promise<{ readonly metadata: Service; readonly close: () => Promise<void> }>
}

interface Engine {
  readonly name: string
  readonly available: boolean
  readonly setup?: () => Promise<void>
  readonly teardown?: () => Promise<void>
  readonly skip?: () => void
  readonly store: () => Promise<Store>
}

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(Logger.layer([]))))

const openLayer = async (layer: Layer.Layer<ClusterMetadata, unknown>) => {
  const scope = await run(Scope.make())
  const context = await run(Layer.buildWithScope(layer, scope))
  return { metadata: Context.get(context, ClusterMetadata), close: () => run(Scope.close(scope, Exit.void)) }
}

const files: Engine = {
  name: "KRaft metadata log (files)",
  available: true,
  store: async () => {
    const fs = MemoryFileSystem.make()
    return {
      open: () =>
        openLayer(KRaftMetadata.layer.pipe(
          Layer.provide(MemoryFileSystem.layerWith(fs)),
          Layer.provide(BrokerConfig.layerFrom({ "log.dirs": "/data" }))
        ))
    }
  }
}

let pg: Postgres | undefined
const postgres: Engine = {
  name: "PostgreSQL",
  available: postgresInstalled,
  setup: async () => {
    pg = await startPostgres()
  },
  teardown: async () => {
    await pg?.stop()
  },
  skip: requirePostgres,
  store: async () => {
    const url = await pg!.createDatabase()
    return {
      open: () =>
        openLayer(SqlMetadata.layer.pipe(
          Layer.provide(Migrations.layer),
          Layer.provide(PgClient.layerFromUrl(url, { maxConnections: 4 })),
          Layer.provide(BrokerConfig.layerFrom({}))
        ))
    }
  }
}

const counterOf = (image: MetadataImage) => Number(image.brokerConfigs.get("")?.get("test.counter") ?? "0")
const setCounter = (value: number): NewMetadataRecord => ({
  type: "Config",
  resourceType: ConfigResource.Broker,
  resourceName: "",
  name: "test.counter",
  value: String(value)
})
const write = (m: Service, records: ReadonlyArray<NewMetadataRecord>) => run(m.update(() => Effect.succeed({ records, result: undefined })))
const ORDERS = "00000000-0000-4000-8000-0000000000aa"

for (const engine of [files, postgres]) {
  describe(`ClusterMetadata over ${engine.name}`, () => {
    engine.skip?.()
    beforeAll(async () => {
      if (engine.available) await engine.setup?.()
    }, 60_000)
    afterAll(async () => {
      if (engine.available) await engine.teardown?.()
    })
    const test = it.runIf(engine.available)

    test("an empty store is a cluster without topics, at offset 0", async () => {
      const { metadata, close } = await (await engine.store()).open()
      try {
        const image = await run(metadata.image)
        assert.strictEqual(image.topics.size, 0)
        assert.strictEqual((await run(metadata.log)).endOffset, 0)
        assert.isAbove(metadata.clusterId.length, 0)
      } finally {
        await close()
      }
    })

    test("an update's records are applied together and advance the end offset by their count", async () => {
      const { metadata, close } = await (await engine.store()).open()
      try {
        await write(metadata, bootstrapRecords())
        const records = topicRecords("orders", ORDERS, 4, 1)
        const before = (await run(metadata.log)).endOffset
        const result = await run(metadata.update((image) => Effect.succeed({ records, result: image.topics.has("orders") })))
        assert.isFalse(result, "decided on the image before the update")
        const image = await run(metadata.image)
        assert.strictEqual(image.topics.get("orders")!.partitions.length, 4)
        assert.strictEqual(image.topicsById.get(ORDERS)!.name, "orders")
        assert.strictEqual((await run(metadata.log)).endOffset, before + records.length)
      } finally {
        await close()
      }
    })

    test("a refused decision writes nothing", async () => {
      const { metadata, close } = await (await engine.store()).open()
      try {
        await write(metadata, [setCounter(1)])
        const exit = await run(Effect.exit(metadata.update(() => Effect.fail("no" as const))))
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(counterOf(await run(metadata.image)), 1)
        assert.strictEqual((await run(metadata.log)).endOffset, 1)
      } finally {
        await close()
      }
    })

    test("concurrent updates decide one after another", async () => {
      const { metadata, close } = await (await engine.store()).open()
      try {
        const results = await run(Effect.all(
          Array.from({ length: 30 }, () =>
            metadata.update((image) => Effect.succeed({ records: [setCounter(counterOf(image) + 1)], result: counterOf(image) + 1 }))),
          { concurrency: "unbounded" }
        ))
        assert.deepStrictEqual([...results].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1))
        assert.strictEqual(counterOf(await run(metadata.image)), 30)
      } finally {
        await close()
      }
    })

    test("a restart replays the same image, end offset and cluster id", async () => {
      const store = await engine.store()
      const first = await store.open()
      let clusterId: string
      let endOffset: number
      let expected: MetadataImage
      try {
        await write(first.metadata, bootstrapRecords())
        await write(first.metadata, topicRecords("orders", ORDERS, 3, 1))
        await write(first.metadata, [{ type: "PartitionChange", topicId: ORDERS, partitionId: 1, leader: 1, isr: [1] }])
        for (let i = 1; i <= 5; i++) await write(first.metadata, [setCounter(i)])
        await write(first.metadata, [{ type: "RemoveTopic", topicId: ORDERS }, ...topicRecords("orders", "00000000-0000-4000-8000-0000000000bb", 2, 1)])
        clusterId = first.metadata.clusterId
        endOffset = (await run(first.metadata.log)).endOffset
        expected = await run(first.metadata.image)
      } finally {
        await first.close()
      }
      const second = await store.open()
      try {
        const image = await run(second.metadata.image)
        assert.strictEqual(second.metadata.clusterId, clusterId)
        assert.strictEqual((await run(second.metadata.log)).endOffset, endOffset)
        assert.deepStrictEqual(image.topics.get("orders"), expected.topics.get("orders"))
        assert.strictEqual(image.topics.get("orders")!.id, "00000000-0000-4000-8000-0000000000bb")
        assert.deepStrictEqual([...image.topicsById.keys()], [...expected.topicsById.keys()])
        assert.strictEqual(counterOf(image), 5)
        assert.deepStrictEqual(image.features, expected.features)
      } finally {
        await second.close()
      }
    })
  })
}
