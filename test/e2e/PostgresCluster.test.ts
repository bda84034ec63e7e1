// Three broker processes over one PostgreSQL database (storage.url): kcat lists all three, an auto-created
// 6-partition topic has leaders on each, records produced through one broker reach every leader and are read
// back; a broker killed with SIGKILL leaves the cluster within the session timeout and the others take its
// partitions; restarted, it rejoins and leads its partitions again; a broker stopped cleanly is gone at once;
// with every broker stopped and one started, the topic is there, led by it. Records read across a move (the
// partition logs in the database): test/e2e/PostgresLogs.test.ts.
import { assert, describe, it } from "vitest"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { requireClient } from "../support/Installed.ts"
import { kcat, kcatInstalled, listCluster } from "../support/Kcat.ts"
import { eventually } from "../support/Until.ts"
import { postgresInstalled, requirePostgres } from "../support/Postgres.ts"
import { postgresBrokers } from "../support/PostgresBrokers.ts"

const SESSION_MS = 2000




describe("brokers over PostgreSQL", () => {
  requirePostgres()
  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")
  const ready = postgresInstalled && kcatInstalled
  const { brokers, propertiesOf } = postgresBrokers({ ready, count: 3, sessionTimeoutMs: SESSION_MS, properties: { "num.partitions": "6" } })

  it.runIf(ready)("lists three brokers, spreads a topic's leaders over them, fails over a killed broker, and takes back a restarted one", async () => {
    const [b1, b2, b3] = brokers as [BrokerProcess, BrokerProcess, BrokerProcess]
    for (const b of brokers) {
      const listing = await eventually(`brokers seen from ${b.port}`, () => listCluster(b.port), (l) => l.brokers.length === 3)
      assert.deepStrictEqual(listing.brokers.map((x) => x.id).sort(), [1, 2, 3])
      assert.includeMembers(listing.brokers.map((x) => x.name), brokers.map((x) => `127.0.0.1:${x.port}`))
    }

    // Auto-created through broker 2, seen by all: six partitions led by all three brokers.
    await kcat(["-b", `127.0.0.1:${b2.port}`, "-P", "-t", "events", "-p", "0"], "first\n").catch(() => undefined)
    const topic = await eventually("events created", () => listCluster(b1.port, "events"), (l) => l.topics[0]?.partitions.length === 6)
    assert.deepStrictEqual([...new Set(topic.topics[0]!.partitions.map((p) => p.leader))].sort(), [1, 2, 3])

    // Produced through broker 1 to every partition: librdkafka sends each to its leader; all read back.
    for (let p = 0; p < 6; p++) {
      await kcat(["-b", `127.0.0.1:${b1.port}`, "-P", "-t", "events", "-p", String(p), "-X", "acks=all"], `p${p}-a\np${p}-b\n`)
    }
    for (let p = 0; p < 6; p++) {
      const out = await kcat(["-b", `127.0.0.1:${b3.port}`, "-C", "-t", "events", "-p", String(p), "-o", "beginning", "-e", "-q"])
      assert.includeMembers(out.trim().split("\n"), [`p${p}-a`, `p${p}-b`])
    }

    // SIGKILL broker 3: within the session timeout (and a heartbeat or two) the others lead everything.
    const killedAt = Date.now()
    await b3.kill()
    const after = await eventually("broker 3's partitions moved", () => listCluster(b1.port, "events"), (l) =>
      l.brokers.length === 2 && l.topics[0]!.partitions.every((p) => p.leader === 1 || p.leader === 2), SESSION_MS + 10_000)
    const failover = Date.now() - killedAt
    assert.isBelow(failover, SESSION_MS + 3000, `moved after ${failover} ms`)
    assert.deepStrictEqual(after.brokers.map((x) => x.id).sort(), [1, 2])
    assert.deepStrictEqual((await listCluster(b2.port, "events")).topics[0]!.partitions.map((p) => p.leader), after.topics[0]!.partitions.map((p) => p.leader))
    console.log(`failover: broker 3's partitions led elsewhere ${failover} ms after SIGKILL (session timeout ${SESSION_MS} ms)`)

    // Broker 3 restarted rejoins and leads its preferred partitions again.
    brokers[2] = await startBroker({ logDir: b3.logDir, properties: propertiesOf(3) })
    const rejoined = await eventually("broker 3 back", () => listCluster(b1.port, "events"), (l) =>
      l.brokers.length === 3 && new Set(l.topics[0]!.partitions.map((p) => p.leader)).size === 3)
    assert.deepStrictEqual(rejoined.topics[0]!.partitions.map((p) => p.leader), topic.topics[0]!.partitions.map((p) => p.leader))

    // A clean stop (SIGTERM) deregisters: the others take over at once, not after the session timeout.
    const stoppingAt = Date.now()
    await brokers[1]!.stop()
    await eventually("broker 2 gone", () => listCluster(b1.port, "events"), (l) =>
      l.brokers.length === 2 && l.topics[0]!.partitions.every((p) => p.leader === 1 || p.leader === 3))
    assert.isBelow(Date.now() - stoppingAt, SESSION_MS)

    // Every broker stopped, one started: the topic is there, all its partitions led by it.
    for (const b of brokers) await b.stop()
    brokers.length = 0
    brokers.push(await startBroker({ properties: propertiesOf(2) }))
    const alone = await eventually("broker 2 alone", () => listCluster(brokers[0]!.port, "events"), (l) =>
      l.brokers.length === 1 && l.topics[0]?.partitions.every((p) => p.leader === 2) === true, SESSION_MS + 10_000)
    assert.strictEqual(alone.topics[0]!.partitions.length, 6)
  }, 120_000)
})
