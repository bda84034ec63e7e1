// confluent-kafka 1.7.0 on librdkafka 2.0.2 (Debian python3-confluent-kafka) against a broker started in this
// process: topics created and administered through AdminClient, produce with acks=1, acks=all and idempotence
// (with a connection lost after the broker wrote a Produce), consume by assignment from the beginning (a
// group.id is required by the library but no group is joined and nothing is committed), across a restart,
// with gzip, snappy and zstd. The client side is test/e2e/python/confluent_kafka_client.py; it counts the
// requests librdkafka logs as sent (Produce v7, Fetch v11, ListOffsets v2, Metadata v4, ApiVersions v3,
// CreateTopics v4, DeleteTopics v1, CreatePartitions v0, DescribeConfigs v1, InitProducerId v4).
import { requireClient } from "../support/Installed.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { COMPRESSION_MASK } from "../../src/protocol/RecordBatch.ts"
import { supportedApis } from "../../src/services/api/Apis.ts"
import { startFaultProxy, type FaultProxy } from "../support/FaultProxy.ts"
import {
  batchesOnDisk,
  compare,
  type Consumed,
  offsetsByPartition,
  killScripts,
  type Placement,
  pythonHas,
  range,
  recordSet,
  type RecordSpec,
  runScript
} from "../support/PythonClients.ts"

const installed = pythonHas("confluent_kafka")
const SCRIPT = "confluent_kafka_client.py"
const TWO_MIB = String(2 * 1024 * 1024)

describe("confluent-kafka", () => {
  let broker: RunningBroker | undefined
  const run = (command: string, params: unknown = {}, stdin = "", bootstrap = broker!.bootstrap) =>
    runScript(SCRIPT, bootstrap, command, params, stdin)

  beforeAll(async () => {
    if (installed) broker = await startBroker({ storage: "disk" })
  })
  afterAll(async () => {
    killScripts()
    await broker?.close()
  })

  requireClient("confluent-kafka", installed, "apt-get install -y python3-confluent-kafka")

  const produce = async (
    topic: string,
    acks: "1" | "all",
    records: ReadonlyArray<RecordSpec>,
    config: Record<string, unknown> = {},
    bootstrap?: string
  ) => {
    const { lines, apis } = await run("produce", { topic, acks, config }, JSON.stringify(records), bootstrap)
    return { records, placements: lines as Array<Placement>, apis }
  }

  const consume = async (topic: string, bootstrap?: string) => {
    const { lines, apis } = await run("consume", { topic }, "", bootstrap)
    const [ends, ...records] = lines
    return { endOffsets: ends.end_offsets as Record<string, number>, records: records as Array<Consumed>, apis }
  }

  it.runIf(installed)("creates a topic, produces with acks=1 and acks=all, and after a restart reads every record back by assignment", async () => {
    const topic = "confluent-records"
    const created = await run("create-topic", { topic, partitions: 4, configs: { "max.message.bytes": TWO_MIB } })
    expect(created.lines).toEqual([{ topic, error: null }])
    expect(created.apis).toHaveProperty("CreateTopics_v4")

    const one = await produce(topic, "1", recordSet("acks1", { nullHeaderValue: true }))
    const all = await produce(topic, "all", recordSet("acksall", { nullHeaderValue: true }))
    expect(one.apis).toHaveProperty("Produce_v7")
    const total = one.records.length + all.records.length
    expect(one.placements.length + all.placements.length).toBe(total)

    const { logDir, port } = broker!
    await broker!.close()
    broker = await startBroker({ storage: "disk", logDir, port })

    const read = await consume(topic)
    const { want, got } = compare([one, all], read.records)
    expect(got).toEqual(want)
    const offsets = offsetsByPartition(read.records)
    expect(Object.keys(offsets).length).toBeGreaterThan(1)
    for (const [partition, seen] of Object.entries(offsets)) {
      expect(seen).toEqual(range(seen.length))
      expect(read.endOffsets[partition]).toBe(seen.length)
    }
    expect(Object.values(read.endOffsets).reduce((a, b) => a + b, 0)).toBe(total)
    expect(read.apis).toMatchObject({ Fetch_v11: expect.any(Number), ListOffsets_v2: expect.any(Number) })
    // No group was joined and nothing committed.
    expect(Object.keys(read.apis).filter((api) => /JoinGroup|SyncGroup|OffsetCommit/.test(api))).toEqual([])

    // The topic config survived too, and the next record goes after the ones already there.
    const configs = await run("describe-configs", { type: "topic", name: topic })
    expect(configs.lines[0].configs["max.message.bytes"]).toBe(TWO_MIB)
    const next = await produce(topic, "all", [{ key: "after-restart", value: "next", partition: 0 }])
    expect(next.placements).toEqual([{ index: 0, partition: 0, offset: read.endOffsets["0"] }])
  }, 60_000)

  describe("an idempotent producer whose connection is lost after the broker wrote its Produce", () => {
    let proxy: FaultProxy | undefined
    let behind: RunningBroker | undefined
    afterAll(async () => {
      await behind?.close()
      await proxy?.close()
    })

    it.runIf(installed)("retries, and every record is stored exactly once", async () => {
      proxy = await startFaultProxy(() => behind!.port)
      behind = await startBroker({
        storage: "disk",
        config: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${proxy.port}` }
      })
      const viaProxy = `127.0.0.1:${proxy.port}`
      const topic = "confluent-idempotent"
      await run("create-topic", { topic, partitions: 3 }, "", viaProxy)

      const records = Array.from({ length: 300 }, (_, i) => ({ key: `key-${i}`, value: `idempotent ${i}` }))
      proxy.dropNextResponse(0) // the first Produce is written, its answer never arrives
      const produced = await produce(topic, "all", records, {
        "enable.idempotence": true,
        "batch.num.messages": 25
      }, viaProxy)
      expect(proxy.dropped()).toBe(1)
      expect(produced.apis).toHaveProperty("InitProducerId_v4")
      expect(produced.placements).toHaveLength(records.length)

      const read = await consume(topic, viaProxy)
      const values = read.records.map((r) => r.value)
      expect(values).toHaveLength(records.length)
      expect(new Set(values).size).toBe(records.length)
      // Each record where its delivery report said, and nothing else in the log.
      const { want, got } = compare([produced], read.records)
      expect(got).toEqual(want)
      for (const seen of Object.values(offsetsByPartition(read.records))) expect(seen).toEqual(range(seen.length))
      // Stored as one producer's batches (a producer id and sequences), the retries not written again:
      // librdkafka sends one batch per Produce request, and it sent more requests than there are batches.
      const batches = range(3).map((partition) => batchesOnDisk(behind!.logDir, topic, partition))
      for (const [partition, stored] of batches.entries()) {
        expect(stored.every((b) => b.producerId >= 0 && b.baseSequence >= 0)).toBe(true)
        expect(stored.reduce((n, b) => n + b.recordCount, 0)).toBe(offsetsByPartition(read.records)[partition]?.length ?? 0)
      }
      expect(produced.apis.Produce_v7).toBeGreaterThan(batches.flat().length)
    }, 60_000)
  })

  // librdkafka 2.0 turns lz4 on only for brokers that serve FindCoordinator v0 (it takes that as the sign of
  // Kafka 0.8.2+): without the group APIs, asked for lz4, it sends uncompressed batches. So lz4 is checked
  // only once the broker advertises FindCoordinator v0.
  const lz4 = supportedApis.some((api) => api.apiKey === 10 && api.minVersion === 0)
  const codecs: Record<string, number> = { gzip: 1, snappy: 2, zstd: 4, ...(lz4 ? { lz4: 3 } : {}) }
  it.runIf(installed)(`stores ${Object.keys(codecs).join(", ")} batches as sent and serves them back`, async () => {
    for (const [codec, bits] of Object.entries(codecs)) {
      const topic = `confluent-${codec}`
      await run("create-topic", { topic, partitions: 1, configs: { "max.message.bytes": TWO_MIB } })
      const records = recordSet(codec, { nullHeaderValue: true })
      // The client sends a batch uncompressed when compressing does not make it smaller (a lone tiny
      // record): a long linger keeps the small records in one batch (flush() sends it at once).
      const produced = await produce(topic, "all", records, { "compression.type": codec, "linger.ms": 1000 })
      const read = await consume(topic)
      const { want, got } = compare([produced], read.records)
      expect(got).toEqual(want)
      expect(read.records.map((r) => r.offset).sort((a, b) => a - b)).toEqual(range(records.length))
      const onDisk = batchesOnDisk(broker!.logDir, topic, 0)
      const layout = JSON.stringify(onDisk.map((b) => ({ records: b.recordCount, codec: b.attributes & COMPRESSION_MASK })))
      expect(new Set(onDisk.map((b) => b.attributes & COMPRESSION_MASK)), layout).toEqual(new Set([bits]))
      expect(onDisk.reduce((n, b) => n + b.recordCount, 0)).toBe(records.length)
    }
  }, 60_000)

  it.runIf(installed)("lists topics, describes and alters topic and broker configs, adds partitions and deletes a topic", async () => {
    const topic = "confluent-admin"
    await run("create-topic", { topic, partitions: 2, configs: { "max.message.bytes": TWO_MIB, "retention.ms": "3600000" } })
    const exists = await run("create-topic", { topic, partitions: 2 })
    expect(exists.lines).toEqual([{ topic, error: "TOPIC_ALREADY_EXISTS", error_code: 36 }])

    const listed = await run("list-topics")
    expect(listed.lines[0]).toMatchObject({ brokers: [`1@${broker!.bootstrap}`], controller_id: 1 })
    expect(listed.lines[0].topics).toMatchObject({ [topic]: 2 })

    const topicConfigs = await run("describe-configs", { type: "topic", name: topic })
    expect(topicConfigs.lines).toHaveLength(1)
    expect(topicConfigs.lines[0]).toMatchObject({ resource_type: "TOPIC", resource_name: topic, error: null })
    expect(topicConfigs.lines[0].configs).toMatchObject({
      "max.message.bytes": TWO_MIB,
      "retention.ms": "3600000",
      "cleanup.policy": "delete"
    })
    expect(topicConfigs.apis).toHaveProperty("DescribeConfigs_v1")
    const unknown = await run("describe-configs", { type: "topic", name: "no-such-topic" })
    expect(unknown.lines[0]).toMatchObject({ error: "UNKNOWN_TOPIC_OR_PART", error_code: 3 })

    const brokerConfigs = await run("describe-configs", { type: "broker", name: "1" })
    expect(brokerConfigs.lines[0]).toMatchObject({ resource_type: "BROKER", resource_name: "1", error: null })
    expect(brokerConfigs.lines[0].configs).toMatchObject({ "node.id": "1", "message.max.bytes": "1048588" })
    expect(brokerConfigs.lines[0].read_only).toContain("node.id")

    // librdkafka's AlterConfigs: a topic's configs replaced, a dynamic config of this broker set (its admin
    // client takes no empty broker name, so not the cluster default), a static key refused.
    const altered = await run("alter-configs", { type: "topic", name: topic, configs: { "retention.ms": "7200000" } })
    expect(altered.lines).toEqual([{ resource_type: "TOPIC", resource_name: topic, error: null }])
    expect((await run("describe-configs", { type: "topic", name: topic })).lines[0].configs).toMatchObject({ "retention.ms": "7200000", "max.message.bytes": "1048588" })
    const dynamic = await run("alter-configs", { type: "broker", name: "1", configs: { "log.retention.ms": "3600000" } })
    expect(dynamic.lines[0]).toMatchObject({ resource_type: "BROKER", error: null })
    const described = await run("describe-configs", { type: "broker", name: "1" })
    expect(described.lines[0].configs).toMatchObject({ "log.retention.ms": "3600000" })
    expect(described.lines[0].sources["log.retention.ms"]).toBe(2) // DYNAMIC_BROKER_CONFIG
    const fixed = await run("alter-configs", { type: "broker", name: "1", configs: { "node.id": "2" } })
    expect(fixed.lines[0]).toMatchObject({ error: "INVALID_CONFIG", error_code: 40 })
    await run("alter-configs", { type: "broker", name: "1", configs: {} })

    const grown = await run("create-partitions", { topic, count: 5 })
    expect(grown.lines).toEqual([{ topic, error: null }])
    expect((await run("list-topics")).lines[0].topics).toMatchObject({ [topic]: 5 })
    const shrink = await run("create-partitions", { topic, count: 3 })
    expect(shrink.lines).toEqual([{ topic, error: "INVALID_PARTITIONS", error_code: 37 }])

    const deleted = await run("delete-topic", { topic })
    expect(deleted.lines).toEqual([{ topic, error: null }])
    expect((await run("list-topics")).lines[0].topics).not.toHaveProperty(topic)
    const again = await run("delete-topic", { topic })
    expect(again.lines).toEqual([{ topic, error: "UNKNOWN_TOPIC_OR_PART", error_code: 3 }])
  }, 60_000)
})
