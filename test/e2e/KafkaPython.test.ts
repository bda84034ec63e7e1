// kafka-python 2.0.2 (Debian python3-kafka) against a broker started in this process: topic creation and
// administration through KafkaAdminClient, produce with acks=1 and acks=all, consume by assignment from the
// beginning (no consumer group), across a restart, with gzip. The client side is test/e2e/python/
// kafka_python_client.py. kafka-python guesses the broker's release from the ApiVersions v0 ranges (2.5 here:
// DescribeAcls v2 is served; nothing it does changes after 2.1) and then uses fixed versions: Metadata v0/v1,
// Produce v7, Fetch v4, ListOffsets v1; its admin client negotiates (Metadata v5, CreateTopics v3, DeleteTopics v3,
// CreatePartitions v1, DescribeConfigs v2).
import { requireClient } from "../support/Installed.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { COMPRESSION_MASK } from "../../src/protocol/RecordBatch.ts"
import {
  batchesOnDisk,
  compare,
  type Consumed,
  offsetsByPartition,
  killScripts,
  type Placement,
  pythonEval,
  pythonHas,
  range,
  recordSet,
  type RecordSpec,
  runScript
} from "../support/PythonClients.ts"

const installed = pythonHas("kafka")
const SCRIPT = "kafka_python_client.py"
const TWO_MIB = String(2 * 1024 * 1024)

describe("kafka-python", () => {
  let broker: RunningBroker | undefined
  const run = (command: string, params: unknown = {}, stdin = "") =>
    runScript(SCRIPT, broker!.bootstrap, command, params, stdin)

  beforeAll(async () => {
    if (installed) broker = await startBroker({ storage: "disk" })
  })
  afterAll(async () => {
    killScripts()
    await broker?.close()
  })

  requireClient("kafka-python", installed, "apt-get install -y python3-kafka")

  const produce = async (topic: string, acks: "1" | "all", records: ReadonlyArray<RecordSpec>, extra = {}) => {
    const { lines, apis } = await run("produce", { topic, acks, ...extra }, JSON.stringify(records))
    return { records, placements: lines as Array<Placement>, apis }
  }

  const consume = async (topic: string, params = {}) => {
    const { lines, apis } = await run("consume", { topic, ...params })
    const [ends, ...records] = lines
    return { endOffsets: ends.end_offsets as Record<string, number>, records: records as Array<Consumed>, apis }
  }

  it.runIf(installed)("creates a topic, produces with acks=1 and acks=all, and after a restart reads every record back by assignment, read_committed too", async () => {
    const topic = "python-records"
    const created = await run("create-topic", { topic, partitions: 4, configs: { "max.message.bytes": TWO_MIB } })
    expect(created.lines).toEqual([{ topic, error_code: 0, version: 3 }])

    // kafka-python cannot send a null header value (its producer asserts bytes), so none here.
    const one = await produce(topic, "1", recordSet("acks1", { nullHeaderValue: false }))
    const all = await produce(topic, "all", recordSet("acksall", { nullHeaderValue: false }))
    expect(one.apis).toHaveProperty("ProduceRequest_v7")
    const total = one.records.length + all.records.length
    expect(one.placements.length + all.placements.length).toBe(total)

    // Restart on the same log dir and port: the topic, its records and offsets are still there.
    const { logDir, port } = broker!
    await broker!.close()
    broker = await startBroker({ storage: "disk", logDir, port })

    const read = await consume(topic)
    const { want, got } = compare([one, all], read.records)
    expect(got).toEqual(want)
    const offsets = offsetsByPartition(read.records)
    expect(Object.keys(offsets).length).toBeGreaterThan(1) // keys and null keys spread over partitions
    for (const [partition, seen] of Object.entries(offsets)) {
      expect(seen).toEqual(range(seen.length))
      expect(read.endOffsets[partition]).toBe(seen.length)
    }
    expect(Object.values(read.endOffsets).reduce((a, b) => a + b, 0)).toBe(total)
    expect(read.apis).toMatchObject({ FetchRequest_v4: expect.any(Number), OffsetRequest_v1: expect.any(Number) })

    // assign() + seek_to_beginning() + end_offsets() and beginning_offsets() (ListOffsets v1).
    const bounds = await run("end-offsets", { topic })
    expect(bounds.lines[0]).toEqual({
      beginning_offsets: Object.fromEntries(Object.keys(read.endOffsets).map((p) => [p, 0])),
      end_offsets: read.endOffsets
    })

    // kafka-python 2.0.2 has no isolation_level setting; its fetcher sends the level it keeps (read_uncommitted
    // unless changed) in every Fetch v4. Read committed, the broker's last stable offset is the high
    // watermark (no transactions), so everything is returned.
    const setting = await run("isolation-level-setting")
    expect(setting.lines[0]).toMatchObject({ isolation_level: "rejected" })
    const committed = await consume(topic, { isolation: "read_committed" })
    expect(compare([one, all], committed.records).got).toEqual(want)

    // The next record goes after the ones already there.
    const next = await produce(topic, "1", [{ key: "after-restart", value: "next", partition: 0 }])
    expect(next.placements).toEqual([{ index: 0, partition: 0, offset: read.endOffsets["0"] }])
  }, 60_000)

  // Which codecs kafka-python can write depends on optional Python modules; gzip needs none.
  // (Debian: python3-snappy, python3-lz4, python3-zstandard; not installed by CI, so gzip alone there.)
  const optional = installed
    ? pythonEval("kafka.codec", "' '.join(c for c in ('snappy', 'lz4', 'zstd') if getattr(kafka.codec, 'has_' + c)())")
    : ""
  const bits: Record<string, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }
  const codecs = ["gzip", ...optional.split(" ").filter((c) => c !== "")].map((c) => [c, bits[c]!] as const)

  it.runIf(installed)(`stores compressed batches as sent and serves them back (${codecs.map(([c]) => c).join(", ")})`, async () => {
    for (const [codec, codecBits] of codecs) {
      const topic = `python-${codec}`
      await run("create-topic", { topic, partitions: 1, configs: { "max.message.bytes": TWO_MIB } })
      const records = recordSet(codec, { nullHeaderValue: false }).map((r) => ({ ...r, partition: 0 }))
      // The client sends a batch uncompressed when compressing does not make it smaller (a lone tiny
      // record): a long linger keeps the small records in one batch (flush() sends it at once).
      const produced = await produce(topic, "all", records, { compression: codec, linger_ms: 1000 })
      const read = await consume(topic)
      expect(compare([produced], read.records).got).toEqual(compare([produced], read.records).want)
      expect(read.records.map((r) => r.offset)).toEqual(range(records.length))
      const onDisk = batchesOnDisk(broker!.logDir, topic, 0)
      const layout = JSON.stringify(onDisk.map((b) => ({ records: b.recordCount, codec: b.attributes & COMPRESSION_MASK })))
      expect(new Set(onDisk.map((b) => b.attributes & COMPRESSION_MASK)), layout).toEqual(new Set([codecBits]))
      expect(onDisk.reduce((n, b) => n + b.recordCount, 0)).toBe(records.length)
    }
  }, 60_000)

  it.runIf(installed)("lists topics, describes and alters topic and broker configs, adds partitions and deletes a topic", async () => {
    const topic = "python-admin"
    await run("create-topic", { topic, partitions: 2, configs: { "max.message.bytes": TWO_MIB, "retention.ms": "3600000" } })

    const listed = await run("list-topics")
    expect(listed.lines[0].topics).toContain(topic)
    expect(listed.lines[1].described).toContainEqual({ topic, error_code: 0, partitions: 2 })

    const topicConfigs = await run("describe-configs", { type: "topic", name: topic })
    expect(topicConfigs.lines).toHaveLength(1)
    expect(topicConfigs.lines[0]).toMatchObject({ version: 2, error_code: 0, resource_type: 2, resource_name: topic })
    expect(topicConfigs.lines[0].configs).toMatchObject({
      "max.message.bytes": TWO_MIB,
      "retention.ms": "3600000",
      "cleanup.policy": "delete"
    })
    const some = await run("describe-configs", { type: "topic", name: topic, keys: { "retention.ms": null } })
    expect(some.lines[0].configs).toEqual({ "retention.ms": "3600000" })
    const unknown = await run("describe-configs", { type: "topic", name: "no-such-topic" })
    expect(unknown.lines[0]).toMatchObject({ error_code: 3 })

    const brokerConfigs = await run("describe-configs", { type: "broker", name: "1" })
    expect(brokerConfigs.lines[0]).toMatchObject({ error_code: 0, resource_type: 4, resource_name: "1" })
    expect(brokerConfigs.lines[0].configs).toMatchObject({ "node.id": "1", "message.max.bytes": "1048588" })
    expect(brokerConfigs.lines[0].read_only).toContain("node.id")

    // AlterConfigs: a topic's configs replaced, a dynamic broker config set, a static one refused.
    const altered = await run("alter-configs", { type: "topic", name: topic, configs: { "retention.ms": "7200000", "segment.ms": "600000" } })
    expect(altered.lines).toEqual([{ version: 1, error_code: 0, error_message: null, resource_type: 2, resource_name: topic }])
    const after = await run("describe-configs", { type: "topic", name: topic })
    expect(after.lines[0].configs).toMatchObject({ "retention.ms": "7200000", "segment.ms": "600000", "max.message.bytes": "1048588" })
    const dynamic = await run("alter-configs", { type: "broker", name: "1", configs: { "log.retention.ms": "3600000" } })
    expect(dynamic.lines[0]).toMatchObject({ error_code: 0, resource_type: 4 })
    expect((await run("describe-configs", { type: "broker", name: "1" })).lines[0].configs).toMatchObject({ "log.retention.ms": "3600000" })
    const fixed = await run("alter-configs", { type: "broker", name: "1", configs: { "node.id": "2" } })
    expect(fixed.lines[0]).toMatchObject({ error_code: 40, error_message: "Cannot update these configs dynamically: node.id" })
    await run("alter-configs", { type: "broker", name: "1", configs: {} })

    const grown = await run("create-partitions", { topic, count: 5 })
    expect(grown.lines).toEqual([{ topic, error_code: 0, version: 1 }])
    const bounds = await run("end-offsets", { topic })
    expect(bounds.lines[0].end_offsets).toEqual({ 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 })
    const shrink = await run("create-partitions", { topic, count: 3 })
    expect(shrink.lines).toEqual([{ topic, error_code: 37, error: "InvalidPartitionsError" }])

    const deleted = await run("delete-topic", { topic })
    expect(deleted.lines).toEqual([{ topic, error_code: 0, version: 3 }])
    expect((await run("list-topics")).lines[0].topics).not.toContain(topic)
    const again = await run("delete-topic", { topic })
    expect(again.lines).toEqual([{ topic, error_code: 3, error: "UnknownTopicOrPartitionError" }])
  }, 60_000)
})
