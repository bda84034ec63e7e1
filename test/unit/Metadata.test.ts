// The describing APIs over the live metadata and log store on the in-memory file system: Metadata,
// ApiVersions, ListOffsets and DescribeTopicPartitions, each called at real versions through the codecs.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import type { RequestOf, ResponseOf } from "../../src/protocol/Message.ts"
import { DEFAULT_METADATA_VERSION, METADATA_VERSION_FEATURE } from "../../src/protocol/MetadataRecords.ts"
import type { ApiVersions as ApiVersionsApi } from "../../src/protocol/messages/ApiVersions.ts"
import type { DescribeTopicPartitions as DescribeTopicPartitionsApi } from "../../src/protocol/messages/DescribeTopicPartitions.ts"
import type { ListOffsets as ListOffsetsApi } from "../../src/protocol/messages/ListOffsets.ts"
import type { Metadata as MetadataApi } from "../../src/protocol/messages/Metadata.ts"
import type { Produce as ProduceApi } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as DescribeTopicPartitions from "../../src/services/api/DescribeTopicPartitions.ts"
import * as ListOffsets from "../../src/services/api/ListOffsets.ts"
import * as Metadata from "../../src/services/api/Metadata.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { handlers, type HandlerServices } from "../../src/services/api/Apis.ts"
import type { Handler } from "../../src/services/api/Handler.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { type BrokerOptions, callResponse, layer, topicIdOf } from "../support/TestLayers.ts"

const broker = (options: BrokerOptions) => layer(MemoryFileSystem.make(), options)

// ---------------------------------------------------------------------------------------------------------
// Metadata

type MetadataRequest = RequestOf<typeof MetadataApi>
type MetadataResponse = ResponseOf<typeof MetadataApi>

const metadataRequest = (
  topics: ReadonlyArray<{ readonly name: string | null; readonly topicId?: string }> | null
): MetadataRequest => ({
  topics: topics === null ? null : topics.map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID })),
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false
})

const metadata = (version: number, topics: Parameters<typeof metadataRequest>[0], conn = {}) =>
  callResponse(Metadata.make, version, metadataRequest(topics), conn)

const summary = (response: MetadataResponse) =>
  response.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)])

const TOPICS = { gamma: 1, alpha: 2, beta: 3 }
const ALL = [["alpha", 0, [0, 1]], ["beta", 0, [0, 1, 2]], ["gamma", 0, [0]]]

describe("Metadata", () => {
  it.effect("v0: an empty topic list means all topics, sorted by name", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(summary(yield* metadata(0, [])), ALL)
    }).pipe(Effect.provide(broker({ topics: TOPICS }))))

  it.effect.each([1, 4, 9, 12])("v%i: null means all topics, an empty list none", (version) =>
    Effect.gen(function*() {
      assert.deepStrictEqual(summary(yield* metadata(version, null)), ALL)
      assert.deepStrictEqual(summary(yield* metadata(version, [])), [])
      assert.deepStrictEqual(summary(yield* metadata(version, [{ name: "beta" }])), [["beta", 0, [0, 1, 2]]])
    }).pipe(Effect.provide(broker({ topics: TOPICS }))))

  it.effect.each([0, 1, 9, 12])("v%i: an unknown topic is answered with 3, an invalid name with 17", (version) =>
    Effect.gen(function*() {
      const response = yield* metadata(version, [{ name: "alpha" }, { name: "missing" }, { name: "bad name!" }])
      assert.deepStrictEqual(response.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [
        ["alpha", 0, 2],
        ["missing", 3, 0],
        ["bad name!", 17, 0]
      ])
    }).pipe(Effect.provide(broker({ topics: TOPICS, properties: { "auto.create.topics.enable": "false" } }))))

  it.effect.each([10, 12])("v%i: topics are named by id, and every topic carries its id", (version) =>
    Effect.gen(function*() {
      const all = yield* metadata(version, null)
      assert.deepStrictEqual(all.topics.map((t) => [t.name, t.topicId]), [
        ["alpha", topicIdOf("alpha")],
        ["beta", topicIdOf("beta")],
        ["gamma", topicIdOf("gamma")]
      ])
      const byId = yield* metadata(version, [{ name: null, topicId: topicIdOf("beta") }])
      assert.deepStrictEqual(summary(byId), [["beta", 0, [0, 1, 2]]])
      assert.strictEqual(byId.topics[0]!.topicId, topicIdOf("beta"))

      const unknown = topicIdOf("never created")
      const missing = yield* metadata(version, [{ name: null, topicId: unknown }])
      assert.strictEqual(missing.topics.length, 1)
      assert.strictEqual(missing.topics[0]!.errorCode, 100)
      assert.strictEqual(missing.topics[0]!.topicId, unknown)
      // The name is nullable from v12 on; before that it must still be encodable.
      assert.strictEqual(missing.topics[0]!.name, version >= 12 ? null : "")
      assert.deepStrictEqual(missing.topics[0]!.partitions, [])
    }).pipe(Effect.provide(broker({ topics: TOPICS }))))

  it.effect("the broker, the controller and every leader are this node", () =>
    Effect.gen(function*() {
      const response = yield* metadata(12, null)
      assert.deepStrictEqual(response.brokers.map((b) => b.nodeId), [5])
      assert.strictEqual(response.controllerId, 5)
      assert.strictEqual(response.clusterId, (yield* ClusterMetadata).clusterId)
      assert.isNotNull(response.clusterId)
      for (const t of response.topics) {
        for (const p of t.partitions) {
          assert.strictEqual(p.errorCode, 0)
          assert.strictEqual(p.leaderId, 5)
          assert.strictEqual(p.leaderEpoch, 0)
          assert.deepStrictEqual(p.replicaNodes, [5])
          assert.deepStrictEqual(p.isrNodes, [5])
          assert.deepStrictEqual(p.offlineReplicas, [])
        }
      }
    }).pipe(Effect.provide(broker({ topics: TOPICS, properties: { "node.id": "5" } }))))

  it.effect.each(["PLAINTEXT://:9092", "PLAINTEXT://0.0.0.0:9092", "PLAINTEXT://[::]:9092"])(
    "a wildcard listener (%s) is answered with the address the client connected to",
    (listeners) =>
      Effect.gen(function*() {
        const response = yield* metadata(1, null, { localHost: "10.1.2.3", localPort: 19092 })
        assert.deepStrictEqual(response.brokers.map((b) => [b.nodeId, b.host, b.port]), [[1, "10.1.2.3", 19092]])
        const mapped = yield* metadata(1, null, { localHost: "::ffff:192.168.0.9", localPort: 9092 })
        assert.deepStrictEqual(mapped.brokers.map((b) => [b.host, b.port]), [["192.168.0.9", 9092]])
      }).pipe(Effect.provide(broker({ topics: TOPICS, properties: { listeners } })))
  )

  it.effect("a listener with a host is answered with that host", () =>
    Effect.gen(function*() {
      const response = yield* metadata(1, null, { localHost: "10.1.2.3", localPort: 9092 })
      assert.deepStrictEqual(response.brokers.map((b) => [b.host, b.port]), [["broker.internal", 9092]])
    }).pipe(Effect.provide(broker({ properties: { listeners: "PLAINTEXT://broker.internal:9092" } }))))

  it.effect("advertised.listeners is what clients are told", () =>
    Effect.gen(function*() {
      for (const version of [0, 1, 9, 12]) {
        const response = yield* metadata(version, version === 0 ? [] : null, { localHost: "10.1.2.3", localPort: 9092 })
        assert.deepStrictEqual(response.brokers.map((b) => [b.nodeId, b.host, b.port]), [
          [1, "kafka.example.com", 29092]
        ])
      }
    }).pipe(Effect.provide(broker({
      properties: {
        listeners: "PLAINTEXT://:9092,CONTROLLER://:9093",
        "controller.listener.names": "CONTROLLER",
        "advertised.listeners": "PLAINTEXT://kafka.example.com:29092"
      }
    }))))
})

// ---------------------------------------------------------------------------------------------------------
// ApiVersions

const EXPECTED_APIS = [
  { apiKey: 0, minVersion: 0, maxVersion: 11 }, // Produce
  { apiKey: 1, minVersion: 4, maxVersion: 17 }, // Fetch
  { apiKey: 2, minVersion: 0, maxVersion: 10 }, // ListOffsets
  { apiKey: 3, minVersion: 0, maxVersion: 12 }, // Metadata
  { apiKey: 8, minVersion: 0, maxVersion: 9 }, // OffsetCommit
  { apiKey: 9, minVersion: 0, maxVersion: 9 }, // OffsetFetch
  { apiKey: 10, minVersion: 0, maxVersion: 6 }, // FindCoordinator
  { apiKey: 11, minVersion: 0, maxVersion: 9 }, // JoinGroup
  { apiKey: 12, minVersion: 0, maxVersion: 4 }, // Heartbeat
  { apiKey: 13, minVersion: 0, maxVersion: 5 }, // LeaveGroup
  { apiKey: 14, minVersion: 0, maxVersion: 5 }, // SyncGroup
  { apiKey: 15, minVersion: 0, maxVersion: 5 }, // DescribeGroups
  { apiKey: 16, minVersion: 0, maxVersion: 5 }, // ListGroups
  { apiKey: 17, minVersion: 0, maxVersion: 1 }, // SaslHandshake
  { apiKey: 18, minVersion: 0, maxVersion: 4 }, // ApiVersions
  { apiKey: 19, minVersion: 0, maxVersion: 7 }, // CreateTopics
  { apiKey: 20, minVersion: 0, maxVersion: 6 }, // DeleteTopics
  { apiKey: 21, minVersion: 0, maxVersion: 2 }, // DeleteRecords
  { apiKey: 22, minVersion: 0, maxVersion: 5 }, // InitProducerId
  { apiKey: 23, minVersion: 2, maxVersion: 4 }, // OffsetForLeaderEpoch
  { apiKey: 24, minVersion: 0, maxVersion: 5 }, // AddPartitionsToTxn
  { apiKey: 25, minVersion: 0, maxVersion: 4 }, // AddOffsetsToTxn
  { apiKey: 26, minVersion: 0, maxVersion: 5 }, // EndTxn
  { apiKey: 27, minVersion: 1, maxVersion: 1 }, // WriteTxnMarkers
  { apiKey: 28, minVersion: 0, maxVersion: 5 }, // TxnOffsetCommit
  { apiKey: 29, minVersion: 1, maxVersion: 3 }, // DescribeAcls
  { apiKey: 30, minVersion: 1, maxVersion: 3 }, // CreateAcls
  { apiKey: 31, minVersion: 1, maxVersion: 3 }, // DeleteAcls
  { apiKey: 32, minVersion: 0, maxVersion: 4 }, // DescribeConfigs
  { apiKey: 33, minVersion: 0, maxVersion: 2 }, // AlterConfigs
  { apiKey: 35, minVersion: 1, maxVersion: 4 }, // DescribeLogDirs
  { apiKey: 36, minVersion: 0, maxVersion: 2 }, // SaslAuthenticate
  { apiKey: 37, minVersion: 0, maxVersion: 3 }, // CreatePartitions
  { apiKey: 42, minVersion: 0, maxVersion: 2 }, // DeleteGroups
  { apiKey: 43, minVersion: 0, maxVersion: 2 }, // ElectLeaders
  { apiKey: 44, minVersion: 0, maxVersion: 1 }, // IncrementalAlterConfigs
  { apiKey: 45, minVersion: 0, maxVersion: 1 }, // AlterPartitionReassignments
  { apiKey: 46, minVersion: 0, maxVersion: 0 }, // ListPartitionReassignments
  { apiKey: 47, minVersion: 0, maxVersion: 0 }, // OffsetDelete
  { apiKey: 48, minVersion: 0, maxVersion: 1 }, // DescribeClientQuotas
  { apiKey: 49, minVersion: 0, maxVersion: 1 }, // AlterClientQuotas
  { apiKey: 50, minVersion: 0, maxVersion: 0 }, // DescribeUserScramCredentials
  { apiKey: 51, minVersion: 0, maxVersion: 0 }, // AlterUserScramCredentials
  { apiKey: 55, minVersion: 0, maxVersion: 2 }, // DescribeQuorum
  { apiKey: 57, minVersion: 0, maxVersion: 2 }, // UpdateFeatures
  { apiKey: 60, minVersion: 0, maxVersion: 1 }, // DescribeCluster
  { apiKey: 61, minVersion: 0, maxVersion: 0 }, // DescribeProducers
  { apiKey: 65, minVersion: 0, maxVersion: 0 }, // DescribeTransactions
  { apiKey: 66, minVersion: 0, maxVersion: 2 }, // ListTransactions
  { apiKey: 68, minVersion: 0, maxVersion: 1 }, // ConsumerGroupHeartbeat
  { apiKey: 69, minVersion: 0, maxVersion: 1 }, // ConsumerGroupDescribe
  { apiKey: 75, minVersion: 0, maxVersion: 0 } // DescribeTopicPartitions
]

describe("ApiVersions", () => {
  // The handler dispatch uses, taken from the table itself.
  const apiVersions = handlers.get(18) as Handler<
    RequestOf<typeof ApiVersionsApi>,
    ResponseOf<typeof ApiVersionsApi>,
    HandlerServices
  >

  it.effect.each([0, 1, 2, 3, 4])("v%i lists every API in the table with its version range", (version) =>
    Effect.gen(function*() {
      const response = yield* callResponse(apiVersions, version, {
        clientSoftwareName: "unit-test",
        clientSoftwareVersion: "1.0"
      })
      assert.strictEqual(response.errorCode, 0)
      const listed = [...response.apiKeys].sort((a, b) => a.apiKey - b.apiKey)
      assert.deepStrictEqual(listed, EXPECTED_APIS)
      // The same table dispatches requests: what is listed is exactly what is served.
      assert.deepStrictEqual(
        listed,
        [...handlers.values()]
          .map((h) => ({ apiKey: h.api.key, minVersion: h.minVersion, maxVersion: h.maxVersion }))
          .sort((a, b) => a.apiKey - b.apiKey)
      )
      if (version >= 3) {
        assert.deepStrictEqual(
          response.finalizedFeatures?.map((f) => [f.name, f.minVersionLevel, f.maxVersionLevel]),
          [[METADATA_VERSION_FEATURE, DEFAULT_METADATA_VERSION, DEFAULT_METADATA_VERSION]]
        )
      }
    }).pipe(Effect.provide(broker({ topics: TOPICS }))))
})

// ---------------------------------------------------------------------------------------------------------
// ListOffsets

type ListOffsetsRequest = RequestOf<typeof ListOffsetsApi>
type ListOffsetsPartition = ResponseOf<typeof ListOffsetsApi>["topics"][number]["partitions"][number]

const listOffsetsRequest = (
  topic: string,
  partitions: ReadonlyArray<readonly [partition: number, timestamp: number]>
): ListOffsetsRequest => ({
  replicaId: -1,
  isolationLevel: 0,
  topics: [{
    name: topic,
    partitions: partitions.map(([partitionIndex, timestamp]) => ({
      partitionIndex,
      currentLeaderEpoch: -1,
      timestamp,
      maxNumOffsets: 1
    }))
  }],
  timeoutMs: 30_000
})

const listOffsets = (version: number, topic: string, partitions: ReadonlyArray<readonly [number, number]>) =>
  Effect.map(callResponse(ListOffsets.make, version, listOffsetsRequest(topic, partitions)), (r) => {
    assert.strictEqual(r.topics.length, 1)
    assert.strictEqual(r.topics[0]!.name, topic)
    return r.topics[0]!.partitions
  })

const at = (p: ListOffsetsPartition) => [p.partitionIndex, p.errorCode, p.offset, p.timestamp]

/** Offsets 0-1 at 1000 and 1100, 2-3 at 2000 and 2500, 4 at 1500. */
const produceTimestamps = Effect.forEach([[1000, 1100], [2000, 2500], [1500]], (timestamps) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{
        name: "events",
        partitionData: [{
          index: 0,
          records: encodeBatch(timestamps.map((timestamp) => ({ value: new Uint8Array([1]), timestamp })))
        }]
      }]
    } satisfies RequestOf<typeof ProduceApi>),
    (r) => assert.strictEqual(r.responses[0]!.partitionResponses[0]!.errorCode, 0)
  ), { discard: true })

describe("ListOffsets", () => {
  it.effect.each([1, 4, 7, 8, 9, 10])("v%i: earliest, latest and by timestamp", (version) =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(version, "events", [[0, -2], [0, -1], [0, 1050], [0, 1500], [0, 1000], [0, 3000]])
      assert.deepStrictEqual(partitions.map(at), [
        [0, 0, 0, -1], // earliest
        [0, 0, 5, -1], // latest: the log end offset
        [0, 0, 1, 1100], // the first record at or after 1050
        [0, 0, 2, 2000], // the first offset at or after 1500 is 2 (2000), before 4 (1500)
        [0, 0, 0, 1000],
        [0, 0, -1, -1] // nothing that late
      ])
      if (version >= 4) assert.deepStrictEqual(partitions.slice(0, 2).map((p) => p.leaderEpoch), [0, 0])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))

  it.effect.each([9, 10])("v%i: -5 (latest tiered) answers -1: nothing is tiered", (version) =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(version, "events", [[0, -5], [0, -4]])
      assert.deepStrictEqual(partitions.map(at), [[0, 0, -1, -1], [0, 0, 0, -1]])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))

  it.effect.each([7, 8, 10])("v%i: -3 answers the record with the largest timestamp", (version) =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(version, "events", [[0, -3]])
      assert.deepStrictEqual(partitions.map(at), [[0, 0, 3, 2500]])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))

  it.effect("an empty partition answers 0 for both earliest and latest", () =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(8, "events", [[1, -2], [1, -1], [1, 1000]])
      assert.deepStrictEqual(partitions.map(at), [[1, 0, 0, -1], [1, 0, 0, -1], [1, 0, -1, -1]])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))

  it.effect("an unknown partition or topic is answered with 3; its siblings are answered", () =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(8, "events", [[0, -1], [9, -1]])
      assert.deepStrictEqual(partitions.map(at), [[0, 0, 5, -1], [9, 3, -1, -1]])
      const unknownTopic = yield* listOffsets(8, "nope", [[0, -1]])
      assert.deepStrictEqual(unknownTopic.map(at), [[0, 3, -1, -1]])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))

  it.effect("v0 answers in old_style_offsets", () =>
    Effect.gen(function*() {
      yield* produceTimestamps
      const partitions = yield* listOffsets(0, "events", [[0, -1], [0, -2], [1, -1], [7, -1]])
      assert.deepStrictEqual(partitions.map((p) => [p.partitionIndex, p.errorCode, p.oldStyleOffsets]), [
        [0, 0, [5]],
        [0, 0, [0]],
        [1, 0, [0]],
        [7, 3, []]
      ])
    }).pipe(Effect.provide(broker({ topics: { events: 2 } }))))
})

// ---------------------------------------------------------------------------------------------------------
// DescribeTopicPartitions

type DescribeRequest = RequestOf<typeof DescribeTopicPartitionsApi>
type DescribeResponse = ResponseOf<typeof DescribeTopicPartitionsApi>

const describeTopics = (
  names: ReadonlyArray<string>,
  options: { readonly limit?: number; readonly cursor?: DescribeRequest["cursor"] } = {}
) =>
  callResponse(DescribeTopicPartitions.make, 0, {
    topics: names.map((name) => ({ name })),
    responsePartitionLimit: options.limit ?? 2000,
    cursor: options.cursor ?? null
  })

const described = (response: DescribeResponse) =>
  response.topics.map((t) => [t.name, t.errorCode, t.topicId, t.partitions.map((p) => p.partitionIndex)])

describe("DescribeTopicPartitions", () => {
  const topics = { bravo: 2, alpha: 3 }

  it.effect("describes the named topics sorted by name", () =>
    Effect.gen(function*() {
      const response = yield* describeTopics(["bravo", "alpha"])
      assert.deepStrictEqual(described(response), [
        ["alpha", 0, topicIdOf("alpha"), [0, 1, 2]],
        ["bravo", 0, topicIdOf("bravo"), [0, 1]]
      ])
      assert.isNull(response.nextCursor)
      for (const p of response.topics.flatMap((t) => t.partitions)) {
        assert.strictEqual(p.errorCode, 0)
        assert.strictEqual(p.leaderId, 1)
        assert.strictEqual(p.leaderEpoch, 0)
        assert.deepStrictEqual(p.replicaNodes, [1])
        assert.deepStrictEqual(p.isrNodes, [1])
      }
    }).pipe(Effect.provide(broker({ topics }))))

  it.effect("an unknown topic is answered with 3 and the zero UUID", () =>
    Effect.gen(function*() {
      const response = yield* describeTopics(["zulu", "alpha"])
      assert.deepStrictEqual(described(response), [
        ["alpha", 0, topicIdOf("alpha"), [0, 1, 2]],
        ["zulu", 3, ZERO_UUID, []]
      ])
    }).pipe(Effect.provide(broker({ topics }))))

  it.effect("an empty topic list describes every topic", () =>
    Effect.gen(function*() {
      const response = yield* describeTopics([])
      assert.deepStrictEqual(described(response), [
        ["alpha", 0, topicIdOf("alpha"), [0, 1, 2]],
        ["bravo", 0, topicIdOf("bravo"), [0, 1]]
      ])
      assert.isNull(response.nextCursor)
    }).pipe(Effect.provide(broker({ topics }))))

  it.effect.each([
    { title: "all topics", names: [] as Array<string> },
    { title: "named topics", names: ["bravo", "alpha"] }
  ])("response_partition_limit and the cursor page through $title", ({ names }) =>
    Effect.gen(function*() {
      const pages: Array<Array<string>> = []
      const cursors: Array<DescribeRequest["cursor"]> = []
      let cursor: DescribeRequest["cursor"] = null
      for (let i = 0; i < 10; i++) {
        const response: DescribeResponse = yield* describeTopics(names, { limit: 2, cursor })
        for (const t of response.topics) assert.strictEqual(t.errorCode, 0)
        pages.push(response.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}`)))
        cursors.push(response.nextCursor)
        cursor = response.nextCursor
        if (cursor === null) break
      }
      assert.deepStrictEqual(pages, [["alpha-0", "alpha-1"], ["alpha-2", "bravo-0"], ["bravo-1"]])
      assert.deepStrictEqual(cursors, [
        { topicName: "alpha", partitionIndex: 2 },
        { topicName: "bravo", partitionIndex: 1 },
        null
      ])
    }).pipe(Effect.provide(broker({ topics }))))
})
