// kafkajs 2.2.4 against the broker, in process, with its data on disk. Topics are created and inspected with
// kafkajs's admin client; records are produced with acks=1, acks=all, idempotence and gzip. kafkajs's consumer
// only works inside a consumer group, so to read by partition assignment the records are read back with the
// Fetch request of kafkajs's own cluster/broker layer (the one its consumer uses underneath): same wire version,
// same record decoding, no group. The records are also read with @platformatic/kafka as a second opinion. A
// consumer group (served since the group coordinator) reads from the beginning and commits. Restarts between
// producing and reading show that topics, data, log end offsets and committed offsets survive.
import { CompressionTypes, ConfigResourceTypes, Kafka, logLevel } from "kafkajs"
import type { IHeaders, Message, Producer, RecordMetadata } from "kafkajs"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { type BatchHeader, COMPRESSION_MASK, scanBatches } from "../../src/protocol/RecordBatch.ts"
import { startApiRecorder, type ApiRecorder } from "../support/ApiRecorder.ts"
import { startFaultProxy } from "../support/FaultProxy.ts"
import { fetchAll } from "../support/PlatformaticFetch.ts"
import { filterWarnings, restoreWarnings } from "../support/KafkajsWarnings.ts"

const MiB = 1024 * 1024
const PARTITIONS = 3

let logDir: string
let broker: RunningBroker
let recorder: ApiRecorder
let kafka: Kafka

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
  filterWarnings()
  logDir = mkdtempSync(join(tmpdir(), "kafkajs-e2e-"))
  recorder = await startApiRecorder(() => broker.port)
  broker = await start()
  kafka = new Kafka({
    clientId: "kafkajs-e2e",
    brokers: [`127.0.0.1:${recorder.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50 }
  })
})

afterAll(async () => {
  await broker?.close()
  await recorder?.close()
  rmSync(logDir, { recursive: true, force: true })
  restoreWarnings()
})

/** An admin client for the length of `f`. */
const withAdmin = async <A>(f: (admin: ReturnType<Kafka["admin"]>) => Promise<A>, client = kafka): Promise<A> => {
  const admin = client.admin()
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.disconnect()
  }
}

const withProducer = async <A>(
  options: Parameters<Kafka["producer"]>[0],
  f: (producer: Producer) => Promise<A>
): Promise<A> => {
  const producer = kafka.producer({ ...options })
  await producer.connect()
  try {
    return await f(producer)
  } finally {
    await producer.disconnect()
  }
}

const createTopic = (topic: string, partitions = PARTITIONS) =>
  withAdmin((admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: [{ name: "max.message.bytes", value: String(2 * MiB) }]
      }]
    })
  )

// ---------------------------------------------------------------------------------------------------------
// Reading back without a consumer group

interface Consumed {
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: IHeaders
}

interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>
  findBroker(node: { nodeId: number }): Promise<{
    fetch(request: {
      replicaId: number
      isolationLevel: number
      maxWaitTime: number
      minBytes: number
      maxBytes: number
      topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>
    }): Promise<{
      responses: Array<{
        topicName: string
        partitions: Array<{
          partition: number
          errorCode: number
          highWatermark: string
          messages: Array<{ offset: string; key: Buffer | null; value: Buffer | null; headers: IHeaders }>
        }>
      }>
    }>
  }>
}

/**
 * kafkajs's cluster layer: `Kafka` builds one per producer/consumer/admin through a private factory. Its broker
 * objects send Fetch at the version the consumer would negotiate and decode batches with the consumer's code.
 */
const kafkajsCluster = (): KafkajsCluster => {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster")
  if (factory === undefined) throw new Error("kafkajs internals changed: no cluster factory")
  return (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[factory]!({
    allowAutoTopicCreation: false,
    isolationLevel: 1 // read_committed, as kafkajs's consumer defaults to
  })
}

/** Every record of every partition of `topic`, read from offset 0 to the high watermark. */
const readAll = async (topic: string): Promise<Array<Consumed>> => {
  const cluster = kafkajsCluster()
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const out: Array<Consumed> = []
    for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
      const broker = await cluster.findBroker({ nodeId: leader })
      let next = 0
      for (;;) {
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 8 * MiB,
          topics: [{ topic, partitions: [{ partition: partitionId, fetchOffset: String(next), maxBytes: 4 * MiB }] }]
        })
        const partition = response.responses[0]!.partitions[0]!
        expect(partition.errorCode).toBe(0)
        // A fetch starts at the batch holding `next`, so records before it may come again: skip them.
        for (const m of partition.messages) {
          if (Number(m.offset) < next) continue
          out.push({ partition: partitionId, offset: Number(m.offset), key: m.key, value: m.value, headers: m.headers })
          next = Number(m.offset) + 1
        }
        if (next >= Number(partition.highWatermark)) break
        if (partition.messages.length === 0) throw new Error(`no progress at ${topic}-${partitionId}@${next}`)
      }
    }
    return out
  } finally {
    await cluster.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------------------
// What was produced

interface Expected {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: Buffer
  /** Header values as kafkajs decodes them: one value, or an array for a repeated key. */
  readonly headers: Record<string, string | Array<string>>
}

/**
 * Sends `messages` (each with an explicit partition) in one request and works out the offset of each: kafkajs
 * sends one batch per partition in message order, and the response gives each batch's base offset.
 */
const sendAndExpect = async (
  producer: Producer,
  topic: string,
  acks: number,
  messages: ReadonlyArray<Message & { partition: number }>,
  compression = CompressionTypes.None
): Promise<Array<Expected>> => {
  const metadata: Array<RecordMetadata> = await producer.send({ topic, acks, compression, messages: [...messages] })
  const base = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]))
  for (const m of metadata) expect(m.errorCode).toBe(0)
  const seen = new Map<number, number>()
  return messages.map((m) => {
    const index = seen.get(m.partition) ?? 0
    seen.set(m.partition, index + 1)
    const headers: Record<string, string | Array<string>> = {}
    for (const [k, v] of Object.entries(m.headers ?? {})) {
      headers[k] = Array.isArray(v) ? v.map(String) : String(v)
    }
    return {
      partition: m.partition,
      offset: base.get(m.partition)! + index,
      key: m.key == null ? null : String(m.key),
      value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(String(m.value)),
      headers
    }
  })
}

const headersAsStrings = (headers: IHeaders) => {
  const out: Record<string, string | Array<string>> = {}
  for (const [k, v] of Object.entries(headers)) {
    out[k] = Array.isArray(v) ? v.map(String) : String(v)
  }
  return out
}

const expectSameRecords = (consumed: ReadonlyArray<Consumed>, expected: ReadonlyArray<Expected>) => {
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
    expect(headersAsStrings(r.headers)).toEqual(w.headers)
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

describe("kafkajs 2.2.4", () => {
  test("creates a topic with a config through admin, and describes it", async () => {
    const topic = "kjs-admin-create"
    expect(await createTopic(topic)).toBe(true)
    await withAdmin(async (admin) => {
      // A second create of the same name is reported by kafkajs as "not created", not as a failure.
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).toBe(false)
      expect(await admin.listTopics()).toContain(topic)
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      expect(topics).toHaveLength(1)
      expect(topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2])
      for (const p of topics[0]!.partitions) {
        expect(p.leader).toBe(1)
        expect(p.replicas).toEqual([1])
        expect(p.isr).toEqual([1])
      }
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes", "cleanup.policy"] }]
      })
      expect(described.resources).toHaveLength(1)
      const resource = described.resources[0]!
      expect(resource.errorCode).toBe(0)
      const byName = new Map(resource.configEntries.map((e) => [e.configName, e]))
      expect(byName.get("max.message.bytes")?.configValue).toBe(String(2 * MiB))
      expect(byName.get("max.message.bytes")?.isDefault).toBe(false)
      expect(byName.get("cleanup.policy")?.configValue).toBe("delete")
      expect(byName.get("cleanup.policy")?.isDefault).toBe(true)
      // Every topic config when none is named.
      const all = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }]
      })
      expect(all.resources[0]!.configEntries.length).toBeGreaterThan(20)
      // AlterConfigs replaces the topic's configs with the ones given.
      const altered = await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "cleanup.policy", value: "compact,delete" }] }]
      })
      expect(altered.resources).toEqual([expect.objectContaining({ errorCode: 0, resourceName: topic })])
      const after = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes", "cleanup.policy"] }]
      })
      const now = new Map(after.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))
      expect(now).toEqual(new Map([["cleanup.policy", "compact,delete"], ["max.message.bytes", "1048588"]]))
      await expect(admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "soon" }] }]
      })).rejects.toMatchObject({ type: "INVALID_CONFIG", code: 40 })
    })
  })

  test("produces with acks=1 and acks=all (keys, null keys, headers, 1 MiB), survives a restart, reads all back", async () => {
    const topic = "kjs-produce"
    await createTopic(topic)
    const big = Buffer.alloc(MiB, 7)
    big.write("the one MiB value")
    const expected: Array<Expected> = []
    await withProducer({ allowAutoTopicCreation: false }, async (producer) => {
      for (const acks of [1, -1]) {
        expected.push(...await sendAndExpect(producer, topic, acks, [
          // Keyed records on every partition.
          ...Array.from({ length: 9 }, (_, i) => ({
            partition: i % PARTITIONS,
            key: `key-${acks}-${i}`,
            value: `value-${acks}-${i}`
          })),
          // Null keys.
          { partition: 0, key: null, value: `null-key-${acks}-a` },
          { partition: 2, key: null, value: `null-key-${acks}-b` },
          // Headers: several, one key repeated (kafkajs sends an array as one header per element).
          {
            partition: 1,
            key: `with-headers-${acks}`,
            value: `headers-${acks}`,
            headers: { "trace-id": `t-${acks}`, "tag": ["red", "green", "blue"], "empty": "" }
          },
          { partition: 2, key: null, value: `null-key-with-header-${acks}`, headers: { source: "kafkajs" } }
        ]))
      }
      // One 1 MiB value, above the broker's default message.max.bytes but within the topic's max.message.bytes.
      expected.push(...await sendAndExpect(producer, topic, -1, [{ partition: 1, key: "big", value: big }]))
    })
    // Offsets are dense from 0 in each partition.
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = expected.filter((e) => e.partition === p).map((e) => e.offset).sort((a, b) => a - b)
      expect(offsets).toEqual(offsets.map((_, i) => i))
    }

    await restart()

    await withAdmin(async (admin) => {
      expect(await admin.listTopics()).toContain(topic)
      const offsets = await admin.fetchTopicOffsets(topic)
      expect(offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.partition, o.low, o.high])).toEqual(
        [0, 1, 2].map((p) => [p, "0", String(expected.filter((e) => e.partition === p).length)])
      )
    })
    expectSameRecords(await readAll(topic), expected)
    // The same records through another client's decoder, which keeps headers as an ordered list: kafkajs sends
    // an array value as one header per element, in order.
    const other = await fetchAll([`127.0.0.1:${recorder.port}`], topic)
    expect(other.map((r) => ({
      partition: r.partition,
      offset: r.offset,
      key: r.key?.toString() ?? null,
      value: r.value?.equals(expected.find((e) => e.partition === r.partition && e.offset === r.offset)!.value),
      headers: r.headers
    })).sort((a, b) => a.partition - b.partition || a.offset - b.offset)).toEqual(
      expected.map((e) => ({
        partition: e.partition,
        offset: e.offset,
        key: e.key,
        value: true,
        headers: Object.entries(e.headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x]))
      })).sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    )

    // Producing again continues each partition's offsets where they were.
    const after = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, -1, [0, 1, 2].map((partition) => ({ partition, value: `after restart ${partition}` }))))
    expect(after.map((e) => e.offset)).toEqual([0, 1, 2].map((p) => expected.filter((e) => e.partition === p).length))
  })

  test("a value over the topic's max.message.bytes is refused with MESSAGE_TOO_LARGE", async () => {
    const topic = "kjs-too-large"
    // No topic config: the broker's message.max.bytes (1048588) applies, less than a 1 MiB value plus overhead.
    await withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] }))
    const error = await withProducer({}, (producer) =>
      producer.send({ topic, acks: -1, messages: [{ value: Buffer.alloc(MiB) }] }).then(() => undefined, (e: unknown) => e))
    expect(error).toMatchObject({ type: "MESSAGE_TOO_LARGE", code: 10, retriable: false })
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
    expect(offsets.map((o) => o.high)).toEqual(["0"])
  })

  test("keyed records without a partition: kafkajs's partitioner keeps each key on one partition", async () => {
    const topic = "kjs-partitioner"
    await createTopic(topic)
    const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`)
    await withProducer({}, async (producer) => {
      for (let round = 0; round < 3; round++) {
        await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: `${key}:${round}` })) })
      }
    })
    const consumed = await readAll(topic)
    expect(consumed).toHaveLength(keys.length * 3)
    const partitionOf = new Map<string, Set<number>>()
    for (const r of consumed) {
      const key = r.key!.toString()
      partitionOf.set(key, (partitionOf.get(key) ?? new Set()).add(r.partition))
    }
    for (const key of keys) expect(partitionOf.get(key)?.size).toBe(1)
    // Twelve keys hashed over three partitions: more than one partition is used.
    expect(new Set(consumed.map((r) => r.partition)).size).toBeGreaterThan(1)
    // Per key, the rounds come back in the order they were sent.
    for (const key of keys) {
      expect(consumed.filter((r) => r.key!.toString() === key).map((r) => r.value!.toString()))
        .toEqual([0, 1, 2].map((round) => `${key}:${round}`))
    }
  })

  test("an idempotent producer gets a producer id and its batches carry it", async () => {
    const topic = "kjs-idempotent"
    await createTopic(topic)
    const expected = await withProducer({ idempotent: true, maxInFlightRequests: 1 }, async (producer) => [
      ...await sendAndExpect(producer, topic, -1, [
        { partition: 0, key: "a", value: "1" },
        { partition: 1, key: "b", value: "2" }
      ]),
      ...await sendAndExpect(producer, topic, -1, [{ partition: 0, key: "c", value: "3" }])
    ])
    expectSameRecords(await readAll(topic), expected)
    const batches = batchesOf(topic, 0)
    expect(batches).toHaveLength(2)
    expect(batches[0]!.producerId).toBeGreaterThanOrEqual(0)
    expect(batches[1]!.producerId).toBe(batches[0]!.producerId)
    expect(batches.map((b) => b.baseSequence)).toEqual([0, 1])
  })

  test("an idempotent Produce whose response is lost is retried and stored once", async () => {
    // Its own broker behind a FaultProxy, so that every connection the client opens goes through the proxy.
    let faulty: RunningBroker | undefined
    const proxy = await startFaultProxy(() => faulty!.port)
    try {
      faulty = await startBroker({ config: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${proxy.port}` } })
      const client = new Kafka({
        clientId: "kafkajs-e2e-fault",
        brokers: [`127.0.0.1:${proxy.port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 5, initialRetryTime: 50 }
      })
      await withAdmin((admin) =>
        admin.createTopics({ waitForLeaders: true, topics: [{ topic: "kjs-lost-response", numPartitions: 1 }] }), client)
      const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      const offsets: Array<string | undefined> = []
      try {
        for (const value of ["once", "lost", "after"]) {
          if (value === "lost") proxy.dropNextResponse(0)
          const [sent] = await producer.send({ topic: "kjs-lost-response", acks: -1, messages: [{ key: "k", value }] })
          offsets.push(sent!.baseOffset)
        }
      } finally {
        await producer.disconnect()
      }
      // The second send's response never arrived: kafkajs reconnected, sent the same batch (same sequence) again
      // and was told the offset of the copy already stored.
      expect(proxy.dropped()).toBe(1)
      expect(offsets).toEqual(["0", "1", "2"])
      const offsetsAfter = await withAdmin((admin) => admin.fetchTopicOffsets("kjs-lost-response"), client)
      expect(offsetsAfter.map((o) => o.high)).toEqual(["3"])
    } finally {
      await faulty?.close()
      await proxy.close()
    }
  })

  test("gzip: the stored batch keeps kafkajs's codec and reads back", async () => {
    const topic = "kjs-gzip"
    await createTopic(topic, 1)
    const expected = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, -1, Array.from({ length: 20 }, (_, i) => ({
        partition: 0,
        key: `k${i}`,
        value: `a compressible value, ${"x".repeat(100)} #${i}`,
        headers: { n: String(i) }
      })), CompressionTypes.GZIP))
    expect(batchesOf(topic, 0).map((b) => b.attributes & COMPRESSION_MASK)).toEqual([1])
    expectSameRecords(await readAll(topic), expected)
  })

  test("admin: create partitions, describe cluster, offsets by timestamp, delete topic", async () => {
    const topic = "kjs-admin-more"
    await createTopic(topic, 2)
    await withAdmin(async (admin) => {
      await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] })
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      expect(topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3, 4])
      // Growing to fewer partitions than the topic has is refused.
      await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })).rejects.toThrow()

      const cluster = await admin.describeCluster()
      expect(cluster.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: recorder.port }])
      expect(cluster.controller).toBe(1)
      expect(typeof cluster.clusterId).toBe("string")

      const brokerConfig = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: "1" }]
      })
      expect(brokerConfig.resources[0]!.errorCode).toBe(0)
      expect(brokerConfig.resources[0]!.configEntries.find((e) => e.configName === "node.id")?.configValue).toBe("1")
    })

    // The new partition takes records; ListOffsets by timestamp finds them.
    const before = Date.now()
    await withProducer({}, (producer) =>
      producer.send({ topic, acks: -1, messages: [{ partition: 4, value: "in a new partition", timestamp: String(before + 10) }] }))
    await withAdmin(async (admin) => {
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, before)
      const p4 = byTime.find((o) => o.partition === 4)
      expect(p4?.offset).toBe("0")
      // Nothing at or after the timestamp: the broker answers -1, which kafkajs replaces with the end offset.
      expect(byTime.find((o) => o.partition === 0)?.offset).toBe("0")

      await admin.deleteTopics({ topics: [topic] })
      expect(await admin.listTopics()).not.toContain(topic)
      await expect(admin.fetchTopicMetadata({ topics: [topic] })).rejects.toThrow(/does not host this topic-partition/)
    })
  })

  test("a consumer group reads everything from the beginning, commits, and resumes after a restart", async () => {
    const topic = "kjs-group"
    const groupId = "kjs-group-readers"
    await createTopic(topic)
    const expected = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, -1, Array.from({ length: 12 }, (_, i) => ({
        partition: i % PARTITIONS,
        key: i % 4 === 0 ? null : `k${i}`,
        value: `grouped ${i}`,
        headers: i % 3 === 0 ? { h: ["1", "2"], other: "x" } : {}
      }))))

    /** Runs a group consumer until `count` records have arrived (the broker serves the group). */
    const consumeWithGroup = async (count: number): Promise<Array<Consumed>> => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 })
      const got: Array<Consumed> = []
      await consumer.connect()
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true })
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
          void consumer.run({
            eachMessage: async ({ partition, message }) => {
              got.push({ partition, offset: Number(message.offset), key: message.key, value: message.value, headers: message.headers ?? {} })
              if (got.length === count) resolve()
            }
          }).catch(reject)
        })
      } finally {
        // Disconnecting commits what was consumed and leaves the group.
        await consumer.disconnect()
      }
      return got
    }

    expectSameRecords(await consumeWithGroup(expected.length), expected)
    const committed = async () =>
      withAdmin(async (admin) =>
        (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
          .map((p) => [p.partition, p.offset])
          .sort((a, b) => Number(a[0]) - Number(b[0]))
      )
    const highs = [0, 1, 2].map((p) => [p, String(expected.filter((e) => e.partition === p).length)])
    expect(await committed()).toEqual(highs)

    await restart()

    // The committed offsets survive; the group resumes after them and sees only what came since.
    expect(await committed()).toEqual(highs)
    const later = await withProducer({}, (producer) =>
      sendAndExpect(producer, topic, -1, [{ partition: 2, key: "later", value: "after the restart" }]))
    expectSameRecords(await consumeWithGroup(1), later)

    await withAdmin(async (admin) => {
      const { groups } = await admin.describeGroups([groupId])
      expect(groups).toMatchObject([{ groupId, state: "Empty", protocolType: "consumer", members: [] }])
      expect((await admin.listGroups()).groups).toContainEqual({ groupId, protocolType: "consumer" })
      // An empty group can be deleted, and its offsets with it.
      expect(await admin.deleteGroups([groupId])).toEqual([{ groupId, errorCode: 0 }])
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId)
    })
    expect(await committed()).toEqual([0, 1, 2].map((p) => [p, "-1"]))
  })

  test("the versions kafkajs chose: its own maximum for each API the broker serves", () => {
    // kafkajs uses min(its max, the broker's max). describeCluster is a Metadata request.
    const used = new Map(recorder.versions("kafkajs-e2e"))
    // Heartbeat (12) is sent only when a heartbeat interval elapses between fetches: v3 when it is.
    expect(used.get(12) ?? [3]).toEqual([3])
    used.delete(12)
    expect(Object.fromEntries(used)).toEqual({
      0: [7], // Produce
      1: [11], // Fetch
      2: [3], // ListOffsets
      3: [6], // Metadata
      8: [5], // OffsetCommit
      9: [4], // OffsetFetch
      10: [2], // FindCoordinator
      11: [5], // JoinGroup
      13: [3], // LeaveGroup
      14: [3], // SyncGroup
      15: [2], // DescribeGroups
      16: [2], // ListGroups
      42: [1], // DeleteGroups
      18: [2], // ApiVersions
      19: [3], // CreateTopics
      20: [1], // DeleteTopics
      22: [1], // InitProducerId
      32: [2], // DescribeConfigs
      33: [1], // AlterConfigs
      37: [1] // CreatePartitions
    })
  })
})
