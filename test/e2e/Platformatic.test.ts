// @platformatic/kafka 2.12 against the broker, in process, with its data on disk. Topics are created and
// inspected with its Admin; records are produced with acks=1, acks=all, idempotence and every compression codec
// it has. Its Consumer's stream (`consume`) always joins a consumer group, so to read by partition assignment
// records are read back with the Consumer's own `fetch` by partition (no group), decoded by the client; a
// consumer group also reads from the beginning and commits. Restarts between producing and reading show that
// topics, data, log end offsets and committed offsets survive; a FaultProxy drops a connection after the broker
// has written an idempotent Produce, and the retry is stored once.
import {
  Admin,
  CompressionAlgorithms,
  ConfigResourceTypes,
  Connection,
  Consumer,
  describeClusterV1,
  findErrorBy,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer
} from "@platformatic/kafka"
import type { CompressionAlgorithmValue, ProducerOptions } from "@platformatic/kafka"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { supportedApis } from "../../src/services/api/Apis.ts"
import { type BatchHeader, COMPRESSION_MASK, scanBatches } from "../../src/protocol/RecordBatch.ts"
import { startApiRecorder, type ApiRecorder } from "../support/ApiRecorder.ts"
import { startFaultProxy } from "../support/FaultProxy.ts"
import { fetchAll, type FetchedRecord } from "../support/PlatformaticFetch.ts"

const MiB = 1024 * 1024
const PARTITIONS = 3
const CLIENT_ID = "platformatic-e2e"

let logDir: string
let broker: RunningBroker
let recorder: ApiRecorder
let admin: Admin
const bootstrap = () => [`127.0.0.1:${recorder.port}`]

const start = () =>
  startBroker({
    storage: "disk",
    logDir,
    // Quiet: one test provokes a rejected Produce, which the broker logs as a warning.
    logLevel: "Error",
    config: {
      // Clients are told to come back through the recorder, so every request they send is seen there.
      "advertised.listeners": `PLAINTEXT://127.0.0.1:${recorder.port}`,
      // A lone consumer need not wait 3 s for others before its group's first generation.
      "group.initial.rebalance.delay.ms": "0"
    }
  })

// Clients only know the recorder's address, which stays put; the broker behind it may come back on any port, so
// a port taken by someone else in between cannot fail the restart.
const restart = async () => {
  await broker.close()
  broker = await start()
}

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "platformatic-e2e-"))
  recorder = await startApiRecorder(() => broker.port)
  broker = await start()
  admin = new Admin({ clientId: CLIENT_ID, bootstrapBrokers: bootstrap(), retries: 5, retryDelay: 50 })
})

afterAll(async () => {
  await admin?.close()
  await broker?.close()
  await recorder?.close()
  rmSync(logDir, { recursive: true, force: true })
})

const createTopic = (topic: string, partitions = PARTITIONS) =>
  admin.createTopics({
    topics: [topic],
    partitions,
    replicas: 1,
    configs: [{ name: "max.message.bytes", value: String(2 * MiB) }]
  })

const withProducer = async <A>(
  options: Partial<ProducerOptions<Buffer, Buffer, Buffer, Buffer>>,
  f: (producer: Producer) => Promise<A>
): Promise<A> => {
  const producer = new Producer({
    clientId: CLIENT_ID,
    bootstrapBrokers: bootstrap(),
    retries: 5,
    retryDelay: 50,
    ...options
  })
  try {
    return await f(producer)
  } finally {
    await producer.close()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading back by partition, without a group

/** Every record of `topic`, read by partition with the Consumer's fetch (see PlatformaticFetch.ts). */
const readAll = (topic: string, bootstrapBrokers = bootstrap()) => fetchAll(bootstrapBrokers, topic, CLIENT_ID)

// ---------------------------------------------------------------------------------------------------------
// What was produced

interface ToSend {
  readonly partition: number
  readonly key?: string
  readonly value: Buffer | string
  /** In order; a key may repeat. */
  readonly headers?: ReadonlyArray<readonly [string, string]>
}

interface Expected {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: Buffer
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/**
 * Sends `messages` (each with an explicit partition) in one call and works out each one's offset: the client
 * sends one batch per partition in message order and reports each batch's base offset.
 */
const sendAndExpect = async (
  producer: Producer,
  topic: string,
  messages: ReadonlyArray<ToSend>,
  options: { readonly acks?: number; readonly compression?: CompressionAlgorithmValue } = {}
): Promise<Array<Expected>> => {
  const result = await producer.send({
    ...options,
    messages: messages.map((m) => ({
      topic,
      partition: m.partition,
      key: m.key === undefined ? undefined : Buffer.from(m.key),
      value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value),
      // Header keys are Buffers: two distinct Buffer objects with the same bytes are two entries of the Map,
      // which is how this client sends a repeated header key.
      headers: new Map((m.headers ?? []).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
    }))
  })
  const base = new Map((result.offsets ?? []).filter((o) => o.topic === topic).map((o) => [o.partition, Number(o.offset)]))
  const seen = new Map<number, number>()
  return messages.map((m) => {
    const index = seen.get(m.partition) ?? 0
    seen.set(m.partition, index + 1)
    expect(base.has(m.partition), `an offset for partition ${m.partition}`).toBe(true)
    return {
      partition: m.partition,
      offset: base.get(m.partition)! + index,
      key: m.key ?? null,
      value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value),
      headers: m.headers ?? []
    }
  })
}

const expectSameRecords = (consumed: ReadonlyArray<FetchedRecord>, expected: ReadonlyArray<Expected>) => {
  const order = (a: { partition: number; offset: number }, b: { partition: number; offset: number }) =>
    a.partition - b.partition || a.offset - b.offset
  const got = [...consumed].sort(order)
  const want = [...expected].sort(order)
  expect(got.map((r) => `${r.partition}@${r.offset}`)).toEqual(want.map((r) => `${r.partition}@${r.offset}`))
  got.forEach((r, i) => {
    const w = want[i]!
    expect(r.key === null ? null : r.key.toString()).toBe(w.key)
    // Compare values by equality (not by printing) so the 1 MiB value does not flood a failure message.
    expect(r.value !== null && r.value.equals(w.value), `value of ${w.partition}@${w.offset}`).toBe(true)
    expect(r.headers).toEqual(w.headers)
  })
}

/** The headers of the batches stored for a partition, read from its log file (one segment here). */
const batchesOf = (topic: string, partition: number) => {
  const headers: Array<BatchHeader> = []
  const { problem } = scanBatches(
    readFileSync(join(logDir, `${topic}-${partition}`, "00000000000000000000.log")),
    (h) => headers.push(h)
  )
  expect(problem).toBeUndefined()
  return headers
}

// ---------------------------------------------------------------------------------------------------------

describe("@platformatic/kafka 2.12", () => {
  test("creates a topic with a config through Admin, and describes it", async () => {
    const topic = "plt-admin-create"
    const [created] = await createTopic(topic)
    expect(created).toMatchObject({ name: topic, partitions: PARTITIONS, replicas: 1 })
    expect(created!.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(created!.configuration["max.message.bytes"]).toBe(String(2 * MiB))
    // The same name again is refused (TOPIC_ALREADY_EXISTS, 36).
    await expect(createTopic(topic)).rejects.toThrow()

    expect(await admin.listTopics()).toContain(topic)
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const described = metadata.topics.get(topic)!
    expect(described.id).toBe(created!.id)
    expect(described.partitionsCount).toBe(PARTITIONS)
    for (const p of described.partitions) {
      expect(p.leader).toBe(1)
      expect(p.replicas).toEqual([1])
      expect(p.isr).toEqual([1])
    }

    const [config] = await admin.describeConfigs({
      resources: [{
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: topic,
        configurationKeys: ["max.message.bytes", "cleanup.policy"]
      }]
    })
    expect(config!.resourceName).toBe(topic)
    const byName = new Map(config!.configs.map((c) => [c.name, c]))
    expect([...byName.keys()].sort()).toEqual(["cleanup.policy", "max.message.bytes"])
    expect(byName.get("max.message.bytes")?.value).toBe(String(2 * MiB))
    expect(byName.get("max.message.bytes")?.configSource).toBe(1) // TOPIC_CONFIG
    expect(byName.get("cleanup.policy")?.value).toBe("delete")
    expect(byName.get("cleanup.policy")?.configSource).toBe(5) // DEFAULT_CONFIG

    const [all] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }],
      includeDocumentation: true
    })
    expect(all!.configs.length).toBeGreaterThan(20)
  })

  test("produces with acks=1 and acks=all (keys, null keys, headers, 1 MiB), survives a restart, reads all back", async () => {
    const topic = "plt-produce"
    await createTopic(topic)
    const big = Buffer.alloc(MiB, 7)
    big.write("the one MiB value")
    const expected: Array<Expected> = []
    await withProducer({}, async (producer) => {
      for (const acks of [ProduceAcks.LEADER, ProduceAcks.ALL]) {
        expected.push(...await sendAndExpect(producer, topic, [
          // Keyed records on every partition.
          ...Array.from({ length: 9 }, (_, i) => ({
            partition: i % PARTITIONS,
            key: `key-${acks}-${i}`,
            value: `value-${acks}-${i}`
          })),
          // Null keys.
          { partition: 0, value: `null-key-${acks}-a` },
          { partition: 2, value: `null-key-${acks}-b` },
          // Headers: several, one key repeated.
          {
            partition: 1,
            key: `with-headers-${acks}`,
            value: `headers-${acks}`,
            headers: [["trace-id", `t-${acks}`], ["tag", "red"], ["tag", "green"], ["empty", ""], ["tag", "blue"]]
          },
          { partition: 2, value: `null-key-with-header-${acks}`, headers: [["source", "platformatic"]] }
        ], { acks }))
      }
      // One 1 MiB value, above the broker's default message.max.bytes but within the topic's max.message.bytes.
      expected.push(...await sendAndExpect(producer, topic, [{ partition: 1, key: "big", value: big }], { acks: -1 }))
    })
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = expected.filter((e) => e.partition === p).map((e) => e.offset).sort((a, b) => a - b)
      expect(offsets).toEqual(offsets.map((_, i) => i))
    }

    await restart()

    expect(await admin.listTopics()).toContain(topic)
    const listed = await admin.listOffsets({
      topics: [{ name: topic, partitions: [0, 1, 2].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }]
    })
    expect(listed[0]!.partitions.map((p) => [p.partitionIndex, Number(p.offset)]).sort((a, b) => a[0]! - b[0]!))
      .toEqual([0, 1, 2].map((p) => [p, expected.filter((e) => e.partition === p).length]))
    expectSameRecords(await readAll(topic), expected)

    // Producing again continues each partition's offsets where they were.
    const after = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, [0, 1, 2].map((partition) => ({ partition, value: `after restart ${partition}` }))))
    expect(after.map((e) => e.offset)).toEqual([0, 1, 2].map((p) => expected.filter((e) => e.partition === p).length))
  })

  test("a value over the topic's max.message.bytes is refused with MESSAGE_TOO_LARGE", async () => {
    const topic = "plt-too-large"
    // No topic config: the broker's message.max.bytes (1048588) applies, less than a 1 MiB value plus overhead.
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
    const error = await withProducer({}, (producer) =>
      producer.send({ messages: [{ topic, value: Buffer.alloc(MiB) }] }).then(() => undefined, (e: unknown) => e))
    expect(findErrorBy(error as Error, "apiId", "MESSAGE_TOO_LARGE")?.apiCode).toBe(10)
    const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] })
    expect(listed!.partitions[0]!.offset).toBe(0n)
  })

  test("an idempotent producer gets a producer id and its batches carry it with sequences", async () => {
    const topic = "plt-idempotent"
    await createTopic(topic)
    const expected = await withProducer({ idempotent: true, acks: ProduceAcks.ALL }, async (producer) => [
      ...await sendAndExpect(producer, topic, [
        { partition: 0, key: "a", value: "1" },
        { partition: 0, key: "b", value: "2" },
        { partition: 1, key: "c", value: "3" }
      ]),
      ...await sendAndExpect(producer, topic, [{ partition: 0, key: "d", value: "4" }])
    ])
    expectSameRecords(await readAll(topic), expected)
    const batches = batchesOf(topic, 0)
    expect(batches).toHaveLength(2)
    expect(batches[0]!.producerId).toBeGreaterThanOrEqual(0)
    expect(batches[1]!.producerId).toBe(batches[0]!.producerId)
    expect(batches.map((b) => [b.baseSequence, b.recordCount])).toEqual([[0, 2], [2, 1]])
  })

  test("an idempotent Produce whose response is lost is retried and stored once", async () => {
    // Its own broker behind a FaultProxy, so that every connection the client opens goes through the proxy.
    let faulty: RunningBroker | undefined
    const proxy = await startFaultProxy(() => faulty!.port)
    try {
      faulty = await startBroker({ config: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${proxy.port}` } })
      await faulty.createTopic("plt-lost-response", { partitions: 1 })
      const via = [`127.0.0.1:${proxy.port}`]
      const produced = await withProducer({ idempotent: true, bootstrapBrokers: via }, async (producer) => {
        const first = await producer.send({ messages: [{ topic: "plt-lost-response", key: Buffer.from("k"), value: Buffer.from("once") }] })
        proxy.dropNextResponse(0)
        const second = await producer.send({ messages: [{ topic: "plt-lost-response", key: Buffer.from("k"), value: Buffer.from("lost") }] })
        const third = await producer.send({ messages: [{ topic: "plt-lost-response", key: Buffer.from("k"), value: Buffer.from("after") }] })
        return [first, second, third].map((r) => Number(r.offsets![0]!.offset))
      })
      // The second send's response never arrived: the client reconnected, sent the same batch again and was
      // told the offset of the copy already stored.
      expect(proxy.dropped()).toBe(1)
      expect(produced).toEqual([0, 1, 2])
      const consumed = await readAll("plt-lost-response", via)
      expect(consumed.map((r) => [r.offset, r.value!.toString()])).toEqual([[0, "once"], [1, "lost"], [2, "after"]])
    } finally {
      await faulty?.close()
      await proxy.close()
    }
  })

  test("without idempotence the same lost response is retried and stored twice (at least once)", async () => {
    let faulty: RunningBroker | undefined
    const proxy = await startFaultProxy(() => faulty!.port)
    try {
      faulty = await startBroker({ config: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${proxy.port}` } })
      await faulty.createTopic("plt-lost-response-plain", { partitions: 1 })
      const via = [`127.0.0.1:${proxy.port}`]
      const produced = await withProducer({ bootstrapBrokers: via, acks: ProduceAcks.ALL }, async (producer) => {
        proxy.dropNextResponse(0)
        const result = await producer.send({ messages: [{ topic: "plt-lost-response-plain", value: Buffer.from("twice") }] })
        return Number(result.offsets![0]!.offset)
      })
      expect(proxy.dropped()).toBe(1)
      // The client was told about the second copy; the first one is in the log too.
      expect(produced).toBe(1)
      const consumed = await readAll("plt-lost-response-plain", via)
      expect(consumed.map((r) => [r.offset, r.value!.toString()])).toEqual([[0, "twice"], [1, "twice"]])
    } finally {
      await faulty?.close()
      await proxy.close()
    }
  })

  test.each([
    [CompressionAlgorithms.GZIP, 1],
    [CompressionAlgorithms.SNAPPY, 2],
    [CompressionAlgorithms.LZ4, 3],
    [CompressionAlgorithms.ZSTD, 4]
  ] as const)("%s: the stored batches keep the codec and read back", async (compression, bits) => {
    const topic = `plt-${compression}`
    await createTopic(topic, 2)
    const expected = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, Array.from({ length: 20 }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: `a compressible value, ${"x".repeat(200)} #${i}`,
        headers: [["n", String(i)], ["n", `again ${i}`]]
      })), { compression, acks: ProduceAcks.ALL }))
    for (const partition of [0, 1]) {
      const batches = batchesOf(topic, partition)
      expect(batches.map((b) => b.attributes & COMPRESSION_MASK)).toEqual([bits])
      expect(batches[0]!.recordCount).toBe(10)
    }
    expectSameRecords(await readAll(topic), expected)
  })

  test("admin: create partitions, describe cluster, offsets by timestamp, delete topic", async () => {
    const topic = "plt-admin-more"
    await createTopic(topic, 2)
    await admin.createPartitions({ topics: [{ name: topic, count: 5 }] })
    const grown = await admin.metadata({ topics: [topic], forceUpdate: true })
    expect(grown.topics.get(topic)?.partitionsCount).toBe(5)
    // Fewer partitions than the topic has is refused (INVALID_PARTITIONS, 37).
    await expect(admin.createPartitions({ topics: [{ name: topic, count: 3 }] })).rejects.toThrow()

    // Produce into the new partition and find it again by timestamp.
    const at = BigInt(Date.now())
    await withProducer({}, (producer) =>
      producer.send({ messages: [{ topic, partition: 4, value: Buffer.from("in a new partition"), timestamp: at + 10n }] }))
    const byTime = await admin.listOffsets({
      topics: [{ name: topic, partitions: [0, 4].map((partitionIndex) => ({ partitionIndex, timestamp: at })) }]
    })
    const offsets = new Map(byTime[0]!.partitions.map((p) => [p.partitionIndex, p]))
    expect(offsets.get(4)?.offset).toBe(0n)
    expect(offsets.get(4)?.timestamp).toBe(at + 10n)
    // Nothing at or after the timestamp: offset -1, as Kafka answers.
    expect(offsets.get(0)?.offset).toBe(-1n)

    // The client has no describeCluster method, but exports the protocol call itself.
    const connection = new Connection(CLIENT_ID)
    try {
      await connection.connect("127.0.0.1", recorder.port)
      const cluster = await describeClusterV1.api.async(connection, false, 1)
      expect(cluster.errorCode).toBe(0)
      expect(cluster.controllerId).toBe(1)
      expect(cluster.brokers).toEqual([{ brokerId: 1, host: "127.0.0.1", port: recorder.port, rack: null }])
      expect(cluster.clusterId).toBe((await admin.metadata({ topics: [] })).id)
    } finally {
      await connection.close()
    }

    const [brokerConfig] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: "1", configurationKeys: ["node.id"] }]
    })
    expect(brokerConfig!.configs.map((c) => [c.name, c.value])).toEqual([["node.id", "1"]])

    // listTopics is a Metadata request for every topic; metadata() names the topic (and does not auto-create it).
    expect(await admin.listTopics()).toContain(topic)
    await admin.deleteTopics({ topics: [topic] })
    expect(await admin.listTopics()).not.toContain(topic)
    await expect(admin.metadata({ topics: [topic], forceUpdate: true })).rejects.toThrow(`Unknown topic ${topic}.`)
  })

  test("a consumer group reads everything from the beginning, commits, and resumes after a restart", async () => {
    const topic = "plt-group"
    const groupId = "plt-group-readers"
    await createTopic(topic)
    const expected = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, Array.from({ length: 12 }, (_, i) => ({
        partition: i % PARTITIONS,
        ...(i % 4 === 0 ? {} : { key: `k${i}` }),
        value: `grouped ${i}`,
        headers: i % 3 === 0 ? [["h", "1"], ["h", "2"], ["other", "x"]] as const : []
      }))))

    /** Joins the group, reads `count` records (from the committed offsets, else the beginning), commits each. */
    const consumeWithGroup = async (count: number): Promise<Array<FetchedRecord>> => {
      const consumer = new Consumer({
        clientId: CLIENT_ID,
        groupId,
        bootstrapBrokers: bootstrap(),
        maxWaitTime: 100,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        retries: 5,
        retryDelay: 50
      })
      const got: Array<FetchedRecord> = []
      try {
        const stream = await consumer.consume({
          topics: [topic],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          autocommit: false
        })
        for await (const message of stream) {
          got.push({
            partition: message.partition,
            offset: Number(message.offset),
            key: (message.key as Buffer | null | undefined) ?? null,
            value: message.value,
            headers: message.headerEntries.map(([k, v]) => [k.toString(), v.toString()] as const)
          })
          await message.commit()
          if (got.length === count) break
        }
        await stream.close()
      } finally {
        await consumer.close()
      }
      return got
    }

    expectSameRecords(await consumeWithGroup(expected.length), expected)
    const committed = async () => {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [0, 1, 2] }] }] })
      return group!.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]).sort((a, b) => a[0]! - b[0]!)
    }
    const highs = [0, 1, 2].map((p) => [p, expected.filter((e) => e.partition === p).length])
    expect(await committed()).toEqual(highs)

    await restart()

    // The committed offsets survive; the group resumes after them and sees only what came since.
    expect(await committed()).toEqual(highs)
    const later = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, [{ partition: 2, key: "later", value: "after the restart" }]))
    expectSameRecords(await consumeWithGroup(1), later)

    const groups = await admin.describeGroups({ groups: [groupId] })
    expect(groups.get(groupId)).toMatchObject({ id: groupId, state: "Empty", protocolType: "consumer" })
    expect([...(await admin.listGroups()).keys()]).toContain(groupId)
    // An empty group can be deleted, and its offsets with it.
    await admin.deleteGroups({ groups: [groupId] })
    expect([...(await admin.listGroups()).keys()]).not.toContain(groupId)
    expect(await committed()).toEqual([0, 1, 2].map((p) => [p, -1]))
  })

  test("the versions it chose: the highest it implements within the broker's ranges", () => {
    // @platformatic/kafka takes the broker's advertised maximum when it implements it (it has Fetch up to v17,
    // ListOffsets up to v9): so each version here is the broker's maximum.
    const brokerMax = new Map(supportedApis.map((a) => [a.apiKey, a.maxVersion]))
    const used = new Map(recorder.versions(CLIENT_ID))
    // Heartbeat (12) goes out only when a heartbeat interval elapses while the group is joined.
    expect(used.get(12) ?? [brokerMax.get(12)]).toEqual([brokerMax.get(12)])
    used.delete(12)
    const atBrokerMax = (...keys: Array<number>) => Object.fromEntries(keys.map((k) => [k, [brokerMax.get(k)]]))
    expect(Object.fromEntries(used)).toEqual({
      // Produce, Fetch (by topic id), Metadata
      ...atBrokerMax(0, 1, 3),
      2: [9], // ListOffsets: its own maximum, below the broker's 10
      // OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, LeaveGroup, SyncGroup, DescribeGroups, ListGroups,
      // DeleteGroups
      ...atBrokerMax(8, 9, 10, 11, 13, 14, 15, 16, 42),
      // CreateTopics, DeleteTopics, InitProducerId, DescribeConfigs, CreatePartitions
      ...atBrokerMax(19, 20, 22, 32, 37),
      18: [3], // ApiVersions: sent before the broker's ranges are known
      60: [1] // DescribeCluster: the v1 call this test made itself
    })
  })
})
