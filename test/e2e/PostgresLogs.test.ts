// The partition logs over PostgreSQL end to end: two broker processes over one database (storage.url), records
// produced with kcat through each partition's leader; the broker leading half of them killed with SIGKILL; the
// other, leading everything within the session timeout, serves every acknowledged record exactly once from the
// database and continues the offsets; the killed one restarted (with a fresh, empty log dir) serves them too.
import { assert, describe, it } from "vitest"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { requireClient } from "../support/Installed.ts"
import { kcat, kcatInstalled, listCluster } from "../support/Kcat.ts"
import { eventually } from "../support/Until.ts"
import { postgresInstalled, requirePostgres } from "../support/Postgres.ts"
import { postgresBrokers } from "../support/PostgresBrokers.ts"

const SESSION_MS = 2000
const PARTITIONS = 4




/** Every record of the partition, read through the broker at `port`. */
const consume = async (port: number, partition: number): Promise<Array<string>> => {
  const out = await kcat(["-b", `127.0.0.1:${port}`, "-C", "-t", "moves", "-p", String(partition), "-o", "beginning", "-e", "-q", "-f", "%o %s\\n"])
  return out.split("\n").filter((l) => l !== "")
}

describe("partition logs over PostgreSQL", () => {
  requirePostgres()
  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")
  const ready = postgresInstalled && kcatInstalled
  const { brokers, propertiesOf } = postgresBrokers({ ready, count: 2, sessionTimeoutMs: SESSION_MS, properties: { "num.partitions": String(PARTITIONS) } })

  it.runIf(ready)("a killed broker's partitions are served by the other from the database, every record once, offsets continuing", async () => {
    const [b1, b2] = brokers as [BrokerProcess, BrokerProcess]
    await eventually("two brokers", () => listCluster(b1.port, "moves"), (l) => l.brokers.length === 2)
    await kcat(["-b", `127.0.0.1:${b1.port}`, "-P", "-t", "moves", "-p", "0"], "created\n").catch(() => undefined)
    const topic = await eventually("moves created", () => listCluster(b2.port, "moves"), (l) => l.topics[0]?.partitions.length === PARTITIONS)
    const ledBy2 = topic.topics[0]!.partitions.filter((p) => p.leader === 2).map((p) => p.partition)
    assert.isAbove(ledBy2.length, 0, "broker 2 leads some partitions")

    // Produced through broker 2 (librdkafka sends each partition's to its leader), acks=all.
    const expected = new Map<number, Array<string>>()
    for (let p = 0; p < PARTITIONS; p++) {
      const values = Array.from({ length: 20 }, (_, i) => `p${p}-${i}`)
      await kcat(["-b", `127.0.0.1:${b2.port}`, "-P", "-t", "moves", "-p", String(p), "-X", "acks=all"], values.join("\n") + "\n")
      expected.set(p, values)
    }
    const before = new Map<number, Array<string>>()
    for (let p = 0; p < PARTITIONS; p++) before.set(p, await consume(b1.port, p))

    await b2.kill()
    await eventually("broker 2's partitions led by broker 1", () => listCluster(b1.port, "moves"), (l) =>
      l.brokers.length === 1 && l.topics[0]!.partitions.every((p) => p.leader === 1), SESSION_MS + 10_000)

    for (let p = 0; p < PARTITIONS; p++) {
      const records = await consume(b1.port, p)
      // The same records at the same offsets, each once.
      assert.deepStrictEqual(records, before.get(p), `partition ${p}`)
      const values = records.map((r) => r.slice(r.indexOf(" ") + 1)).filter((v) => v !== "created")
      assert.deepStrictEqual(values, expected.get(p), `partition ${p}`)
    }
    // Appends to a moved partition continue its offsets.
    const moved = ledBy2[0]!
    await kcat(["-b", `127.0.0.1:${b1.port}`, "-P", "-t", "moves", "-p", String(moved), "-X", "acks=all"], "after\n")
    const after = await consume(b1.port, moved)
    assert.strictEqual(after.length, before.get(moved)!.length + 1)
    assert.strictEqual(after.at(-1), `${before.get(moved)!.length} after`)

    // Broker 2 back, with a new empty log dir: it leads its partitions again and serves them from the database.
    brokers[1] = await startBroker({ properties: propertiesOf(2) })
    await eventually("broker 2 leads again", () => listCluster(b1.port, "moves"), (l) =>
      l.brokers.length === 2 && l.topics[0]!.partitions.some((p) => p.leader === 2), SESSION_MS + 10_000)
    assert.deepStrictEqual(await consume(brokers[1]!.port, moved), after)
  }, 120_000)
})
