// Topic configs (the table, validation, description), DescribeConfigs for topics and the broker, and
// DescribeCluster, over the live services on the in-memory file system, called at real versions through the codecs.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { RequestOf, ResponseOf } from "../../src/protocol/Message.ts"
import type { DescribeConfigs as DescribeConfigsApi } from "../../src/protocol/messages/DescribeConfigs.ts"
import * as DescribeCluster from "../../src/services/api/DescribeCluster.ts"
import * as DescribeConfigs from "../../src/services/api/DescribeConfigs.ts"
import { HONOURED_KEYS } from "../../src/services/config/BrokerConfig.ts"
import { DYNAMIC_KEYS } from "../../src/services/config/DynamicConfigs.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { ConfigSource, ConfigType, LONG_MAX } from "../../src/services/config/ConfigEntries.ts"
import { TOPIC_CONFIGS, validateTopicConfigs } from "../../src/services/metadata/TopicConfigs.ts"
import { callResponse, fresh } from "../support/TestLayers.ts"

type Request = RequestOf<typeof DescribeConfigsApi>
type Response = ResponseOf<typeof DescribeConfigsApi>
type Config = Response["results"][number]["configs"][number]

const TOPIC = 2
const BROKER = 4

const resource = (resourceType: number, resourceName: string, keys: ReadonlyArray<string> | null = null) => ({
  resourceType,
  resourceName,
  configurationKeys: keys === null ? null : [...keys]
})

const request = (
  resources: Request["resources"],
  options: { synonyms?: boolean; documentation?: boolean } = {}
): Request => ({
  resources,
  includeSynonyms: options.synonyms ?? false,
  includeDocumentation: options.documentation ?? false
})

const describeConfigs = (version: number, ...args: Parameters<typeof request>) =>
  callResponse(DescribeConfigs.make, version, request(...args))

const byName = (configs: ReadonlyArray<Config>) => new Map(configs.map((c) => [c.name, c]))

/** Commits topic config overrides as ConfigRecords, as CreateTopics (or a Kafka controller) writes them. */
const setOverrides = (topic: string, configs: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const metadata = yield* ClusterMetadata
    yield* metadata.update(() =>
      Effect.succeed({
        records: Object.entries(configs).map(([name, value]) => ({
          type: "Config" as const,
          resourceType: TOPIC,
          resourceName: topic,
          name,
          value
        })),
        result: undefined
      })
    )
  }).pipe(Effect.orDie)

const TOPIC_NAMES = TOPIC_CONFIGS.map((c) => c.name)

// ---------------------------------------------------------------------------------------------------------
// The table

describe("TopicConfigs", () => {
  it("lists Kafka 3.9's topic configs, sorted, with the ones this broker reads marked", () => {
    assert.strictEqual(TOPIC_CONFIGS.length, 36)
    assert.deepStrictEqual(TOPIC_NAMES, [...TOPIC_NAMES].sort())
    for (const name of ["cleanup.policy", "message.timestamp.after.max.ms", "remote.storage.enable", "segment.jitter.ms"]) {
      assert.include(TOPIC_NAMES, name)
    }
    assert.deepStrictEqual(
      TOPIC_CONFIGS.filter((c) => c.honoured).map((c) => c.name),
      [
        "delete.retention.ms",
        "file.delete.delay.ms",
        "flush.messages",
        "flush.ms",
        "index.interval.bytes",
        "max.compaction.lag.ms",
        "max.message.bytes",
        "min.cleanable.dirty.ratio",
        "min.compaction.lag.ms",
        "retention.bytes",
        "retention.ms",
        "segment.bytes",
        "segment.ms"
      ]
    )
  })

  it.effect("validateTopicConfigs accepts valid values", () =>
    Effect.gen(function*() {
      yield* validateTopicConfigs([])
      yield* validateTopicConfigs([
        { name: "retention.ms", value: "-1" },
        { name: "retention.bytes", value: " 1073741824 " },
        { name: "segment.bytes", value: "14" },
        { name: "cleanup.policy", value: "compact, delete" },
        { name: "cleanup.policy", value: "" },
        { name: "compression.type", value: "zstd" },
        { name: "compression.gzip.level", value: "-1" },
        { name: "min.cleanable.dirty.ratio", value: "0.25" },
        { name: "unclean.leader.election.enable", value: "TRUE" },
        { name: "message.timestamp.type", value: "LogAppendTime" },
        { name: "flush.messages", value: LONG_MAX },
        { name: "message.format.version", value: "2.8-IV1" },
        { name: "leader.replication.throttled.replicas", value: "0:1,1:1" },
        { name: "follower.replication.throttled.replicas", value: "*" },
        { name: "min.compaction.lag.ms", value: "100" },
        { name: "max.compaction.lag.ms", value: "100" }
      ])
    }))

  it.effect("validateTopicConfigs rejects unknown names, non-numbers, out-of-range and unknown enum values", () =>
    Effect.gen(function*() {
      const reject = (name: string, value: string | null) =>
        Effect.flip(validateTopicConfigs([{ name: "retention.ms", value: "1000" }, { name, value }]))
      const cases: ReadonlyArray<readonly [string, string | null, RegExp]> = [
        ["retention.msec", "1000", /unknown topic config/],
        ["retention.ms", "ten", /not a 64-bit integer/],
        ["retention.ms", "1.5", /not a 64-bit integer/],
        ["retention.ms", "-2", /below the minimum -1/],
        ["retention.ms", "9223372036854775808", /does not fit a 64-bit/],
        ["segment.bytes", "13", /below the minimum 14/],
        ["max.message.bytes", "2147483648", /does not fit a 32-bit/],
        ["compression.lz4.level", "18", /outside 1..17/],
        ["compression.gzip.level", "0", /outside 1..9/],
        ["min.cleanable.dirty.ratio", "1.5", /outside 0..1/],
        ["min.cleanable.dirty.ratio", "half", /not a number/],
        ["preallocate", "yes", /neither true nor false/],
        ["compression.type", "brotli", /not one of/],
        ["message.timestamp.type", "createtime", /not one of/],
        ["cleanup.policy", "compact,archive", /"archive" is not one of/],
        ["message.format.version", "9.9", /not a known message format version/],
        ["leader.replication.throttled.replicas", "0-1", /partition:broker/],
        ["remote.storage.enable", "true", /tiered storage/],
        ["retention.bytes", null, /null value/]
      ]
      for (const [name, value, detail] of cases) {
        const error = yield* reject(name, value)
        assert.strictEqual(error._tag, "InvalidTopicConfig")
        assert.strictEqual(error.code, 40)
        assert.strictEqual(error.name, name)
        assert.match(error.detail, detail, `${name}=${value}`)
      }
      // min.compaction.lag.ms above a max given in the same request.
      const lag = yield* Effect.flip(validateTopicConfigs([
        { name: "max.compaction.lag.ms", value: "10" },
        { name: "min.compaction.lag.ms", value: "11" }
      ]))
      assert.match(lag.message, /min.compaction.lag.ms: 11 is above max.compaction.lag.ms \(10\)/)
    }))
})

// ---------------------------------------------------------------------------------------------------------
// DescribeConfigs: topics

describe("DescribeConfigs topics", () => {
  it.effect.each([1, 2, 3, 4])("v%i: every topic config, with defaults derived from the broker config", (version) =>
    Effect.gen(function*() {
      const response = yield* describeConfigs(version, [resource(TOPIC, "orders")])
      const [result] = response.results
      assert.strictEqual(result!.errorCode, 0)
      assert.strictEqual(result!.errorMessage, null)
      assert.deepStrictEqual([result!.resourceType, result!.resourceName], [TOPIC, "orders"])
      assert.deepStrictEqual(result!.configs.map((c) => c.name), TOPIC_NAMES)
      const configs = byName(result!.configs)
      const summary = (name: string) => {
        const c = configs.get(name)!
        return [c.value, c.configSource, c.readOnly, c.isSensitive]
      }
      // Set in the file (directly or through log.retention.hours): STATIC_BROKER_CONFIG.
      assert.deepStrictEqual(summary("retention.ms"), ["3600000", ConfigSource.STATIC_BROKER_CONFIG, false, false])
      assert.deepStrictEqual(summary("segment.bytes"), ["1048576", ConfigSource.STATIC_BROKER_CONFIG, false, false])
      assert.deepStrictEqual(summary("max.message.bytes"), ["2000000", ConfigSource.STATIC_BROKER_CONFIG, false, false])
      assert.deepStrictEqual(summary("flush.messages"), ["1000", ConfigSource.STATIC_BROKER_CONFIG, false, false])
      // Not set: the broker's default, in Kafka's way of writing "no limit".
      assert.deepStrictEqual(summary("retention.bytes"), ["-1", ConfigSource.DEFAULT_CONFIG, false, false])
      assert.deepStrictEqual(summary("flush.ms"), [LONG_MAX, ConfigSource.DEFAULT_CONFIG, false, false])
      assert.deepStrictEqual(summary("cleanup.policy"), ["delete", ConfigSource.DEFAULT_CONFIG, false, false])
      assert.deepStrictEqual(summary("min.cleanable.dirty.ratio"), ["0.5", ConfigSource.DEFAULT_CONFIG, false, false])
      assert.deepStrictEqual(summary("message.format.version"), ["3.0-IV1", ConfigSource.DEFAULT_CONFIG, false, false])
      // Not asked for: no synonyms, and (v3+, where the field exists) no documentation.
      assert.isTrue(result!.configs.every((c) => c.synonyms.length === 0 && (version < 3 || c.documentation === null)))
    }).pipe(Effect.provide(fresh({
      topics: { orders: 1 },
      properties: {
        "log.retention.hours": "1",
        "log.segment.bytes": "1048576",
        "message.max.bytes": "2000000",
        "log.flush.interval.messages": "1000"
      }
    }))))

  it.effect("an override has source TOPIC_CONFIG (v1+) and is_default false (v0)", () =>
    Effect.gen(function*() {
      yield* setOverrides("orders", { "retention.ms": "60000", "cleanup.policy": "compact , delete" })
      const v0 = byName((yield* describeConfigs(0, [resource(TOPIC, "orders")])).results[0]!.configs)
      assert.deepStrictEqual([v0.get("retention.ms")!.value, v0.get("retention.ms")!.isDefault], ["60000", false])
      assert.deepStrictEqual([v0.get("cleanup.policy")!.value, v0.get("cleanup.policy")!.isDefault], ["compact,delete", false])
      assert.deepStrictEqual([v0.get("segment.bytes")!.value, v0.get("segment.bytes")!.isDefault], ["1073741824", true])
      // v0 has no source: it decodes as -1.
      assert.strictEqual(v0.get("retention.ms")!.configSource, -1)

      const v1 = byName((yield* describeConfigs(1, [resource(TOPIC, "orders")])).results[0]!.configs)
      assert.deepStrictEqual([v1.get("retention.ms")!.value, v1.get("retention.ms")!.configSource], ["60000", ConfigSource.TOPIC_CONFIG])
      assert.strictEqual(v1.get("segment.bytes")!.configSource, ConfigSource.DEFAULT_CONFIG)
      // is_default exists only in v0.
      assert.isFalse(v1.get("segment.bytes")!.isDefault)
    }).pipe(Effect.provide(fresh({ topics: { orders: 1 } }))))

  it.effect.each([0, 1, 4])("v%i: configuration_keys picks configs; unknown names are left out; null or empty is all", (version) =>
    Effect.gen(function*() {
      const response = yield* describeConfigs(version, [
        resource(TOPIC, "orders", ["segment.bytes", "no.such.config", "retention.ms"]),
        resource(TOPIC, "orders", []),
        resource(TOPIC, "orders", null)
      ])
      assert.deepStrictEqual(response.results.map((r) => r.errorCode), [0, 0, 0])
      assert.deepStrictEqual(response.results[0]!.configs.map((c) => c.name), ["retention.ms", "segment.bytes"])
      assert.strictEqual(response.results[1]!.configs.length, TOPIC_CONFIGS.length)
      assert.strictEqual(response.results[2]!.configs.length, TOPIC_CONFIGS.length)
    }).pipe(Effect.provide(fresh({ topics: { orders: 1 } }))))

  it.effect.each([0, 1, 4])("v%i: an unknown topic is 3, an invalid name 17, the others still answered", (version) =>
    Effect.gen(function*() {
      const response = yield* describeConfigs(version, [
        resource(TOPIC, "missing"),
        resource(TOPIC, "bad name!"),
        resource(TOPIC, "orders", ["retention.ms"])
      ])
      assert.deepStrictEqual(response.results.map((r) => [r.resourceName, r.errorCode, r.configs.length]), [
        ["missing", 3, 0],
        ["bad name!", 17, 0],
        ["orders", 0, 1]
      ])
      assert.match(response.results[0]!.errorMessage!, /missing/)
    }).pipe(Effect.provide(fresh({ topics: { orders: 1 } }))))

  it.effect("v1+: synonyms are the override, then the broker config set in the file, then the default", () =>
    Effect.gen(function*() {
      yield* setOverrides("orders", { "retention.ms": "60000" })
      const configs = byName((yield* describeConfigs(1, [resource(TOPIC, "orders")], { synonyms: true })).results[0]!.configs)
      const synonyms = (name: string) => configs.get(name)!.synonyms.map((s) => [s.name, s.value, s.source])
      assert.deepStrictEqual(synonyms("retention.ms"), [
        ["retention.ms", "60000", ConfigSource.TOPIC_CONFIG],
        ["log.retention.hours", "1", ConfigSource.STATIC_BROKER_CONFIG],
        ["log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG]
      ])
      assert.deepStrictEqual(synonyms("segment.bytes"), [
        ["log.segment.bytes", "1048576", ConfigSource.STATIC_BROKER_CONFIG],
        ["log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG]
      ])
      assert.deepStrictEqual(synonyms("flush.ms"), [["log.flush.scheduler.interval.ms", LONG_MAX, ConfigSource.DEFAULT_CONFIG]])
      assert.deepStrictEqual(synonyms("cleanup.policy"), [["log.cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG]])
      // No broker config behind it: no synonyms, and the source is the default.
      assert.deepStrictEqual(synonyms("remote.storage.enable"), [])
      assert.strictEqual(configs.get("remote.storage.enable")!.configSource, ConfigSource.DEFAULT_CONFIG)
    }).pipe(Effect.provide(fresh({
      topics: { orders: 1 },
      properties: { "log.retention.hours": "1", "log.segment.bytes": "1048576" }
    }))))

  it.effect.each([3, 4])("v%i: config types, and documentation when asked", (version) =>
    Effect.gen(function*() {
      const configs = byName((yield* describeConfigs(version, [resource(TOPIC, "orders")], { documentation: true })).results[0]!.configs)
      const types = Object.fromEntries([...configs.values()].map((c) => [c.name, c.configType]))
      assert.deepInclude(types, {
        "cleanup.policy": ConfigType.LIST,
        "compression.type": ConfigType.STRING,
        "max.message.bytes": ConfigType.INT,
        "retention.ms": ConfigType.LONG,
        "min.cleanable.dirty.ratio": ConfigType.DOUBLE,
        "preallocate": ConfigType.BOOLEAN,
        "segment.bytes": ConfigType.INT
      })
      assert.isTrue([...configs.values()].every((c) => typeof c.documentation === "string" && c.documentation.length > 0))
      // Before v3 there is no type on the wire.
      const v2 = (yield* describeConfigs(2, [resource(TOPIC, "orders")])).results[0]!.configs
      assert.isTrue(v2.every((c) => c.configType === 0))
    }).pipe(Effect.provide(fresh({ topics: { orders: 1 } }))))
})

// ---------------------------------------------------------------------------------------------------------
// DescribeConfigs: the broker and other resources

describe("DescribeConfigs broker", () => {
  const PROPERTIES = {
    "node.id": "7",
    "log.retention.hours": "2",
    "message.max.bytes": "500000",
    "auto.create.topics.enable": "false"
  }

  it.effect.each([1, 4])("v%i: the honoured keys, STATIC_BROKER_CONFIG when set in the file, else DEFAULT_CONFIG", (version) =>
    Effect.gen(function*() {
      for (const name of ["7"]) {
        const [result] = (yield* describeConfigs(version, [resource(BROKER, name)])).results
        assert.strictEqual(result!.errorCode, 0)
        assert.deepStrictEqual(result!.configs.map((c) => c.name), [...HONOURED_KEYS])
        // Only the keys that can change at run time are writable; only storage.url (it may hold a password) is secret.
        assert.isTrue(result!.configs.every((c) => c.readOnly === !DYNAMIC_KEYS.has(c.name) && c.isSensitive === (c.name === "storage.url")))
        const configs = byName(result!.configs)
        const summary = (key: string) => [configs.get(key)!.value, configs.get(key)!.configSource]
        assert.deepStrictEqual(summary("node.id"), ["7", ConfigSource.STATIC_BROKER_CONFIG])
        assert.deepStrictEqual(summary("log.dirs"), ["/data", ConfigSource.STATIC_BROKER_CONFIG])
        assert.deepStrictEqual(summary("log.retention.hours"), ["2", ConfigSource.STATIC_BROKER_CONFIG])
        assert.deepStrictEqual(summary("message.max.bytes"), ["500000", ConfigSource.STATIC_BROKER_CONFIG])
        assert.deepStrictEqual(summary("auto.create.topics.enable"), ["false", ConfigSource.STATIC_BROKER_CONFIG])
        assert.deepStrictEqual(summary("num.partitions"), ["1", ConfigSource.DEFAULT_CONFIG])
        assert.deepStrictEqual(summary("log.segment.bytes"), ["1073741824", ConfigSource.DEFAULT_CONFIG])
        assert.deepStrictEqual(summary("log.retention.bytes"), ["-1", ConfigSource.DEFAULT_CONFIG])
        assert.deepStrictEqual(summary("log.flush.interval.messages"), [LONG_MAX, ConfigSource.DEFAULT_CONFIG])
        assert.deepStrictEqual(summary("socket.request.max.bytes"), ["104857600", ConfigSource.DEFAULT_CONFIG])
        // No default in Kafka and not set: null.
        assert.deepStrictEqual(summary("log.retention.ms"), [null, ConfigSource.DEFAULT_CONFIG])
        assert.deepStrictEqual(summary("advertised.listeners"), [null, ConfigSource.DEFAULT_CONFIG])
      }
    }).pipe(Effect.provide(fresh({ properties: PROPERTIES }))))

  it.effect("v0: is_default tells the file's keys from the defaults", () =>
    Effect.gen(function*() {
      const configs = byName((yield* describeConfigs(0, [resource(BROKER, "7", ["message.max.bytes", "num.partitions"])])).results[0]!.configs)
      assert.deepStrictEqual([...configs.values()].map((c) => [c.name, c.value, c.isDefault]), [
        ["num.partitions", "1", true],
        ["message.max.bytes", "500000", false]
      ])
    }).pipe(Effect.provide(fresh({ properties: PROPERTIES }))))

  it.effect("v3: broker synonyms and types", () =>
    Effect.gen(function*() {
      // The cluster-wide default lists only dynamic defaults: none here.
      const [cluster] = (yield* describeConfigs(3, [resource(BROKER, "")], { synonyms: true })).results
      assert.deepStrictEqual([cluster!.errorCode, cluster!.configs], [0, []])
      const configs = byName((yield* describeConfigs(3, [resource(BROKER, "7")], { synonyms: true })).results[0]!.configs)
      const synonyms = (name: string) => configs.get(name)!.synonyms.map((s) => [s.name, s.value, s.source])
      assert.deepStrictEqual(synonyms("log.retention.hours"), [
        ["log.retention.hours", "2", ConfigSource.STATIC_BROKER_CONFIG],
        ["log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG]
      ])
      assert.deepStrictEqual(synonyms("num.partitions"), [["num.partitions", "1", ConfigSource.DEFAULT_CONFIG]])
      assert.deepStrictEqual(synonyms("log.retention.ms"), [])
      assert.strictEqual(configs.get("log.retention.ms")!.configType, ConfigType.LONG)
      assert.strictEqual(configs.get("auto.create.topics.enable")!.configType, ConfigType.BOOLEAN)
      assert.strictEqual(configs.get("listeners")!.configType, ConfigType.STRING)
      assert.strictEqual(configs.get("node.id")!.configType, ConfigType.INT)
    }).pipe(Effect.provide(fresh({ properties: PROPERTIES }))))

  it.effect.each([0, 1, 4])("v%i: another broker id, a bad id and other resource types are 42 for that resource only", (version) =>
    Effect.gen(function*() {
      const response = yield* describeConfigs(version, [
        resource(BROKER, "8"),
        resource(BROKER, "seven"),
        resource(8, "7"),
        resource(99, "x"),
        resource(BROKER, "7", ["node.id"])
      ])
      assert.deepStrictEqual(response.results.map((r) => [r.resourceType, r.resourceName, r.errorCode, r.configs.length]), [
        [BROKER, "8", 42, 0],
        [BROKER, "seven", 42, 0],
        [8, "7", 42, 0],
        [99, "x", 42, 0],
        [BROKER, "7", 0, 1]
      ])
      assert.match(response.results[0]!.errorMessage!, /unexpected broker id 8/)
      assert.match(response.results[1]!.errorMessage!, /must be an integer/)
      assert.match(response.results[3]!.errorMessage!, /unsupported resource type 99/)
    }).pipe(Effect.provide(fresh({ properties: PROPERTIES }))))
})

// ---------------------------------------------------------------------------------------------------------
// DescribeCluster

describe("DescribeCluster", () => {
  it.effect.each([0, 1])("v%i: this node is the only broker and the controller", (version) =>
    Effect.gen(function*() {
      const metadata = yield* ClusterMetadata
      const response = yield* callResponse(DescribeCluster.make, version, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1
      }, { localHost: "::ffff:10.0.0.5", localPort: 19092 })
      assert.strictEqual(response.errorCode, 0)
      assert.strictEqual(response.errorMessage, null)
      assert.strictEqual(response.clusterId, metadata.clusterId)
      assert.isAbove(response.clusterId.length, 0)
      assert.strictEqual(response.controllerId, 3)
      assert.strictEqual(response.endpointType, 1)
      // A wildcard listener is answered with the address the client reached.
      assert.deepStrictEqual(response.brokers, [{ brokerId: 3, host: "10.0.0.5", port: 19092, rack: null }])
      assert.strictEqual(response.clusterAuthorizedOperations, -2147483648)
    }).pipe(Effect.provide(fresh({ properties: { "node.id": "3" } }))))

  it.effect("advertised.listeners and authorized operations", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(DescribeCluster.make, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 })
      assert.deepStrictEqual(response.brokers, [{ brokerId: 1, host: "kafka.example", port: 29092, rack: null }])
      const operations = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0)
      assert.strictEqual(response.clusterAuthorizedOperations, operations)
    }).pipe(Effect.provide(fresh({ properties: { "advertised.listeners": "PLAINTEXT://kafka.example:29092" } }))))

  it.effect("v1: controllers are not described by a broker (114); an unknown endpoint type is 115", () =>
    Effect.gen(function*() {
      const controllers = yield* callResponse(DescribeCluster.make, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 })
      assert.strictEqual(controllers.errorCode, 114)
      assert.isNotNull(controllers.errorMessage)
      assert.deepStrictEqual(controllers.brokers, [])
      assert.strictEqual(controllers.controllerId, -1)
      const unknown = yield* callResponse(DescribeCluster.make, 1, { includeClusterAuthorizedOperations: false, endpointType: 7 })
      assert.strictEqual(unknown.errorCode, 115)
      assert.match(unknown.errorMessage!, /endpoint type 7/)
    }).pipe(Effect.provide(fresh())))
})

describe("DescribeConfigs listener security keys", () => {
  it.effect("secrets are null and sensitive; other security keys are told as set", () =>
    Effect.gen(function*() {
      const response = yield* describeConfigs(4, [resource(BROKER, "1")], { synonyms: true })
      const configs = byName(response.results[0]!.configs)
      const jaas = configs.get("listener.name.sasl_plaintext.plain.sasl.jaas.config")!
      assert.deepStrictEqual([jaas.value, jaas.isSensitive, jaas.configType], [null, true, ConfigType.PASSWORD])
      assert.deepStrictEqual(jaas.synonyms.map((s) => s.value), [null])
      assert.deepStrictEqual([configs.get("ssl.key.password")!.value, configs.get("ssl.key.password")!.isSensitive], [null, true])
      const mechanisms = configs.get("sasl.enabled.mechanisms")!
      assert.deepStrictEqual([mechanisms.value, mechanisms.isSensitive], ["PLAIN", false])
      assert.notInclude(JSON.stringify(response), "alice-secret")
    }).pipe(Effect.provide(fresh({
      properties: {
        "listeners": "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093",
        "controller.listener.names": "CONTROLLER",
        "sasl.enabled.mechanisms": "PLAIN",
        "ssl.key.password": "key-secret",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config":
          `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`
      }
    }))))
})
