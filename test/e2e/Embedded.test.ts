// The README's example, as a test: a broker started inside the test process with `startBroker`, driven by
// kafkajs. If this test changes, the README's "A broker inside your tests" section changes with it.
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, expect, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"

let broker: RunningBroker
beforeAll(async () => (broker = await startBroker()))
afterAll(() => broker.close())

test("a message makes the round trip", async () => {
  await broker.createTopic("greetings", { partitions: 3 })
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: "greetings", messages: [{ key: "k", value: "hello" }] })

  const consumer = kafka.consumer({ groupId: "readers" })
  await consumer.connect()
  await consumer.subscribe({ topic: "greetings", fromBeginning: true })
  const received = await new Promise<string>((resolve) =>
    consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }))
  expect(received).toBe("hello")
  await Promise.all([producer.disconnect(), consumer.disconnect()])
})
