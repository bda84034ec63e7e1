// AlterConfigs and IncrementalAlterConfigs as an admin client uses them, over the live services on the
// in-memory file system: topic configs set, deleted, appended to and subtracted from, checked as CreateTopics
// checks them, the legacy form replacing the whole set; dynamic broker configs at the cluster default and for
// this node, described with their dynamic sources, applied to the next request (message size, segment size)
// and kept across a restart; a listener's SSL keys for this node only; every refusal with its error code and message; validate_only writing nothing.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as AlterConfigs from "../../src/services/api/AlterConfigs.ts"
import * as DescribeConfigs from "../../src/services/api/DescribeConfigs.ts"
import * as IncrementalAlterConfigs from "../../src/services/api/IncrementalAlterConfigs.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { ConfigSource } from "../../src/services/config/ConfigEntries.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { callResponse, layer, LOG_DIR } from "../support/TestLayers.ts"

const TOPIC = 2
const BROKER = 4
const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

type Op = readonly [name: string, op: number, value: string | null]

const incremental = (resources: ReadonlyArray<readonly [type: number, name: string, ops: ReadonlyArray<Op>]>, validateOnly = false, version = 1) =>
  Effect.map(
    callResponse(IncrementalAlterConfigs.make, version, {
      resources: resources.map(([resourceType, resourceName, ops]) => ({
        resourceType,
        resourceName,
        configs: ops.map(([name, configOperation, value]) => ({ name, configOperation, value }))
      })),
      validateOnly
    }),
    (r) => r.responses.map((x) => [x.errorCode, x.errorMessage] as const)
  )

const alter = (resources: ReadonlyArray<readonly [type: number, name: string, configs: Readonly<Record<string, string | null>>]>, validateOnly = false, version = 2) =>
  Effect.map(
    callResponse(AlterConfigs.make, version, {
      resources: resources.map(([resourceType, resourceName, configs]) => ({
        resourceType,
        resourceName,
        configs: Object.entries(configs).map(([name, value]) => ({ name, value }))
      })),
      validateOnly
    }),
    (r) => r.responses.map((x) => [x.errorCode, x.errorMessage] as const)
  )

/** name → [value, source] of a resource's configs as DescribeConfigs v4 answers them. */
const described = (resourceType: number, resourceName: string) =>
  Effect.map(
    callResponse(DescribeConfigs.make, 4, {
      resources: [{ resourceType, resourceName, configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: false
    }),
    (r) => {
      const result = r.results[0]!
      assert.strictEqual(result.errorCode, 0, result.errorMessage ?? "")
      return new Map(result.configs.map((c) => [c.name, { value: c.value, source: c.configSource, readOnly: c.readOnly, synonyms: c.synonyms }]))
    }
  )

const ok = [0, null] as const

const broker = (fs: FileSystem.FileSystem, properties: Record<string, string> = {}) =>
  layer(fs, { topics: { orders: 1 }, topicConfigs: { orders: { "retention.ms": "3600000" } }, properties: { "log.retention.ms": "86400000", ...properties } })

const run = <A, E>(body: Effect.Effect<A, E, any>, fs = MemoryFileSystem.make()) => Effect.provide(body, broker(fs)) as Effect.Effect<A, E>

const produce = (bytes: Uint8Array) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "orders", partitionData: [{ index: 0, records: bytes }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!.errorCode
  )

describe("IncrementalAlterConfigs on a topic", () => {
  it.effect.each([0, 1])("v%i sets, deletes, appends to and subtracts from topic configs", (version) =>
    run(Effect.gen(function*() {
      assert.deepStrictEqual(yield* incremental([[TOPIC, "orders", [["segment.bytes", SET, "1048576"], ["retention.ms", DELETE, null]]]], false, version), [ok])
      let configs = yield* described(TOPIC, "orders")
      assert.deepInclude(configs.get("segment.bytes"), { value: "1048576", source: ConfigSource.TOPIC_CONFIG })
      assert.deepInclude(configs.get("retention.ms"), { value: "86400000", source: ConfigSource.STATIC_BROKER_CONFIG }, "deleted: back to the broker's")
      // APPEND to a list config starts from its value (here the default "delete"); SUBTRACT removes items.
      assert.deepStrictEqual(yield* incremental([[TOPIC, "orders", [["cleanup.policy", APPEND, "compact"]]]], false, version), [ok])
      assert.strictEqual((yield* described(TOPIC, "orders")).get("cleanup.policy")!.value, "delete,compact")
      assert.deepStrictEqual(yield* incremental([[TOPIC, "orders", [["cleanup.policy", SUBTRACT, "delete"]]]], false, version), [ok])
      configs = yield* described(TOPIC, "orders")
      assert.strictEqual(configs.get("cleanup.policy")!.value, "compact")
      assert.strictEqual(configs.get("segment.bytes")!.value, "1048576", "other overrides stay")
    })))

  it.effect("refuses what Kafka refuses, each resource on its own", () =>
    run(Effect.gen(function*() {
      // One request each: a resource named twice in a request is refused whole.
      const cases: ReadonlyArray<readonly [number, string, ReadonlyArray<Op>]> = [
        [TOPIC, "orders", [["retention.ms", SET, "soon"]]],
        [TOPIC, "orders2", [["retention.ms", SET, "1000"]]],
        [TOPIC, "bad/name", [["retention.ms", SET, "1000"]]],
        [TOPIC, "orders", [["no.such.config", SET, "1"]]],
        [TOPIC, "orders", [["retention.ms", APPEND, "1"]]],
        [TOPIC, "orders", [["retention.ms", SET, null]]],
        [TOPIC, "orders", [["retention.ms", 9, "1"]]],
        [TOPIC, "orders", [["retention.ms", SET, "1"], ["retention.ms", DELETE, null]]],
        [TOPIC, "orders", [["min.compaction.lag.ms", SET, "10"], ["max.compaction.lag.ms", SET, "5"]]],
        [16, "metrics", [["interval.ms", SET, "1000"]]]
      ]
      const answers = yield* Effect.forEach(cases, (c) => Effect.map(incremental([c]), ([answer]) => answer!))
      assert.deepStrictEqual(answers.map(([code]) => code), [40, 3, 17, 40, 40, 42, 42, 42, 40, 42])
      assert.match(answers[0]![1]!, /retention\.ms/)
      assert.match(answers[4]![1]!, /append is not allowed for config key: retention\.ms/)
      assert.strictEqual(answers[7]![1], "Error due to duplicate config keys")
      // Nothing of the refused changes was written.
      assert.strictEqual((yield* described(TOPIC, "orders")).get("retention.ms")!.value, "3600000")
    })))

  it.effect("validate_only checks and writes nothing; a resource named twice is refused", () =>
    run(Effect.gen(function*() {
      assert.deepStrictEqual(yield* incremental([[TOPIC, "orders", [["retention.ms", SET, "1000"]]]], true), [ok])
      assert.deepStrictEqual((yield* incremental([[TOPIC, "orders", [["retention.ms", SET, "x"]]]], true)).map(([c]) => c), [40])
      assert.strictEqual((yield* described(TOPIC, "orders")).get("retention.ms")!.value, "3600000")
      const twice = yield* incremental([[TOPIC, "orders", [["retention.ms", SET, "1"]]], [TOPIC, "orders", [["segment.ms", SET, "1"]]]])
      assert.deepStrictEqual(twice, [[42, "Each resource must appear at most once."], [42, "Each resource must appear at most once."]])
    })))
})

describe("AlterConfigs", () => {
  it.effect.each([0, 1, 2])("v%i replaces a topic's configs with the ones given", (version) =>
    run(Effect.gen(function*() {
      assert.deepStrictEqual(yield* alter([[TOPIC, "orders", { "segment.ms": "60000" }]], false, version), [ok])
      const configs = yield* described(TOPIC, "orders")
      assert.deepInclude(configs.get("segment.ms"), { value: "60000", source: ConfigSource.TOPIC_CONFIG })
      assert.deepInclude(configs.get("retention.ms"), { value: "86400000", source: ConfigSource.STATIC_BROKER_CONFIG }, "a config left out is removed")
      assert.deepStrictEqual((yield* alter([[TOPIC, "orders", { "retention.ms": null }]], false, version)).map(([c]) => c), [42], "null values are refused")
    })))
})

describe("dynamic broker configs", () => {
  it.effect("set at the cluster default and for this node, described with their sources, inherited by topics", () =>
    run(Effect.gen(function*() {
      assert.deepStrictEqual(yield* incremental([[BROKER, "", [["log.retention.ms", SET, "7200000"], ["log.segment.bytes", SET, "2097152"]]]]), [ok])
      assert.deepStrictEqual(yield* incremental([[BROKER, "1", [["log.segment.bytes", SET, "4194304"]]]]), [ok])
      const brokerConfigs = yield* described(BROKER, "1")
      assert.deepInclude(brokerConfigs.get("log.retention.ms"), { value: "7200000", source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, readOnly: false })
      assert.deepInclude(brokerConfigs.get("log.segment.bytes"), { value: "4194304", source: ConfigSource.DYNAMIC_BROKER_CONFIG })
      assert.deepStrictEqual(brokerConfigs.get("log.segment.bytes")!.synonyms.map((s) => [s.value, s.source]), [
        ["4194304", ConfigSource.DYNAMIC_BROKER_CONFIG],
        ["2097152", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
        ["1073741824", ConfigSource.DEFAULT_CONFIG]
      ])
      assert.isTrue(brokerConfigs.get("group.min.session.timeout.ms")!.readOnly)
      const topic = yield* described(TOPIC, "orders")
      assert.deepInclude(topic.get("segment.bytes"), { value: "4194304", source: ConfigSource.DYNAMIC_BROKER_CONFIG })
      assert.deepInclude(topic.get("retention.ms"), { value: "3600000", source: ConfigSource.TOPIC_CONFIG }, "a topic's own value wins")
      // Deleting this node's value falls back to the cluster default.
      assert.deepStrictEqual(yield* incremental([[BROKER, "1", [["log.segment.bytes", DELETE, null]]]]), [ok])
      assert.deepInclude((yield* described(BROKER, "1")).get("log.segment.bytes"), { value: "2097152", source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG })
    })))

  it.effect("refuses keys that cannot change at run time, bad values and other brokers", () =>
    run(Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [number, string, ReadonlyArray<Op>]> = [
        [BROKER, "", [["group.min.session.timeout.ms", SET, "1000"]]],
        [BROKER, "1", [["log.segment.bytes", SET, "big"]]],
        [BROKER, "1", [["log.cleaner.min.cleanable.ratio", SET, "2"]]],
        [BROKER, "2", [["log.segment.bytes", SET, "1048576"]]],
        [BROKER, "one", [["log.segment.bytes", SET, "1048576"]]]
      ]
      const answers = yield* Effect.forEach(cases, (c) => Effect.map(incremental([c]), ([answer]) => answer!))
      assert.deepStrictEqual(answers.map(([c]) => c), [40, 40, 40, 42, 42])
      assert.strictEqual(answers[0]![1], "Cannot update these configs dynamically: group.min.session.timeout.ms")
      assert.match(answers[1]![1]!, /log\.segment\.bytes/)
      assert.match(answers[2]![1]!, /log\.cleaner\.min\.cleanable\.ratio/)
      assert.strictEqual((yield* described(BROKER, "1")).get("log.segment.bytes")!.source, ConfigSource.DEFAULT_CONFIG)
    })))

  it.effect("listener SSL keys: this node's only, described as dynamic (passwords as null); set again, rewritten", () =>
    run(Effect.gen(function*() {
      const key = "listener.name.external.ssl.keystore.location"
      const [[code, message]] = yield* incremental([[BROKER, "", [[key, SET, "/etc/kafka/new.pem"]]]])
      assert.deepStrictEqual([code, message], [40, `Cannot update these configs at default cluster level, broker id must be specified: ${key}`])
      assert.deepStrictEqual(yield* incremental([[BROKER, "1", [[key, SET, "/etc/kafka/new.pem"], ["ssl.keystore.password", SET, "pw-secret"]]]]), [ok])
      const configs = yield* described(BROKER, "1")
      assert.deepInclude(configs.get(key), { value: "/etc/kafka/new.pem", source: ConfigSource.DYNAMIC_BROKER_CONFIG, readOnly: false })
      assert.deepInclude(configs.get("ssl.keystore.password"), { value: null, source: ConfigSource.DYNAMIC_BROKER_CONFIG })
      assert.deepStrictEqual(yield* incremental([[BROKER, "1", [["ssl.client.auth", SET, "required"]]]]).pipe(Effect.map(([[c]]) => c)), 40)
      // Kafka writes a broker key set to its own value again, so that a certificate rotated in place reloads.
      const metadata = yield* ClusterMetadata
      const before = (yield* metadata.log).endOffset
      assert.deepStrictEqual(yield* incremental([[BROKER, "1", [[key, SET, "/etc/kafka/new.pem"]]]]), [ok])
      assert.strictEqual((yield* metadata.log).endOffset, before + 1)
    })))

  it.effect("apply from the next request on and are kept across a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const big = encodeBatch([{ key: null, value: new Uint8Array(5000) }])
      yield* run(Effect.gen(function*() {
        assert.strictEqual(yield* produce(big.slice()), 0)
        assert.deepStrictEqual(yield* alter([[BROKER, "", { "message.max.bytes": "4096", "log.segment.bytes": "16384" }]]), [ok])
        assert.strictEqual(yield* produce(big.slice()), 10, "MESSAGE_TOO_LARGE under the new limit")
        for (let i = 0; i < 20; i++) assert.strictEqual(yield* produce(encodeBatch([{ key: null, value: new Uint8Array(1000) }])), 0)
        const segments = (yield* Effect.orDie(fs.readDirectory(`${LOG_DIR}/orders-0`))).filter((f) => f.endsWith(".log"))
        assert.isAbove(segments.length, 1, "segments roll at the dynamic log.segment.bytes")
      }), fs)
      yield* run(Effect.gen(function*() {
        assert.strictEqual(yield* produce(big.slice()), 10, "the dynamic limit survives the restart")
        assert.deepInclude((yield* described(BROKER, "")).get("message.max.bytes"), { value: "4096", source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG })
      }), fs)
    }))
})
