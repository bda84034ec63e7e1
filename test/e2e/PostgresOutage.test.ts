// A broker over PostgreSQL while the database is away: produces are refused with a retriable error
// (KAFKA_STORAGE_ERROR) and nothing unacknowledged is claimed, metadata requests are still answered, the broker
// keeps running; once the database is back, the producer's retries go through and a consumer reads every
// acknowledged record exactly once.
import { Kafka, logLevel } from "kafkajs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

describe("a broker over PostgreSQL while the database is away", () => {
  requirePostgres()
  let pg: Postgres | undefined
  let broker: BrokerProcess | undefined

  beforeAll(async () => {
    if (!postgresInstalled) return
    pg = await startPostgres()
    broker = await startBroker({ properties: { "storage.url": await pg.createDatabase(), "num.partitions": "1" } })
  }, 60_000)

  afterAll(async () => {
    await broker?.stop()
    await pg?.stop()
  })

  it.runIf(postgresInstalled)("refuses produces with a retriable error, keeps serving, and takes the retries once it is back", async () => {
    const errors: Array<string> = []
    const kafka = new Kafka({
      clientId: "outage",
      brokers: [`127.0.0.1:${broker!.port}`],
      logLevel: logLevel.WARN,
      // The errors kafkajs retried on, as it logs them.
      logCreator: () => (entry) => {
        const error = (entry.log as { error?: unknown }).error
        if (typeof error === "string") errors.push(error)
      },
      retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 30 }
    })
    const admin = kafka.admin()
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await admin.connect()
    await producer.connect()
    try {
      await admin.createTopics({ topics: [{ topic: "outage", numPartitions: 1 }] })
      await producer.send({ topic: "outage", acks: -1, messages: [{ value: "before" }] })

      await pg!.halt()
      const during = producer.send({ topic: "outage", acks: -1, messages: [{ value: "during" }] })
      let settled = false
      void during.then(() => (settled = true), () => (settled = true))
      await new Promise((r) => setTimeout(r, 3000))
      assert.isFalse(settled, "nothing is acknowledged while the database is away")
      assert.isTrue(broker!.alive())
      // Metadata is answered from the broker's image.
      const described = await admin.fetchTopicMetadata({ topics: ["outage"] })
      assert.strictEqual(described.topics[0]?.partitions.length, 1)

      await pg!.resume()
      await during
      // KAFKA_STORAGE_ERROR, in kafkajs' words.
      assert.include(errors.join("\n"), "Disk error when trying to access log file on the disk", `kafkajs retried on: ${errors.join("; ")}`)
      await producer.send({ topic: "outage", acks: -1, messages: [{ value: "after" }] })

      const consumer = kafka.consumer({ groupId: "outage-readers" })
      await consumer.connect()
      const seen: Array<string> = []
      await consumer.subscribe({ topic: "outage", fromBeginning: true })
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) })
      const deadline = Date.now() + 20_000
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      await consumer.disconnect()
      assert.deepStrictEqual(seen, ["before", "during", "after"])
    } finally {
      await pg!.resume()
      await producer.disconnect()
      await admin.disconnect()
    }
  }, 90_000)
})
