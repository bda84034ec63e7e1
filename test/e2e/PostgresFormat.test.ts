// `your_program.sh format -t <cluster id>` with storage.url formats the database: the brokers over it answer
// that cluster id, and formatting it again for another cluster is refused with the one it holds.
import { execFile } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"

const CLUSTER_ID = "pg-format-cluster-0001"

describe("format with storage.url", () => {
  requirePostgres()
  let pg: Postgres | undefined
  let broker: BrokerProcess | undefined

  beforeAll(async () => {
    if (postgresInstalled) pg = await startPostgres()
  }, 60_000)

  afterAll(async () => {
    await broker?.stop()
    await pg?.stop()
  })

  it.runIf(postgresInstalled)("stores the cluster id in the database and refuses another one", async () => {
    const properties = { "node.id": "1", "storage.url": await pg!.createDatabase(), "listeners": "PLAINTEXT://127.0.0.1:0" }
    const dir = mkdtempSync(join(tmpdir(), "pg-format-"))
    const config = join(dir, "server.properties")
    writeFileSync(config, Object.entries({ ...properties, "log.dirs": join(dir, "logs") }).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")
    const format = (id: string) => promisify(execFile)("./your_program.sh", ["format", "-c", config, "-t", id])

    const { stdout } = await format(CLUSTER_ID)
    assert.include(stdout, "formatted the database of storage.url")
    assert.notInclude(stdout, "postgresql://", "the URL (and its password) is not printed")

    broker = await startBroker({ properties })
    const admin = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      assert.strictEqual((await admin.describeCluster()).clusterId, CLUSTER_ID)
    } finally {
      await admin.disconnect()
    }

    const refused = await format("another-cluster-00001").then(() => undefined, (e: { code: number; stderr: string }) => e)
    assert.strictEqual(refused?.code, 1)
    assert.include(refused?.stderr, `belongs to cluster ${CLUSTER_ID}, not another-cluster-00001`)
    // Formatting it again for its own cluster is fine.
    await format(CLUSTER_ID)
  }, 60_000)
})
