// The README's example, as a test: a broker started inside the test process with `startBroker`, driven by
// kafkajs. If this file changes, the README's "Embedding" section changes with it.
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"

let broker: RunningBroker
beforeAll(async () => {
  broker = await startBroker()
})
afterAll(() => broker.close())

test("produces and consumes through an in-process broker", async () => {
  await broker.createTopic("greetings", { partitions: 2 })
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: "greetings", messages: [{ key: "k", value: "hello" }] })
  await producer.disconnect()

  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets("greetings")
  await admin.disconnect()
  expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1)
})
