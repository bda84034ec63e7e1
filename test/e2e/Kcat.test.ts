// librdkafka through kcat against the real broker: list the topics of a KRaft metadata log, produce 200 keyed
// messages with acks=all (some of 20 KiB), consume them back from the beginning, and again after a restart.
import { requireClient } from "../support/Installed.ts"
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { COMPRESSION_MASK, scanBatches } from "../../src/protocol/RecordBatch.ts"
import { makeLogDir, startBroker, writeTopics, type BrokerProcess } from "../support/BrokerProcess.ts"
import { kcat, kcatInstalled } from "../support/Kcat.ts"

interface Consumed {
  readonly offset: number
  readonly key: string
  readonly payload: string
}

const messages = Array.from({ length: 200 }, (_, i) => ({
  key: `key-${i}`,
  // Every tenth message is 20 KiB.
  value: i % 10 === 0 ? `big-${i}-`.padEnd(20 * 1024, String.fromCharCode(97 + (i % 26))) : `value-${i}`
}))

describe("kcat", () => {
  let broker: BrokerProcess | undefined

  afterAll(async () => {
    await broker?.stop()
  })

  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")

  const consumeAll = async (port: number): Promise<Array<Consumed>> => {
    const out = await kcat(["-b", `127.0.0.1:${port}`, "-C", "-t", "orders", "-p", "0", "-o", "beginning", "-e", "-J", "-q"])
    return out.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Consumed)
  }

  it.runIf(kcatInstalled)("lists topics, produces 200 keyed messages with acks=all, consumes them back, and again after a restart", async () => {
    const logDir = makeLogDir()
    await writeTopics(logDir, { orders: 1, payments: 3 })
    broker = await startBroker({ logDir })

    const listing = await kcat(["-b", `127.0.0.1:${broker.port}`, "-L"])
    assert.match(listing, /topic "orders" with 1 partitions/)
    assert.match(listing, /topic "payments" with 3 partitions/)
    assert.match(listing, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${broker.port}`))

    const input = messages.map((m) => `${m.key}\t${m.value}`).join("\n") + "\n"
    await kcat(["-b", `127.0.0.1:${broker.port}`, "-P", "-t", "orders", "-p", "0", "-K", "\t", "-X", "acks=all"], input)

    const expected = messages.map((m, offset) => ({ offset, key: m.key, payload: m.value }))
    const check = (consumed: Array<Consumed>) =>
      assert.deepStrictEqual(consumed.map((c) => ({ offset: c.offset, key: c.key, payload: c.payload })), expected)

    check(await consumeAll(broker.port))

    await broker.stop()
    broker = await startBroker({ logDir })
    check(await consumeAll(broker.port))
    assert.match(await kcat(["-b", `127.0.0.1:${broker.port}`, "-L"]), /topic "orders" with 1 partitions/)
  })

  // librdkafka 2.0 enables lz4 only for brokers that serve FindCoordinator v0 (group support); the
  // @platformatic/kafka tests cover lz4.
  it.runIf(kcatInstalled)("stores and serves batches compressed with gzip, snappy and zstd as sent", async () => {
    const codecs = { gzip: 1, snappy: 2, zstd: 4 } as const
    const logDir = makeLogDir()
    await writeTopics(logDir, Object.fromEntries(Object.keys(codecs).map((c) => [`compressed-${c}`, 1])))
    const compressed = await startBroker({ logDir })
    try {
      for (const [codec, bits] of Object.entries(codecs)) {
        const topic = `compressed-${codec}`
        const values = Array.from({ length: 100 }, (_, n) => `${codec} record ${n} `.repeat(20))
        await kcat(["-b", `127.0.0.1:${compressed.port}`, "-P", "-t", topic, "-p", "0", "-z", codec, "-K", "\t"],
          values.map((v, n) => `k${n}\t${v}`).join("\n") + "\n")
        const out = await kcat(["-b", `127.0.0.1:${compressed.port}`, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-J", "-q"])
        const consumed = out.trim().split("\n").map((l) => JSON.parse(l) as Consumed)
        assert.deepStrictEqual(consumed.map((c) => [c.offset, c.key, c.payload]), values.map((v, n) => [n, `k${n}`, v]))
        // On disk the batches keep the codec the producer chose (attribute bits 0-2).
        const log = readFileSync(join(logDir, `${topic}-0`, "00000000000000000000.log"))
        const codecsOnDisk = new Set<number>()
        scanBatches(new Uint8Array(log), (header) => void codecsOnDisk.add(header.attributes & COMPRESSION_MASK))
        assert.deepStrictEqual([...codecsOnDisk], [bits])
      }
    } finally {
      await compressed.stop()
    }
  })
})
