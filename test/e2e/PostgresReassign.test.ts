// Reassigning partitions over PostgreSQL end to end: three broker processes over one database (storage.url), a
// topic created through them with kafkajs and records produced with kcat; a fourth broker started after that is
// listed by every broker but leads no partition. kafkajs's admin reassigns two partitions to it: it leads them at
// once (kcat -L through each broker), the controller's reconciliation leaves them there, the records from before
// are read through it and new ones produced through it; ElectLeaders (through another broker) finds no election
// needed; stopped, the partitions go to their next replica (a preferred election: 80), and started again it
// leads them again.
import { Kafka, logLevel } from "kafkajs"
import { assert, describe, it } from "vitest"
import { RawClient } from "../../src/client/RawClient.ts"
import { ElectLeaders } from "../../src/protocol/messages/ElectLeaders.ts"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { requireClient } from "../support/Installed.ts"
import { kcat, kcatInstalled, leadersOf, listCluster } from "../support/Kcat.ts"
import { eventually } from "../support/Until.ts"
import { postgresInstalled, requirePostgres } from "../support/Postgres.ts"
import { postgresBrokers } from "../support/PostgresBrokers.ts"

const SESSION_MS = 2000
const TOPIC = "moves"


/** kcat -L through the broker at `port`, naming the topic unless null. */
const list = (port: number, topic: string | null = TOPIC) => listCluster(port, topic ?? undefined)



/** Every record of the partition, read through the broker at `port`. */
const consume = async (port: number, partition: number): Promise<Array<string>> => {
  const out = await kcat(["-b", `127.0.0.1:${port}`, "-C", "-t", TOPIC, "-p", String(partition), "-o", "beginning", "-e", "-q"])
  return out.split("\n").filter((l) => l !== "")
}

const produce = (port: number, partition: number, values: ReadonlyArray<string>) =>
  kcat(["-b", `127.0.0.1:${port}`, "-P", "-t", TOPIC, "-p", String(partition), "-X", "acks=all"], values.map((v) => `${v}\n`).join(""))

describe("reassigning partitions over PostgreSQL", () => {
  requirePostgres()
  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")
  const ready = postgresInstalled && kcatInstalled
  const { brokers, propertiesOf } = postgresBrokers({ ready, count: 3, sessionTimeoutMs: SESSION_MS })

  it.runIf(ready)("a broker started after the topic leads the partitions reassigned to it, with their records", async () => {
    const [b1, b2, b3] = brokers as [BrokerProcess, BrokerProcess, BrokerProcess]
    for (const b of brokers) await eventually(`brokers seen from ${b.port}`, () => list(b.port, null), (l) => l.brokers.length === 3)
    const kafka = (ports: ReadonlyArray<number>) =>
      new Kafka({ clientId: "reassign-e2e", brokers: ports.map((p) => `127.0.0.1:${p}`), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } })
    const setup = kafka([b1.port]).admin()
    await setup.connect()
    try {
      assert.isTrue(await setup.createTopics({ topics: [{ topic: TOPIC, numPartitions: 4, replicationFactor: 2 }], waitForLeaders: true }))
    } finally {
      await setup.disconnect()
    }
    const created = await eventually("the topic seen by another broker", () => list(b2.port), (l) => l.topics[0]?.partitions.length === 4)
    assert.sameMembers([...new Set(leadersOf(created))], [1, 2, 3])
    for (let p = 0; p < 4; p++) await produce(b3.port, p, [`p${p}-before-1`, `p${p}-before-2`])

    // Broker 4 joins: every broker lists it, and it leads nothing.
    brokers.push(await startBroker({ properties: propertiesOf(4) }))
    const b4 = brokers[3]!
    for (const b of brokers) await eventually(`broker 4 seen from ${b.port}`, () => list(b.port), (l) => l.brokers.length === 4)
    assert.deepStrictEqual(leadersOf(await list(b4.port)), leadersOf(created))
    assert.notInclude(leadersOf(await list(b4.port)), 4)

    // Partitions 0 and 1 reassigned to broker 4 and their old first replica.
    const firstReplica = (p: number) => created.topics[0]!.partitions.find((x) => x.partition === p)!.replicas[0]!.id
    const admin = kafka(brokers.map((b) => b.port)).admin()
    await admin.connect()
    try {
      await admin.alterPartitionReassignments({
        topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [4, firstReplica(0)] }, { partition: 1, replicas: [4, firstReplica(1)] }] }]
      })
      assert.deepStrictEqual((await admin.listPartitionReassignments({})).topics, [])
    } finally {
      await admin.disconnect()
    }
    const expected = [4, 4, leadersOf(created)[2], leadersOf(created)[3]]
    for (const b of brokers) await eventually(`partitions 0 and 1 led by 4 seen from ${b.port}`, () => list(b.port), (l) => leadersOf(l).join() === expected.join())
    const moved = (await list(b1.port)).topics[0]!.partitions.sort((a, b) => a.partition - b.partition)
    for (const p of [0, 1]) {
      assert.deepStrictEqual(moved[p]!.replicas.map((r) => r.id), [4, firstReplica(p)])
      assert.deepStrictEqual(moved[p]!.isrs.map((r) => r.id).sort(), [4, firstReplica(p)].sort())
    }
    // A few heartbeats later, the controller has left them there.
    await new Promise((r) => setTimeout(r, 1000))
    assert.deepStrictEqual(leadersOf(await list(b2.port)), expected)

    // Through broker 4: the records from before are read, new ones produced and read back (through another too).
    for (const p of [0, 1]) {
      assert.deepStrictEqual(await consume(b4.port, p), [`p${p}-before-1`, `p${p}-before-2`])
      await produce(b4.port, p, [`p${p}-after`])
      assert.deepStrictEqual(await consume(b4.port, p), [`p${p}-before-1`, `p${p}-before-2`, `p${p}-after`])
      assert.deepStrictEqual(await consume(b1.port, p), [`p${p}-before-1`, `p${p}-before-2`, `p${p}-after`])
    }

    // Leader elections through a broker that is not the controller: none needed, 4 being their preferred leader.
    const elect = async (port: number, electionType: number) => {
      const raw = await RawClient.connect(port)
      try {
        const r = await raw.request(ElectLeaders, 2, { electionType, topicPartitions: [{ topic: TOPIC, partitions: [0, 1] }], timeoutMs: 5000 })
        return r.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode)
      } finally {
        raw.close()
      }
    }
    assert.deepStrictEqual(await elect(b3.port, 0), [84, 84])

    // Broker 4 stopped: its partitions go to their other replica, and a preferred election cannot bring them back
    // (PREFERRED_LEADER_NOT_AVAILABLE), an unclean one is not needed; started again, it leads them again.
    await b4.stop()
    await eventually("partitions 0 and 1 led by their other replica", () => list(b1.port), (l) =>
      leadersOf(l)[0] === firstReplica(0) && leadersOf(l)[1] === firstReplica(1))
    await eventually("preferred election refused", () => elect(b3.port, 0), (codes) => codes.join() === "80,80")
    assert.deepStrictEqual(await elect(b3.port, 1), [84, 84])
    brokers[3] = await startBroker({ logDir: b4.logDir, properties: propertiesOf(4) })
    await eventually("broker 4 leading partitions 0 and 1 again", () => list(b1.port), (l) => leadersOf(l).join() === expected.join())
    assert.deepStrictEqual(await consume(brokers[3]!.port, 1), ["p1-before-1", "p1-before-2", "p1-after"])
  }, 120_000)
})
