// server.properties parsing and the typed BrokerConfig: Kafka's file format, KRaft-style listeners, environment
// overrides, relative log dirs, defaults, and one clear error naming a bad key.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { environmentOverrides, layer, parseProperties } from "../../src/layers/config/PropertiesConfig.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { describeBrokerConfigs } from "../../src/services/config/BrokerConfigs.ts"
import { ConfigType } from "../../src/services/config/ConfigEntries.ts"

const kraft = `# A KRaft combined-mode node
process.roles=broker,controller
node.id=3
controller.quorum.voters=3@localhost:9093
controller.listener.names=CONTROLLER
listeners=CONTROLLER://:9093,PLAINTEXT://:19092
inter.broker.listener.name=PLAINTEXT
log.dirs=/var/lib/kafka/a,/var/lib/kafka/b
num.network.threads=3
`

const load = (text: string, env: Record<string, string> = {}, path = "/etc/kafka/server.properties") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory("/etc/kafka", { recursive: true })
    yield* fs.writeFileString(path, text)
    return yield* Effect.provide(BrokerConfig, layer(path, env))
  }).pipe(Effect.provide(MemoryFileSystem.layer))

describe("parseProperties", () => {
  it("reads Java properties: separators, comments, continuations, escapes", () => {
    assert.deepStrictEqual(
      parseProperties("a=1\n  b : 2\nc 3\n# d=4\n! e=5\nf=one,\\\n   two\ng=x\\ty\nh\\=k=v\nempty=\n"),
      { a: "1", b: "2", c: "3", f: "one,two", g: "x\ty", "h=k": "v", empty: "" }
    )
  })

  it("maps KAFKA_* environment variables to keys as Kafka's images do", () => {
    assert.deepStrictEqual(
      environmentOverrides({ KAFKA_LOG_DIRS: "/d", KAFKA_NUM_PARTITIONS: "4", KAFKA_LISTENER_SECURITY__PROTOCOL___MAP: "x", PATH: "/bin" }),
      { "log.dirs": "/d", "num.partitions": "4", "listener.security_protocol-map": "x" }
    )
  })
})

describe("BrokerConfig", () => {
  it.effect("serves the first listener that is not a controller listener, and takes the first log dir", () =>
    Effect.gen(function*() {
      const config = yield* load(kraft)
      assert.strictEqual(config.nodeId, 3)
      assert.deepStrictEqual(config.listener, { name: "PLAINTEXT", host: "", port: 19092 })
      assert.isUndefined(config.advertised)
      assert.strictEqual(config.logDir, "/var/lib/kafka/a")
    }))

  it.effect("uses Kafka's defaults for what the file leaves out", () =>
    Effect.gen(function*() {
      const config = yield* load("log.dirs=/data\n")
      assert.deepStrictEqual(config.listener, { name: "PLAINTEXT", host: "", port: 9092 })
      assert.strictEqual(config.numPartitions, 1)
      assert.strictEqual(config.autoCreateTopics, true)
      assert.strictEqual(config.socketRequestMaxBytes, 104857600)
      assert.strictEqual(config.messageMaxBytes, 1048588)
      assert.strictEqual(config.logSegmentBytes, 1073741824)
      assert.strictEqual(config.logRetentionMs, 168 * 3_600_000)
      assert.strictEqual(config.logRetentionBytes, Infinity)
      assert.strictEqual(config.flushIntervalMessages, Infinity)
      assert.strictEqual(config.flushIntervalMs, Infinity)
    }))

  it.effect("honours advertised.listeners, retention in minutes, and environment overrides", () =>
    Effect.gen(function*() {
      const config = yield* load(
        kraft + "advertised.listeners=PLAINTEXT://broker.example:29092\nlog.retention.minutes=5\n",
        { KAFKA_MESSAGE_MAX_BYTES: "2000", KAFKA_NODE_ID: "7" }
      )
      assert.deepStrictEqual(config.advertised, { name: "PLAINTEXT", host: "broker.example", port: 29092 })
      assert.strictEqual(config.logRetentionMs, 300_000)
      assert.strictEqual(config.messageMaxBytes, 2000)
      assert.strictEqual(config.nodeId, 7)
    }))

  it.effect("reads Long.MAX_VALUE as no limit and trims values as Kafka does", () =>
    Effect.gen(function*() {
      const config = yield* load("log.dirs=/d\nlog.flush.interval.messages=9223372036854775807\nlog.flush.interval.ms=1000 \nnum.partitions = 6 \n")
      assert.strictEqual(config.flushIntervalMessages, Infinity)
      assert.strictEqual(config.flushIntervalMs, 1000)
      assert.strictEqual(config.numPartitions, 6)
    }))

  it.effect("resolves a relative log dir against the properties file's folder", () =>
    Effect.gen(function*() {
      const config = yield* load("log.dirs=../data\n", {}, "/etc/kafka/server.properties")
      assert.strictEqual(config.logDir, "/etc/data")
    }))

  it.effect("fails with one line naming the key of a bad value", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(load("log.dirs=/d\nsocket.request.max.bytes=lots\n"))
      assert.strictEqual(error._tag, "InvalidConfig")
      assert.match(error.message, /socket\.request\.max\.bytes/)
      assert.notInclude(error.message, "\n")
      const fraction = yield* Effect.flip(load("log.dirs=/d\nmessage.max.bytes=1.5\n"))
      assert.strictEqual(fraction.message, "message.max.bytes: expected an integer, got 1.5")
      const listener = yield* Effect.flip(load("log.dirs=/d\nlisteners=localhost:9092\n"))
      assert.match(listener.message, /^listeners: expected NAME:\/\/host:port/)
      const onlyController = yield* Effect.flip(load("log.dirs=/d\nlisteners=CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n"))
      assert.match(onlyController.message, /no listener other than the controller/)
      const missing = yield* Effect.flip(Effect.provide(BrokerConfig, layer("/nowhere.properties", {})).pipe(Effect.provide(MemoryFileSystem.layer)))
      assert.match(missing.message, /cannot read \/nowhere\.properties/)
    }))

  it.effect("storage.url: files when absent, a postgresql:// URL, else one line that does not repeat the URL", () =>
    Effect.gen(function*() {
      const files = yield* load("log.dirs=/d\n")
      assert.strictEqual(files.storageUrl, undefined)
      assert.strictEqual(files.brokerHeartbeatIntervalMs, 2000)
      assert.strictEqual(files.brokerSessionTimeoutMs, 9000)
      const pg = yield* load("log.dirs=/d\nstorage.url=postgresql://kafka:secret@db.example:5433/broker\nbroker.session.timeout.ms=4000\n")
      assert.strictEqual(pg.storageUrl, "postgresql://kafka:secret@db.example:5433/broker")
      assert.strictEqual(pg.brokerSessionTimeoutMs, 4000)
      // DescribeConfigs never shows it: it may carry a password.
      const described = describeBrokerConfigs(pg).find((e) => e.name === "storage.url")!
      assert.strictEqual(described.value, null)
      assert.strictEqual(described.type, ConfigType.PASSWORD)
      assert.isTrue(described.synonyms.every((y) => y.value === null))
      for (const bad of ["mysql://kafka:secret@db/broker", "postgresql:///broker", "not a url secret"]) {
        const error = yield* Effect.flip(load(`log.dirs=/d\nstorage.url=${bad}\n`))
        assert.strictEqual(error.message, "storage.url: expected postgresql://user:password@host:port/database")
      }
      const beats = yield* Effect.flip(load("log.dirs=/d\nbroker.heartbeat.interval.ms=9000\n"))
      assert.match(beats.message, /^broker\.heartbeat\.interval\.ms: must be less than broker\.session\.timeout\.ms/)
    }))
})
