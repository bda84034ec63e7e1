// The console's API and `/metrics` over the live services on the in-memory file system: how values are shown
// (JSON, text, hex), Kafka's murmur2 partitioner (its own test vectors), the message browser (newest first,
// from an offset or a timestamp, one partition or all, compressed batches decoded), topics and groups with
// their lag, the actions (create, produce, delete, reset offsets only while a group is empty), and the
// Prometheus text of a scrape, parsed by a Prometheus parser.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { Codec } from "../../src/protocol/Compression.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as JoinGroup from "../../src/services/api/JoinGroup.ts"
import * as OffsetCommit from "../../src/services/api/OffsetCommit.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import * as Api from "../../src/services/console/ConsoleApi.ts"
import { murmur2, partitionForKey, render } from "../../src/services/console/Render.ts"
import { scrape } from "../../src/services/metrics/Exposition.ts"
import { callResponse, layer } from "../support/TestLayers.ts"

const utf8 = new TextEncoder()
const me = { id: 0, localHost: "127.0.0.1", localPort: 9092, remote: "127.0.0.1:5000", principal: "User:ANONYMOUS" }

const produce = (topic: string, partition: number, records: ReadonlyArray<{ key?: string; value: string; timestamp?: number }>, compression: number = Codec.None) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{
        name: topic,
        partitionData: [{
          index: partition,
          records: encodeBatch(records.map((r) => ({ key: r.key === undefined ? null : utf8.encode(r.key), value: utf8.encode(r.value), timestamp: r.timestamp ?? 1000 })), { compression })
        }]
      }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!.errorCode
  )

const commit = (group: string, topic: string, partition: number, offset: number) =>
  callResponse(OffsetCommit.make, 8, {
    groupId: group,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }]
  })

const run = <A, E>(body: Effect.Effect<A, E, any>) =>
  Effect.provide(body, layer(MemoryFileSystem.make(), { topics: { orders: 2 }, properties: { "group.initial.rebalance.delay.ms": "0" } })) as Effect.Effect<A, E>

describe("how the console shows bytes", () => {
  it("pretty JSON when it parses, text when UTF-8, hex otherwise; null stays null", () => {
    assert.deepStrictEqual(render(utf8.encode('{"a":[1,2]}')), { kind: "json", text: '{\n  "a": [\n    1,\n    2\n  ]\n}', size: 11 })
    assert.deepStrictEqual(render(utf8.encode("héllo {")), { kind: "text", text: "héllo {", size: 8 })
    assert.deepStrictEqual(render(new Uint8Array([0xff, 0x00, 0x10])), { kind: "hex", text: "ff 00 10", size: 3 })
    assert.deepStrictEqual(render(new Uint8Array([0x01, 0x41])), { kind: "hex", text: "01 41", size: 2 }, "control bytes are binary")
    assert.isNull(render(null))
  })

  it("murmur2 gives Kafka's values (its UtilsTest vectors), and the default partitioner's partition", () => {
    const cases: ReadonlyArray<[string, number]> = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107]
    ]
    for (const [key, hash] of cases) assert.strictEqual(murmur2(utf8.encode(key)), hash, key)
    assert.strictEqual(partitionForKey(utf8.encode("foobar"), 3), (-790332482 & 0x7fffffff) % 3)
  })
})

describe("the console's API", () => {
  it.effect("browses messages newest first, from an offset or a timestamp, per partition or all, compressed batches decoded", () =>
    run(Effect.gen(function*() {
      assert.strictEqual(yield* produce("orders", 0, [{ key: "a", value: "0", timestamp: 1000 }, { value: "1", timestamp: 2000 }, { value: "2", timestamp: 3000 }]), 0)
      assert.strictEqual(yield* produce("orders", 1, [{ value: '{"n":3}', timestamp: 2500 }, { value: "4", timestamp: 4000 }], Codec.Gzip), 0)
      const values = (page: { messages: ReadonlyArray<{ value: { text: string } | null }> }) => page.messages.map((m) => m.value!.text)
      assert.deepStrictEqual(values(yield* Api.messages("orders", { from: "newest", limit: 3 })), ["4", "2", '{\n  "n": 3\n}'])
      assert.deepStrictEqual(values(yield* Api.messages("orders", { from: "oldest", limit: 10 })), ["0", "1", '{\n  "n": 3\n}', "2", "4"])
      assert.deepStrictEqual(values(yield* Api.messages("orders", { partition: 0, from: "offset", offset: 1, limit: 10 })), ["1", "2"])
      assert.deepStrictEqual(values(yield* Api.messages("orders", { from: "timestamp", timestamp: 2600, limit: 10 })), ["2", "4"])
      const gz = (yield* Api.messages("orders", { partition: 1, from: "oldest", limit: 1 })).messages[0]!
      assert.deepInclude(gz, { partition: 1, offset: 0, timestamp: 2500, compression: "gzip", timestampType: "CreateTime" })
      const keyed = (yield* Api.messages("orders", { partition: 0, from: "oldest", limit: 1 })).messages[0]!
      assert.deepStrictEqual(keyed.key, { kind: "text", text: "a", size: 1 })
      const missing = yield* Effect.flip(Api.messages("nope", { from: "newest", limit: 1 }))
      assert.strictEqual((missing as Api.ConsoleError).status, 404)
    })))

  it.effect("topics with message counts and sizes; a topic's partitions and configs with their sources", () =>
    run(Effect.gen(function*() {
      yield* produce("orders", 1, [{ value: "x" }, { value: "y" }])
      const [orders] = yield* Api.topics
      assert.deepInclude(orders, { name: "orders", partitions: 2, messages: 2 })
      assert.isAbove(orders!.bytes, 0)
      const detail = yield* Api.topic("orders", me)
      assert.deepStrictEqual(detail.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark]), [[0, 0, 0], [1, 0, 2]])
      assert.deepInclude(detail.configs.find((c) => c.name === "cleanup.policy"), { value: "delete", source: "DEFAULT_CONFIG", isDefault: true })
    })))

  it.effect("creates a topic, produces to it (the key picks the partition as Kafka's partitioner), deletes it", () =>
    run(Effect.gen(function*() {
      const made = yield* Api.createTopic({ name: "made", partitions: 3 }, me)
      assert.deepInclude(made, { name: "made", partitions: 3, messages: 0 })
      assert.strictEqual((yield* Effect.flip(Api.createTopic({ name: "made" }, me))).status, 409)
      const sent = yield* Api.produce("made", { key: "foobar", value: "v", headers: [{ key: "h", value: "x" }] }, me)
      assert.deepStrictEqual(sent, { partition: partitionForKey(utf8.encode("foobar"), 3), offset: 0 })
      const [m] = (yield* Api.messages("made", { from: "newest", limit: 5 })).messages
      assert.deepStrictEqual(m!.headers, [{ key: "h", value: { kind: "text", text: "x", size: 1 } }])
      yield* Api.deleteTopic("made", me)
      assert.strictEqual((yield* Effect.flip(Api.topic("made", me))).status, 404)
    })))

  it.effect("groups with their lag; offsets reset only while the group is empty", () =>
    run(Effect.gen(function*() {
      yield* produce("orders", 0, [{ value: "a" }, { value: "b" }, { value: "c" }])
      yield* commit("app", "orders", 0, 1)
      const [g] = yield* Api.groups
      assert.deepInclude(g, { groupId: "app", state: "Empty", lag: 2 })
      const detail = yield* Api.group("app", [])
      assert.deepStrictEqual(detail.offsets, [{ topic: "orders", partition: 0, committed: 1, logEndOffset: 3, lag: 2 }])
      yield* Api.resetOffsets("app", { to: "earliest" }, me)
      assert.strictEqual((yield* Api.group("app", [])).lag, 3)
      yield* Api.resetOffsets("app", { topic: "orders", to: "offset", offset: 2 }, me)
      assert.deepStrictEqual((yield* Api.group("app", [])).offsets.map((o) => [o.partition, o.committed]), [[0, 2], [1, 0]])

      // A member joins: the group is no longer empty.
      yield* callResponse(JoinGroup.make, 5, {
        groupId: "app",
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId: "",
        groupInstanceId: "static-1",
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }],
        reason: null
      })
      const refused = yield* Effect.flip(Api.resetOffsets("app", { to: "latest" }, me))
      assert.strictEqual(refused.status, 409)
      assert.match(refused.error, /can only be reset if the group 'app' is inactive/)
    })))

  it.effect("a scrape is Prometheus text with the counters, log offsets and group lag", () =>
    run(Effect.gen(function*() {
      yield* produce("orders", 0, [{ value: "a" }, { value: "b" }, { value: "c" }])
      yield* produce("orders", 1, [{ value: "d" }])
      yield* commit("app", "orders", 0, 1)
      const text = yield* scrape({ cpuSeconds: 1.5, residentBytes: 1e8, heapUsedBytes: 1e7, heapTotalBytes: 2e7, startTimeSeconds: 1_700_000_000 })
      const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]))
      const value = (name: string, labels: Record<string, string> = {}) =>
        Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value)
      assert.strictEqual(families.get("kafka_server_brokertopicmetrics_messagesin_total")!.type, "COUNTER")
      assert.strictEqual(value("kafka_server_brokertopicmetrics_messagesin_total", { topic: "orders" }), 4)
      assert.strictEqual(value("kafka_log_log_logendoffset", { topic: "orders", partition: "0" }), 3)
      assert.strictEqual(value("kafka_log_log_logendoffset", { topic: "orders", partition: "1" }), 1)
      assert.strictEqual(value("kafka_consumergroup_lag", { group: "app", topic: "orders", partition: "0" }), 2)
      assert.strictEqual(value("process_resident_memory_bytes"), 1e8)
    })))
})
