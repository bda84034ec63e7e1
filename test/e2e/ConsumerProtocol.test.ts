// The consumer group protocol (KIP-848) end to end: @confluentinc/kafka-javascript 1.10.1 (librdkafka 2.15.1) with
// `group.protocol=consumer` against the broker in process, data on disk. One member gets every partition; a
// second joins and the partitions are split (revoked from the first before the second gets them) with no record
// delivered twice; one leaves and the other takes everything over from the committed offsets; the group, its
// epochs and its offsets survive a broker restart. Meanwhile a classic kafkajs group on another group id works.
// The package is loaded from test/clients/confluent/ as in ConfluentKafkaJs.test.ts (skipped without it,
// naming `npm run install:confluent`). The broker runs on this thread: only the client's asynchronous calls are
// used.
import { Kafka as KafkaJs, logLevel } from "kafkajs"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { requireClient } from "../support/Installed.ts"
import { until as untilWithin } from "../support/Until.ts"

/** Waits as long as a change of this kind may take here. */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => untilWithin(what, check, timeoutMs)

interface KjsConsumedMessage {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly offset: string
}
interface KjsTopicPartition {
  readonly topic: string
  readonly partition: number
}
interface KjsConsumer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(subscription: { topics: Array<string | RegExp> }): Promise<void>
  run(config: { eachMessage: (payload: { topic: string; partition: number; message: KjsConsumedMessage }) => Promise<void> }): Promise<void>
  commitOffsets(offsets?: Array<KjsTopicPartition & { offset: string }>): Promise<void>
  assignment(): Array<KjsTopicPartition>
}
interface KjsProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(record: { topic: string; messages: Array<{ key?: string; value: string; partition?: number }> }): Promise<unknown>
}
interface KjsAdmin {
  connect(): Promise<void>
  disconnect(): Promise<void>
  createTopics(options: { topics: Array<{ topic: string; numPartitions?: number }> }): Promise<boolean>
  listGroups(): Promise<{ groups: Array<{ groupId: string; protocolType: string; state: number }> }>
  describeGroups(groups: Array<string>): Promise<{
    groups: Array<{
      groupId: string
      state: number
      error?: { code: number }
      members: Array<{ memberId: string; assignment: { topicPartitions: Array<KjsTopicPartition> } }>
    }>
  }>
  fetchOffsets(options: { groupId: string; topics?: Array<string> }): Promise<
    Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
  >
}
interface KjsKafka {
  producer(config?: Record<string, unknown>): KjsProducer
  consumer(config: Record<string, unknown>): KjsConsumer
  admin(config?: Record<string, unknown>): KjsAdmin
}
interface ConfluentKafkaJavascript {
  readonly KafkaJS: { readonly Kafka: new (config: Record<string, unknown>) => KjsKafka; readonly logLevel: { readonly NOTHING: number } }
}

const INSTALL = "npm run install:confluent"
const clientRequire = createRequire(new URL("../clients/confluent/package.json", import.meta.url))
const loaded = ((): { module: ConfluentKafkaJavascript } | { problem: string } => {
  try {
    clientRequire.resolve("@confluentinc/kafka-javascript")
  } catch {
    return { problem: INSTALL }
  }
  try {
    return { module: clientRequire("@confluentinc/kafka-javascript") as ConfluentKafkaJavascript }
  } catch (e) {
    return { problem: `${INSTALL} -- --force (it does not load: ${String(e).split("\n")[0]})` }
  }
})()

const PARTITIONS = 4
/** librdkafka's group state Stable (rd_kafka_consumer_group_state_t). */
const STABLE = 3
const SLOW = { timeout: 90_000 }
/** Short heartbeats and sessions so that the group moves within a test's time. */
const BROKER_CONFIG = {
  "group.initial.rebalance.delay.ms": "0",
  "group.consumer.min.heartbeat.interval.ms": "100",
  "group.consumer.heartbeat.interval.ms": "500",
  "group.consumer.min.session.timeout.ms": "1000",
  "group.consumer.session.timeout.ms": "10000"
}

// kafkajs 2.2.4 arms a timer for `throttledUntil - Date.now()` while `throttledUntil` is still -1, for which
// Node 24 prints a TimeoutNegativeWarning (see Kafkajs.test.ts): filtered out for this file only.
const warningListeners = process.listeners("warning")
process.removeAllListeners("warning")
process.on("warning", (warning) => {
  if (warning.name !== "TimeoutNegativeWarning") for (const listener of warningListeners) listener(warning)
})

let logDir: string
let broker: RunningBroker
let ckjs: ConfluentKafkaJavascript
let kafka: KjsKafka

const connect = () => {
  kafka = new ckjs.KafkaJS.Kafka({
    kafkaJS: { brokers: [`127.0.0.1:${broker.port}`], clientId: "ckjs-848", logLevel: ckjs.KafkaJS.logLevel.NOTHING }
  })
}

beforeAll(async () => {
  if ("problem" in loaded) return
  ckjs = loaded.module
  logDir = mkdtempSync(join(tmpdir(), "consumer-protocol-"))
  broker = await startBroker({ storage: "disk", logDir, logLevel: "Error", config: BROKER_CONFIG })
  connect()
})

afterAll(async () => {
  process.removeAllListeners("warning")
  for (const listener of warningListeners) process.on("warning", listener)
  await broker?.close()
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true })
})


const withAdmin = async <A>(f: (admin: KjsAdmin) => Promise<A>): Promise<A> => {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.disconnect()
  }
}

const produce = async (topic: string, from: number, count: number) => {
  const producer = kafka.producer({ "linger.ms": 0 })
  await producer.connect()
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({ partition: (from + i) % PARTITIONS, key: `k${from + i}`, value: `v${from + i}` }))
    })
  } finally {
    await producer.disconnect()
  }
}

interface Consumed {
  readonly partition: number
  readonly offset: number
  readonly key: string
}

/** A member of a consumer-protocol group, noting what it was handed. */
const member = (groupId: string, config: Record<string, unknown> = {}) => {
  const consumer = kafka.consumer({
    "group.protocol": "consumer",
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    ...config
  })
  const got: Array<Consumed> = []
  return {
    consumer,
    got,
    start: async (topics: Array<string | RegExp>) => {
      await consumer.connect()
      await consumer.subscribe({ topics })
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          got.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? "" })
        }
      })
    },
    partitions: () => consumer.assignment().map((tp) => tp.partition).sort((a, b) => a - b)
  }
}

const committedOffsets = (groupId: string, topic: string) =>
  withAdmin(async (admin) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
  })

const keys = (records: ReadonlyArray<Consumed>) => records.map((r) => r.key).sort()
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => `k${from + i}`).sort()

describe("the consumer group protocol (KIP-848)", () => {
  if ("problem" in loaded) {
    requireClient("@confluentinc/kafka-javascript", false, loaded.problem)
    return
  }

  test("members share partitions, never twice; one leaves, the other takes over; a restart keeps the group", SLOW, async () => {
    const topic = "kip848"
    const groupId = "kip848-group"
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }, { topic: "kip848-classic", numPartitions: 2 }] }))

    // A classic kafkajs group on another id, running all along.
    const classicClient = new KafkaJs({ brokers: [`127.0.0.1:${broker.port}`], clientId: "classic", logLevel: logLevel.NOTHING })
    const classic = classicClient.consumer({ groupId: "kip848-classic-group", sessionTimeout: 10_000, heartbeatInterval: 500 })
    const classicGot: Array<string> = []
    await classic.connect()
    await classic.subscribe({ topics: ["kip848-classic"], fromBeginning: true })
    void classic.run({ eachMessage: async ({ message }) => void classicGot.push(message.value!.toString()) })

    const a = member(groupId)
    const b = member(groupId)
    try {
      await produce(topic, 0, 100)
      await a.start([topic])
      await until("a alone has every partition", () => a.partitions().length === PARTITIONS)
      await until("a read the first 100", () => a.got.length >= 100)
      await a.consumer.commitOffsets()
      expect(await committedOffsets(groupId, topic)).toEqual({ 0: 25, 1: 25, 2: 25, 3: 25 })

      // b joins: a revokes two partitions before b gets them; at no time do both hold one.
      await b.start([topic])
      let overlap = false
      await until("a and b have two partitions each", () => {
        const pa = a.partitions()
        if (b.partitions().some((p) => pa.includes(p))) overlap = true
        return pa.length === 2 && b.partitions().length === 2
      })
      expect(overlap).toBe(false)
      expect([...a.partitions(), ...b.partitions()].sort()).toEqual([0, 1, 2, 3])

      await produce(topic, 100, 200)
      await until("300 records consumed", () => a.got.length + b.got.length >= 300)
      await new Promise((resolve) => setTimeout(resolve, 500))
      // Every record once.
      expect(keys([...a.got, ...b.got])).toEqual(range(0, 300))
      await a.consumer.commitOffsets()
      await b.consumer.commitOffsets()
      expect(await committedOffsets(groupId, topic)).toEqual({ 0: 75, 1: 75, 2: 75, 3: 75 })

      const listed = await withAdmin((admin) => admin.listGroups())
      expect(listed.groups.find((g) => g.groupId === groupId)).toMatchObject({ protocolType: "consumer" })
      // librdkafka describes consumer groups with ConsumerGroupDescribe (and classic ones with DescribeGroups).
      const { groups: described } = await withAdmin((admin) => admin.describeGroups([groupId, "kip848-classic-group"]))
      expect(described[0]).toMatchObject({ groupId, state: STABLE })
      expect(described[0]!.error).toBeFalsy()
      expect(described[0]!.members.flatMap((m) => m.assignment.topicPartitions.map((tp) => tp.partition)).sort()).toEqual([0, 1, 2, 3])
      expect(described[1]).toMatchObject({ groupId: "kip848-classic-group", state: STABLE })

      // b leaves (epoch -1): a owns everything again and reads on from b's committed offsets.
      await b.consumer.disconnect()
      await until("a has every partition again", () => a.partitions().length === PARTITIONS)
      const before = a.got.length
      await produce(topic, 300, 40)
      await until("40 more records consumed by a", () => a.got.length >= before + 40)
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(keys(a.got.slice(before))).toEqual(range(300, 40))
      await a.consumer.commitOffsets()
      expect(await committedOffsets(groupId, topic)).toEqual({ 0: 85, 1: 85, 2: 85, 3: 85 })

      // The classic group worked meanwhile.
      const classicProducer = classicClient.producer()
      await classicProducer.connect()
      await classicProducer.send({ topic: "kip848-classic", messages: [{ value: "c1" }, { value: "c2" }] })
      await classicProducer.disconnect()
      await until("the classic group read its records", () => classicGot.length >= 2)
      expect(classicGot.sort()).toEqual(["c1", "c2"])
    } finally {
      await a.consumer.disconnect().catch(() => undefined)
      await b.consumer.disconnect().catch(() => undefined)
      await classic.disconnect().catch(() => undefined)
    }

    // A restart: the offsets and the group are read back from __consumer_offsets.
    await broker.close()
    broker = await startBroker({ storage: "disk", logDir, logLevel: "Error", config: BROKER_CONFIG })
    connect()
    expect(await committedOffsets(groupId, topic)).toEqual({ 0: 85, 1: 85, 2: 85, 3: 85 })
    const groups = await withAdmin((admin) => admin.listGroups())
    expect(groups.groups.find((g) => g.groupId === groupId)).toMatchObject({ protocolType: "consumer" })
    const c = member(groupId)
    try {
      await produce(topic, 340, 8)
      await c.start([topic])
      await until("c read the 8 new records", () => c.got.length >= 8)
      await new Promise((resolve) => setTimeout(resolve, 500))
      // From the committed offsets: nothing read twice.
      expect(keys(c.got)).toEqual(range(340, 8))
    } finally {
      await c.consumer.disconnect().catch(() => undefined)
    }
  })

  test("a static member (group.instance.id) restarting gets its partitions back; the other member keeps its own", SLOW, async () => {
    const topic = "kip848-static"
    const groupId = "kip848-static-group"
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }))
    const s1 = member(groupId, { "group.instance.id": "instance-1" })
    const other = member(groupId)
    let s2: ReturnType<typeof member> | undefined
    try {
      await s1.start([topic])
      await until("s1 has every partition", () => s1.partitions().length === PARTITIONS)
      await other.start([topic])
      await until("two partitions each", () => s1.partitions().length === 2 && other.partitions().length === 2)
      const mine = s1.partitions()
      const theirs = other.partitions()
      await s1.consumer.disconnect()
      s2 = member(groupId, { "group.instance.id": "instance-1" })
      await s2.start([topic])
      let changed = false
      await until("the restarted static member has its partitions again", () => {
        if (other.partitions().join() !== theirs.join()) changed = true
        return s2!.partitions().join() === mine.join()
      })
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(changed).toBe(false)
      expect(other.partitions()).toEqual(theirs)
    } finally {
      await s2?.consumer.disconnect().catch(() => undefined)
      await s1.consumer.disconnect().catch(() => undefined)
      await other.consumer.disconnect().catch(() => undefined)
    }
  })

  test("a regular expression subscription picks up a topic created later", SLOW, async () => {
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic: "rx-one", numPartitions: 1 }] }))
    const m = member("kip848-regex")
    try {
      await m.start([/^rx-.*/])
      await until("the member has rx-one", () => m.consumer.assignment().some((tp) => tp.topic === "rx-one"))
      await withAdmin((admin) => admin.createTopics({ topics: [{ topic: "rx-two", numPartitions: 2 }] }))
      await until("the member has rx-two's partitions too", () => m.consumer.assignment().length === 3)
    } finally {
      await m.consumer.disconnect().catch(() => undefined)
    }
  })
})
