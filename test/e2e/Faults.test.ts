// Fault injection with real clients against an in-process broker (`startBroker().faults`): an injected
// NOT_LEADER_OR_FOLLOWER retried by kafkajs and by @platformatic/kafka with the record stored once, an
// unretriable error surfacing in the application, a delayed Fetch, a connection closed after an idempotent
// Produce was stored (no duplicate; without idempotence, kafkajs stores it twice), what kafkajs sent as seen by
// `requests`, and `waitFor` resolving on a consumer's Heartbeat.
import { ProduceAcks, Producer } from "@platformatic/kafka"
import { Kafka, logLevel, type KafkaJSProtocolError } from "kafkajs"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"

let broker: RunningBroker
beforeAll(async () => (broker = await startBroker()))
afterAll(() => broker.close())
afterEach(() => broker.faults.clear())

const kafka = (clientId: string) =>
  new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 50, retries: 5 } })

/** The log end offset of each partition of `topic`. */
const endOffsets = async (topic: string) => {
  const admin = kafka("faults-admin").admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high))
  } finally {
    await admin.disconnect()
  }
}

const apisOf = (clientId: string) => broker.requests({ clientId }).map((r) => r.api)

describe("kafkajs", () => {
  test("NOT_LEADER_OR_FOLLOWER twice on a Produce: refreshed metadata, retried, stored once", async () => {
    await broker.createTopic("f-retry", { partitions: 2 })
    broker.faults.inject({ api: "Produce", topic: "f-retry", partition: 0, errorCode: 6, count: 2 })
    const producer = kafka("f-retry-producer").producer()
    await producer.connect()
    const [result] = await producer.send({ topic: "f-retry", messages: [{ partition: 0, value: "once" }] })
    await producer.disconnect()
    expect(result!.errorCode).toBe(0)
    expect(await endOffsets("f-retry")).toEqual([1, 0])
    // Each failed Produce is followed by a Metadata request before the retry.
    const seen = apisOf("f-retry-producer").filter((api) => api === "Produce" || api === "Metadata")
    expect(seen.slice(-5)).toEqual(["Produce", "Metadata", "Produce", "Metadata", "Produce"])
  })

  test("an unretriable error (INVALID_RECORD, 87) surfaces in the application at once", async () => {
    await broker.createTopic("f-invalid", { partitions: 1 })
    broker.faults.inject({ api: "Produce", topic: "f-invalid", errorCode: 87 })
    const producer = kafka("f-invalid-producer").producer()
    await producer.connect()
    const error = await producer.send({ topic: "f-invalid", messages: [{ value: "refused" }] }).then(() => undefined, (e: unknown) => e)
    await producer.disconnect()
    expect(error).toBeDefined()
    const cause = (error as { cause?: KafkaJSProtocolError }).cause ?? (error as KafkaJSProtocolError)
    expect(cause.type).toBe("INVALID_RECORD")
    expect(cause.retriable).toBe(false)
    expect(apisOf("f-invalid-producer").filter((api) => api === "Produce")).toHaveLength(1)
    expect(await endOffsets("f-invalid")).toEqual([0])
  })

  test("a delayed Fetch: the consumer gets its records that much later", async () => {
    await broker.createTopic("f-slow", { partitions: 1 })
    const producer = kafka("f-slow-producer").producer()
    await producer.connect()
    await producer.send({ topic: "f-slow", messages: [{ value: "late" }] })
    await producer.disconnect()
    broker.faults.delay({ api: "Fetch", topic: "f-slow", ms: 1500 })
    const consumer = kafka("f-slow-consumer").consumer({ groupId: "f-slow", maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic: "f-slow", fromBeginning: true })
    const started = Date.now()
    let fetchedAt = 0
    const received = await new Promise<string>((resolve) =>
      consumer.run({
        eachMessage: async ({ message }) => {
          fetchedAt = Date.now()
          resolve(String(message.value))
        }
      }))
    await consumer.disconnect()
    expect(received).toBe("late")
    expect(fetchedAt - started).toBeGreaterThanOrEqual(1400)
    expect(broker.requests({ api: "Fetch", clientId: "f-slow-consumer" }).length).toBeGreaterThan(0)
  })

  test("the connection closes after an idempotent Produce was stored: the retry is recognised, no duplicate", async () => {
    await broker.createTopic("f-lost", { partitions: 1 })
    const producer = kafka("f-lost-producer").producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({ topic: "f-lost", messages: [{ value: "first" }] })
    broker.faults.disconnect({ api: "Produce", topic: "f-lost", when: "after" })
    const [second] = await producer.send({ topic: "f-lost", messages: [{ value: "second" }] })
    await producer.disconnect()
    expect(Number(second!.baseOffset)).toBe(1)
    expect(await endOffsets("f-lost")).toEqual([2])
    expect(apisOf("f-lost-producer").filter((api) => api === "Produce")).toHaveLength(3)
  })

  test("the same without idempotence: the retry is stored again (at least once)", async () => {
    await broker.createTopic("f-lost-plain", { partitions: 1 })
    const producer = kafka("f-lost-plain-producer").producer()
    await producer.connect()
    broker.faults.disconnect({ api: "Produce", topic: "f-lost-plain", when: "after" })
    await producer.send({ topic: "f-lost-plain", messages: [{ value: "twice" }] })
    await producer.disconnect()
    expect(await endOffsets("f-lost-plain")).toEqual([2])
  })

  test("a disconnect before the Produce ran: reconnected, retried, stored once", async () => {
    await broker.createTopic("f-cut", { partitions: 1 })
    const producer = kafka("f-cut-producer").producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    broker.faults.disconnect({ api: "Produce", topic: "f-cut" })
    await producer.send({ topic: "f-cut", messages: [{ value: "once" }] })
    await producer.disconnect()
    expect(await endOffsets("f-cut")).toEqual([1])
  })

  test("requests shows what kafkajs sent", async () => {
    await broker.createTopic("f-seen", { partitions: 1 })
    const producer = kafka("f-seen-producer").producer()
    await producer.connect()
    await producer.send({ topic: "f-seen", messages: [{ value: "v" }] })
    await producer.disconnect()
    const sent = broker.requests({ clientId: "f-seen-producer" })
    expect(sent[0]!.api).toBe("ApiVersions")
    expect(sent.map((r) => r.api)).toEqual(expect.arrayContaining(["ApiVersions", "Metadata", "Produce"]))
    const produce = sent.find((r) => r.api === "Produce")!
    expect(produce).toMatchObject({ brokerId: 1, clientId: "f-seen-producer", topics: ["f-seen"] })
    expect(produce.apiVersion).toBeGreaterThanOrEqual(3)
    expect(broker.requests({ topic: "f-seen", api: "Produce" })).toHaveLength(1)
  })

  test("waitFor resolves on a consumer's Heartbeat", async () => {
    await broker.createTopic("f-beat", { partitions: 1 })
    const consumer = kafka("f-beat-consumer").consumer({ groupId: "f-beat", heartbeatInterval: 100, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic: "f-beat" })
    await consumer.run({ eachMessage: async () => undefined })
    const beat = await broker.waitFor({ api: "Heartbeat", clientId: "f-beat-consumer" }, 15_000)
    await consumer.disconnect()
    expect(beat.brokerId).toBe(1)
    await expect(broker.waitFor({ api: "Heartbeat", clientId: "nobody" }, 50)).rejects.toThrow(/no matching request/)
  })
})

describe("@platformatic/kafka", () => {
  test("NOT_LEADER_OR_FOLLOWER twice on a Produce: retried after its delay, stored once", async () => {
    await broker.createTopic("f-plt-retry", { partitions: 1 })
    broker.faults.inject({ api: "Produce", topic: "f-plt-retry", errorCode: 6, count: 2 })
    const producer = new Producer({ clientId: "f-plt-producer", bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 50, acks: ProduceAcks.ALL })
    try {
      const result = await producer.send({ messages: [{ topic: "f-plt-retry", value: Buffer.from("once") }] })
      expect(Number(result.offsets![0]!.offset)).toBe(0)
    } finally {
      await producer.close()
    }
    expect(await endOffsets("f-plt-retry")).toEqual([1])
    const seen = apisOf("f-plt-producer").filter((api) => api === "Produce" || api === "Metadata")
    expect(seen.filter((api) => api === "Produce")).toHaveLength(3)
    // The first failure makes it ask for metadata again before retrying.
    expect(seen.indexOf("Metadata", seen.indexOf("Produce"))).toBeGreaterThan(0)
  })

  test("an unretriable error surfaces in the application", async () => {
    await broker.createTopic("f-plt-invalid", { partitions: 1 })
    broker.faults.inject({ api: "Produce", topic: "f-plt-invalid", errorCode: 87 })
    const producer = new Producer({ clientId: "f-plt-invalid", bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 50 })
    try {
      const error = await producer.send({ messages: [{ topic: "f-plt-invalid", value: Buffer.from("refused") }] }).then(() => undefined, (e: unknown) => e)
      expect(error).toBeDefined()
      // An AggregateError (PLT_KFK_MULTIPLE) whose cause chain carries the broker's error, not retried.
      expect((error as { code?: string }).code).toBe("PLT_KFK_MULTIPLE")
      expect(String(error)).toContain("failed the validation on broker")
    } finally {
      await producer.close()
    }
    expect(apisOf("f-plt-invalid").filter((api) => api === "Produce")).toHaveLength(1)
    expect(await endOffsets("f-plt-invalid")).toEqual([0])
  })
})
