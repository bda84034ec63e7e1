// Topic administration over the live metadata log and log store on the in-memory file system: creation with
// Kafka's validation and error codes, validate-only, configs, deletion by name and id, growing partitions,
// auto-creation from Metadata, and everything surviving a restart.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import type { RequestOf } from "../../src/protocol/Message.ts"
import type { CreateTopics as CreateTopicsApi } from "../../src/protocol/messages/CreateTopics.ts"
import * as CreatePartitions from "../../src/services/api/CreatePartitions.ts"
import * as CreateTopics from "../../src/services/api/CreateTopics.ts"
import * as DeleteTopics from "../../src/services/api/DeleteTopics.ts"
import * as Metadata from "../../src/services/api/Metadata.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { callResponse, layer, LOG_DIR } from "../support/TestLayers.ts"

type NewTopic = RequestOf<typeof CreateTopicsApi>["topics"][number]

const topic = (name: string, numPartitions = 3, extra: Partial<NewTopic> = {}): NewTopic => ({
  name,
  numPartitions,
  replicationFactor: 1,
  assignments: [],
  configs: [],
  ...extra
})

const create = (topics: ReadonlyArray<NewTopic>, version = 7, validateOnly = false) =>
  callResponse(CreateTopics.make, version, { topics: [...topics], timeoutMs: 5000, validateOnly })

const metadata = (names: ReadonlyArray<string> | null, version = 12, allowAutoTopicCreation = false) =>
  callResponse(Metadata.make, version, {
    topics: names === null ? null : names.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false
  })

const produceOne = (name: string, partition: number) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name, partitionData: [{ index: partition, records: encodeBatch([{ value: new Uint8Array([1]) }]) }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  )

describe("CreateTopics", () => {
  it.effect("creates a topic with its partitions, id and configs, visible at once and after a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const created = yield* create([topic("orders", 3, { configs: [{ name: "retention.ms", value: "60000" }] })]).pipe(
        Effect.provide(layer(fs))
      )
      const result = created.topics[0]!
      assert.strictEqual(result.errorCode, 0)
      assert.strictEqual(result.numPartitions, 3)
      assert.strictEqual(result.replicationFactor, 1)
      assert.notStrictEqual(result.topicId, ZERO_UUID)
      assert.strictEqual(result.configs?.find((c) => c.name === "retention.ms")?.value, "60000")

      // A restart replays the metadata log: same topic, same id, same config, and its partitions take data.
      yield* Effect.gen(function*() {
        const md = yield* metadata(["orders"])
        assert.deepStrictEqual(md.topics.map((t) => [t.errorCode, t.name, t.topicId, t.partitions.length]), [
          [0, "orders", result.topicId, 3]
        ])
        const image = yield* (yield* ClusterMetadata).image
        assert.strictEqual(image.topics.get("orders")?.configs.get("retention.ms"), "60000")
        assert.strictEqual((yield* produceOne("orders", 2)).errorCode, 0)
        const files = yield* FileSystem.FileSystem
        // A partition's directory appears with its first batch: creating thousands of partitions costs no files.
        assert.deepStrictEqual(yield* Effect.forEach([0, 1, 2], (p) => files.exists(`${LOG_DIR}/orders-${p}`)), [false, false, true])
      }).pipe(Effect.provide(layer(fs)))
    }))

  it.effect("answers Kafka's error codes for bad requests and creates nothing for them", () =>
    Effect.gen(function*() {
      yield* create([topic("existing")])
      const response = yield* create([
        topic("existing"),
        topic("bad name!"),
        topic("."),
        topic("x".repeat(250)),
        topic("zero", 0),
        topic("replicated", 1, { replicationFactor: 3 }),
        topic("bad-config", 1, { configs: [{ name: "retention.ms", value: "soon" }] }),
        topic("unknown-config", 1, { configs: [{ name: "no.such.config", value: "1" }] }),
        topic("twice"),
        topic("twice"),
        topic("defaults", -1, { replicationFactor: -1 })
      ])
      assert.deepStrictEqual(response.topics.map((t) => [t.name.slice(0, 20), t.errorCode]), [
        ["existing", 36],
        ["bad name!", 17],
        [".", 17],
        ["x".repeat(20), 17],
        ["zero", 37],
        ["replicated", 38],
        ["bad-config", 40],
        ["unknown-config", 40],
        ["twice", 42],
        ["twice", 42],
        ["defaults", 0]
      ])
      assert.isTrue(response.topics.every((t) => t.errorCode === 0 || t.errorMessage !== null))
      const md = yield* metadata(null)
      assert.deepStrictEqual(md.topics.map((t) => [t.name, t.partitions.length]), [["defaults", 4], ["existing", 3]])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { properties: { "num.partitions": "4" } }))))

  it.effect("refuses a name that collides with another once '.' and '_' are treated alike", () =>
    Effect.gen(function*() {
      yield* create([topic("a.b")])
      assert.strictEqual((yield* create([topic("a_b")])).topics[0]!.errorCode, 17)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))

  it.effect("validate_only checks and describes without creating", () =>
    Effect.gen(function*() {
      const response = yield* create([topic("dry-run", 5)], 5, true)
      assert.deepStrictEqual([response.topics[0]!.errorCode, response.topics[0]!.numPartitions], [0, 5])
      assert.strictEqual((yield* metadata(["dry-run"])).topics[0]!.errorCode, 3)
      assert.strictEqual((yield* create([topic("dry-run", 5)], 5, false)).topics[0]!.errorCode, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))

  it.effect("answers every version from v0 to v7", () =>
    Effect.gen(function*() {
      for (let v = 0; v <= 7; v++) {
        const r = yield* create([topic(`v${v}`, 1)], v)
        assert.strictEqual(r.topics[0]!.errorCode, 0, `v${v}`)
      }
      assert.strictEqual((yield* metadata(null)).topics.length, 8)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))
})

describe("DeleteTopics", () => {
  it.effect("deletes by name and by id, removing the data, and the deletion survives a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const ids = yield* Effect.gen(function*() {
        const created = yield* create([topic("by-name", 2), topic("by-id", 1), topic("kept", 1)])
        yield* produceOne("by-name", 1)
        const byName = yield* callResponse(DeleteTopics.make, 5, { topics: [], topicNames: ["by-name", "missing"], timeoutMs: 1000 })
        assert.deepStrictEqual(byName.responses.map((r) => [r.name, r.errorCode]), [["by-name", 0], ["missing", 3]])
        const id = created.topics[1]!.topicId
        const byId = yield* callResponse(DeleteTopics.make, 6, {
          topics: [{ name: null, topicId: id }, { name: null, topicId: "11111111-2222-3333-4444-555555555555" }],
          topicNames: [],
          timeoutMs: 1000
        })
        assert.deepStrictEqual(byId.responses.map((r) => [r.name, r.errorCode]), [["by-id", 0], [null, 100]])
        // Gone at once: produce to the deleted topic fails, its directory is removed.
        assert.strictEqual((yield* produceOne("by-name", 1)).errorCode, 3)
        const files = yield* FileSystem.FileSystem
        assert.isFalse(yield* files.exists(`${LOG_DIR}/by-name-1`))
        return created.topics.map((t) => t.topicId)
      }).pipe(Effect.provide(layer(fs)))

      yield* Effect.gen(function*() {
        const md = yield* metadata(null)
        assert.deepStrictEqual(md.topics.map((t) => [t.name, t.topicId]), [["kept", ids[2]]])
        // The name can be used again, for a new topic with a new id and empty partitions.
        const again = yield* create([topic("by-name", 1)])
        assert.notStrictEqual(again.topics[0]!.topicId, ids[0])
        assert.strictEqual((yield* produceOne("by-name", 0)).baseOffset, 0)
      }).pipe(Effect.provide(layer(fs)))
    }))
})

describe("CreatePartitions", () => {
  it.effect("grows a topic, refuses shrinking or no change, and honours validate_only", () =>
    Effect.gen(function*() {
      yield* create([topic("grow", 2)])
      const request = (name: string, count: number, validateOnly = false) =>
        callResponse(CreatePartitions.make, 3, { topics: [{ name, count, assignments: null }], timeoutMs: 1000, validateOnly })
      assert.strictEqual((yield* request("grow", 5, true)).results[0]!.errorCode, 0)
      assert.strictEqual((yield* metadata(["grow"])).topics[0]!.partitions.length, 2)
      assert.strictEqual((yield* request("grow", 5)).results[0]!.errorCode, 0)
      assert.strictEqual((yield* metadata(["grow"])).topics[0]!.partitions.length, 5)
      assert.strictEqual((yield* produceOne("grow", 4)).errorCode, 0)
      assert.strictEqual((yield* request("grow", 3)).results[0]!.errorCode, 37)
      assert.strictEqual((yield* request("grow", 5)).results[0]!.errorCode, 37)
      assert.strictEqual((yield* request("missing", 5)).results[0]!.errorCode, 3)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))
})

describe("Metadata auto-creation", () => {
  it.effect("creates an unknown topic with num.partitions when the request and the broker allow it", () =>
    Effect.gen(function*() {
      const auto = yield* metadata(["auto"], 12, true)
      assert.deepStrictEqual(auto.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [["auto", 0, 2]])
      // v0-v3 requests always allow it.
      const old = yield* metadata(["old-client"], 1)
      assert.deepStrictEqual(old.topics.map((t) => [t.errorCode, t.partitions.length]), [[0, 2]])
      // Not when the request says no, nor for a name Kafka would refuse.
      assert.strictEqual((yield* metadata(["not-asked"], 12, false)).topics[0]!.errorCode, 3)
      assert.strictEqual((yield* metadata(["bad/name"], 12, true)).topics[0]!.errorCode, 17)
      assert.deepStrictEqual((yield* metadata(null)).topics.map((t) => t.name), ["auto", "old-client"])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { properties: { "num.partitions": "2" } }))))

  it.effect("creates nothing when auto.create.topics.enable is false", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* metadata(["auto"], 12, true)).topics[0]!.errorCode, 3)
      assert.strictEqual((yield* metadata(["auto"], 0)).topics[0]!.errorCode, 3)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { properties: { "auto.create.topics.enable": "false" } }))))

  it.effect("two requests racing to auto-create one topic both see the same topic", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([metadata(["race"], 12, true), metadata(["race"], 12, true)], { concurrency: 2 })
      assert.strictEqual(a.topics[0]!.errorCode, 0)
      assert.strictEqual(b.topics[0]!.errorCode, 0)
      assert.strictEqual(a.topics[0]!.topicId, b.topics[0]!.topicId)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))
})
