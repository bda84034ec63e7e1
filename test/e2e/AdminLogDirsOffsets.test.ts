// DescribeLogDirs and OffsetDelete from real admin clients, against the broker in process with its data on disk:
// @platformatic/kafka 2.12's Admin (describeLogDirs, deleteConsumerGroupOffsets, listConsumerGroupOffsets,
// alterConsumerGroupOffsets), with a kafkajs consumer group holding a subscription meanwhile. (kafkajs 2.2,
// kafka-python 2.0.2 and confluent-kafka 1.7 have neither call.) Sizes are checked against the segment files
// on disk and the volume against statfs; deleted offsets stay deleted after a restart.
import { Admin, Producer } from "@platformatic/kafka"
import { Kafka, logLevel } from "kafkajs"
import { mkdtempSync, readdirSync, rmSync, statfsSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"

const CLIENT_ID = "admin-logdirs-offsets-e2e"

let logDir: string
let broker: RunningBroker
let admin: Admin

const start = () =>
  startBroker({ storage: "disk", logDir, logLevel: "Error", config: { "group.initial.rebalance.delay.ms": "0" } })

const newAdmin = () => new Admin({ clientId: CLIENT_ID, bootstrapBrokers: [`127.0.0.1:${broker.port}`], retries: 3, retryDelay: 50 })

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "admin-e2e-"))
  broker = await start()
  admin = newAdmin()
})

afterAll(async () => {
  await admin?.close()
  await broker?.close()
  rmSync(logDir, { recursive: true, force: true })
})

const createTopic = (topic: string, partitions: number) => admin.createTopics({ topics: [topic], partitions, replicas: 1 })

const produce = async (topic: string, partition: number, values: ReadonlyArray<string>) => {
  const producer = new Producer({ clientId: CLIENT_ID, bootstrapBrokers: [`127.0.0.1:${broker.port}`], retries: 3, retryDelay: 50 })
  try {
    await producer.send({ messages: values.map((v) => ({ topic, partition, value: Buffer.from(v) })) })
  } finally {
    await producer.close()
  }
}

/** The bytes of the partition's segment files on disk. */
const segmentBytes = (topic: string, partition: number): number => {
  const dir = join(logDir, `${topic}-${partition}`)
  let total = 0
  try {
    for (const f of readdirSync(dir)) if (f.endsWith(".log")) total += statSync(join(dir, f)).size
  } catch {
    return 0
  }
  return total
}

/** The Kafka error codes (apiCode) inside a client error, however deeply its MultipleErrors nest them (a
 * retried request adds the codes of each attempt). */
const errorCodes = (e: unknown): Array<number> => {
  const out: Array<number> = []
  const walk = (x: any): void => {
    if (x === null || typeof x !== "object") return
    if (typeof x.apiCode === "number") out.push(x.apiCode)
    if (Array.isArray(x.errors)) for (const inner of x.errors) walk(inner)
  }
  walk(e)
  return [...new Set(out)]
}

const failure = <A>(p: Promise<A>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe("DescribeLogDirs (@platformatic/kafka)", () => {
  test("the log dir's absolute path, each partition's size as its segment files on disk, lag 0, the volume's bytes", async () => {
    const topic = "ld-sizes"
    await createTopic(topic, 2)
    await produce(topic, 0, Array.from({ length: 20 }, (_, i) => `value ${i} `.repeat(10)))
    const described = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1] }, { name: "ld-nope", partitions: [0] }] })
    expect(described).toHaveLength(1)
    const [only] = described
    expect(only!.broker).toBe(1)
    expect(only!.results).toHaveLength(1)
    const dir = only!.results[0]!
    expect(dir.logDir).toBe(resolve(logDir))
    expect(dir.topics).toHaveLength(1)
    const sizes = Object.fromEntries(dir.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.partitionSize)]))
    expect(dir.topics[0]!.name).toBe(topic)
    expect(sizes[0]).toBeGreaterThan(0)
    expect(sizes).toEqual({ 0: segmentBytes(topic, 0), 1: 0 })
    for (const p of dir.topics[0]!.partitions) expect([Number(p.offsetLag), p.isFutureKey]).toEqual([0, false])
    // The volume, as statfs tells it: total exactly, usable as it was a moment ago.
    const fsStats = statfsSync(logDir)
    expect(Number(dir.totalBytes)).toBe(fsStats.blocks * fsStats.bsize)
    expect(Number(dir.usableBytes)).toBeGreaterThan(0)
    expect(Math.abs(Number(dir.usableBytes) - fsStats.bavail * fsStats.bsize)).toBeLessThan(256 * 1024 * 1024)
  })
})

describe("OffsetDelete (@platformatic/kafka's deleteConsumerGroupOffsets, a kafkajs group)", () => {
  test("refused (86) for a topic the running group subscribes to, done for the others; all done once it is empty; gone after a restart", async () => {
    const groupId = "od-group"
    const subscribed = "od-subscribed"
    const other = "od-other"
    await createTopic(subscribed, 1)
    await createTopic(other, 1)
    await produce(subscribed, 0, ["a", "b"])
    // While the group is empty, an admin commits an offset for a topic nobody in it will subscribe to.
    await admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: other, partitionOffsets: [{ partition: 0, offset: 7n }] }] })

    const committed = async () => {
      const [group] = await admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: [{ name: subscribed, partitionIndexes: [0] }, { name: other, partitionIndexes: [0] }] }]
      })
      return Object.fromEntries(group!.topics.map((t) => [t.name, Number(t.partitions[0]!.committedOffset)]))
    }

    const kafka = new Kafka({ clientId: CLIENT_ID, brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [subscribed], fromBeginning: true })
      let seen = 0
      await new Promise<void>((resolvePromise, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
        void consumer.run({
          eachMessage: async () => {
            if (++seen === 2) resolvePromise()
          }
        }).catch(reject)
      })
      await consumer.commitOffsets([{ topic: subscribed, partition: 0, offset: "2" }])
      expect(await committed()).toEqual({ [subscribed]: 2, [other]: 7 })

      const refused = await failure(admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: subscribed, partitionIndexes: [0] }] }))
      expect(errorCodes(refused)).toEqual([86])
      expect(await admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: other, partitionIndexes: [0] }] })).toEqual([
        { name: other, partitionIndexes: [0] }
      ])
      expect(await committed()).toEqual({ [subscribed]: 2, [other]: -1 })
    } finally {
      await consumer.disconnect()
    }

    // The group is empty now: its offsets go too.
    expect(await admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: subscribed, partitionIndexes: [0] }] })).toEqual([
      { name: subscribed, partitionIndexes: [0] }
    ])
    expect(await committed()).toEqual({ [subscribed]: -1, [other]: -1 })
    // An unknown partition is refused by itself (the client retries it, and gets the same answer).
    expect(errorCodes(await failure(admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: other, partitionIndexes: [0, 5] }] })))).toEqual([3])

    // The tombstones are in __consumer_offsets: a restart replays them, and keeps no group without offsets.
    await admin.close()
    await broker.close()
    broker = await start()
    admin = newAdmin()
    expect(await committed()).toEqual({ [subscribed]: -1, [other]: -1 })
    expect(errorCodes(await failure(admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: subscribed, partitionIndexes: [0] }] })))).toEqual([69])
  })
})
