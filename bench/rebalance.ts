// Rebalance times of the two group protocols, measured the same way with @confluentinc/kafka-javascript
// (librdkafka) against the broker in process: a group of one member owning all four partitions of a topic; a
// second member starts (join: until both own two partitions each), then stops (leave: until the first owns all
// four again). Once with `group.protocol=consumer` (KIP-848), once with the classic protocol (librdkafka's default
// eager `range,roundrobin` assignors), each with the broker's and client's default timings and with a 500 ms
// heartbeat interval. Needs `npm run install:confluent`.
//
//   node bench/rebalance.ts [rounds]
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startBroker } from "../src/index.ts"

interface Consumer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(s: { topics: Array<string> }): Promise<void>
  run(c: { eachMessage: () => Promise<void> }): Promise<void>
  assignment(): Array<{ topic: string; partition: number }>
}
interface Kafka {
  consumer(config: Record<string, unknown>): Consumer
  admin(): { connect(): Promise<void>; disconnect(): Promise<void>; createTopics(o: { topics: Array<{ topic: string; numPartitions: number }> }): Promise<boolean> }
}
const ckjs = createRequire(new URL("../test/clients/confluent/package.json", import.meta.url))("@confluentinc/kafka-javascript") as {
  KafkaJS: { Kafka: new (c: Record<string, unknown>) => Kafka; logLevel: { NOTHING: number } }
}

const rounds = Number(process.argv[2] ?? 3)
const PARTITIONS = 4

const until = async (check: () => boolean, ms = 120_000) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 5))
  }
}

interface Setup {
  readonly name: string
  readonly broker: Record<string, string>
  readonly client: Record<string, unknown>
}

const FAST_BROKER = {
  "group.consumer.min.heartbeat.interval.ms": "100",
  "group.consumer.heartbeat.interval.ms": "500"
}
const setups: Array<Setup> = [
  { name: "consumer protocol, defaults (heartbeat 5 s)", broker: {}, client: { "group.protocol": "consumer" } },
  { name: "classic protocol, defaults (heartbeat 3 s)", broker: {}, client: {} },
  { name: "consumer protocol, heartbeat 500 ms", broker: FAST_BROKER, client: { "group.protocol": "consumer" } },
  { name: "classic protocol, heartbeat 500 ms", broker: {}, client: { "heartbeat.interval.ms": 500 } }
]

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

for (const setup of setups) {
  const logDir = mkdtempSync(join(tmpdir(), "rebalance-"))
  const broker = await startBroker({ storage: "disk", logDir, logLevel: "Error", config: { "group.initial.rebalance.delay.ms": "0", ...setup.broker } })
  const kafka = new ckjs.KafkaJS.Kafka({ kafkaJS: { brokers: [`127.0.0.1:${broker.port}`], logLevel: ckjs.KafkaJS.logLevel.NOTHING } })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: "rebalance", numPartitions: PARTITIONS }] })
  await admin.disconnect()
  const joins: Array<number> = []
  const leaves: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const make = () => {
      const c = kafka.consumer({ kafkaJS: { groupId: `rebalance-${round}`, fromBeginning: true }, ...setup.client })
      return c
    }
    const a = make()
    await a.connect()
    await a.subscribe({ topics: ["rebalance"] })
    void a.run({ eachMessage: async () => undefined })
    await until(() => a.assignment().length === PARTITIONS)
    const b = make()
    const joinStart = performance.now()
    await b.connect()
    await b.subscribe({ topics: ["rebalance"] })
    void b.run({ eachMessage: async () => undefined })
    await until(() => a.assignment().length === 2 && b.assignment().length === 2)
    joins.push(performance.now() - joinStart)
    const leaveStart = performance.now()
    await b.disconnect()
    await until(() => a.assignment().length === PARTITIONS)
    leaves.push(performance.now() - leaveStart)
    await a.disconnect()
  }
  console.log(
    `${setup.name}: join → both consuming ${median(joins).toFixed(0)} ms (${joins.map((x) => x.toFixed(0)).join(", ")}), ` +
      `leave → one owns all ${median(leaves).toFixed(0)} ms (${leaves.map((x) => x.toFixed(0)).join(", ")})`
  )
  await broker.close()
  rmSync(logDir, { recursive: true, force: true })
}
process.exit(0)
