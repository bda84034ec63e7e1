// The storage on a real disk, through kcat: small segments rolled with their indexes, a clean SIGTERM shutdown
// that leaves the marker and recovery points, reads from the middle after a restart, and a SIGKILL crash with a
// torn tail after which every acknowledged record is still served and producing continues where it stopped.
import { requireClient } from "../support/Installed.ts"
import { assert, describe, it } from "@effect/vitest"
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { makeLogDir, startBroker, writeTopics, type BrokerProcess } from "../support/BrokerProcess.ts"
import { kcat, kcatInstalled } from "../support/Kcat.ts"

interface Consumed {
  readonly offset: number
  readonly key: string
  readonly payload: string
}

const valueOf = (n: number) => `record ${n} `.padEnd(400, String.fromCharCode(97 + (n % 26)))

/** Produces records [from, to) with acks=all, in runs of 50 (each run a request or a few). */
const produce = async (port: number, from: number, to: number) => {
  for (let start = from; start < to; start += 50) {
    const lines = []
    for (let n = start; n < Math.min(to, start + 50); n++) lines.push(`k${n}\t${valueOf(n)}`)
    await kcat(["-b", `127.0.0.1:${port}`, "-P", "-t", "events", "-p", "0", "-K", "\t", "-X", "acks=all"], lines.join("\n") + "\n")
  }
}

const consumeFrom = async (port: number, offset: number | "beginning"): Promise<Array<Consumed>> => {
  const out = await kcat(["-b", `127.0.0.1:${port}`, "-C", "-t", "events", "-p", "0", "-o", String(offset), "-e", "-J", "-q"])
  return out.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Consumed)
}

const expectRecords = (consumed: ReadonlyArray<Consumed>, from: number, to: number) =>
  assert.deepStrictEqual(
    consumed.map((c) => [c.offset, c.key, c.payload]),
    Array.from({ length: to - from }, (_, i) => [from + i, `k${from + i}`, valueOf(from + i)])
  )

describe("durability on disk", () => {
  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")
  let broker: BrokerProcess | undefined

  afterAll(async () => {
    await broker?.stop()
  })

  it.runIf(kcatInstalled)("rolls segments with indexes, restarts cleanly from checkpoints, and keeps every acknowledged record across a crash", async () => {
    const logDir = makeLogDir()
    const dir = join(logDir, "events-0")
    const properties = { "log.segment.bytes": "16384", "log.index.interval.bytes": "1024" }
    await writeTopics(logDir, { events: 1 })
    broker = await startBroker({ logDir, properties })
    await produce(broker.port, 0, 300)

    // Segments named by their base offset, each with its offset and time index.
    const segments = () => readdirSync(dir).filter((f) => f.endsWith(".log")).sort()
    const rolled = segments()
    assert.isAtLeast(rolled.length, 4, `segments: ${rolled.join(", ")}`)
    assert.strictEqual(rolled[0], "00000000000000000000.log")
    for (const log of rolled) assert.match(log, /^\d{20}\.log$/)

    assert.strictEqual(await broker.stop(), 0)
    assert.isTrue(existsSync(join(logDir, ".kafka_cleanshutdown")), "the clean-shutdown marker")
    assert.match(readFileSync(join(logDir, "recovery-point-offset-checkpoint"), "utf8"), /^events 0 300$/m)
    for (const log of rolled) {
      const base = log.slice(0, 20)
      assert.isTrue(existsSync(join(dir, `${base}.index`)) && existsSync(join(dir, `${base}.timeindex`)), `indexes of ${base}`)
    }

    broker = await startBroker({ logDir, properties })
    assert.isFalse(existsSync(join(logDir, ".kafka_cleanshutdown")), "the marker goes while the broker runs")
    expectRecords(await consumeFrom(broker.port, "beginning"), 0, 300)
    // A read from the middle of the third segment starts at exactly that record.
    const third = Number(rolled[2]!.slice(0, 20))
    expectRecords(await consumeFrom(broker.port, third + 3), third + 3, 300)

    // A crash after acknowledged appends, then half a batch written by a dying process.
    await produce(broker.port, 300, 400)
    await broker.kill()
    const active = segments().at(-1)!
    appendFileSync(join(dir, active), Buffer.alloc(37, 7))

    broker = await startBroker({ logDir, properties })
    assert.match(broker.output(), /truncat/i, "the torn tail is cut with a log line")
    expectRecords(await consumeFrom(broker.port, "beginning"), 0, 400)
    await produce(broker.port, 400, 450)
    expectRecords(await consumeFrom(broker.port, 390), 390, 450)
  })
})
