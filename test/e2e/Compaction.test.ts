// Log compaction end to end, with kafkajs against the broker in process and its data on disk: a compacted topic
// with small segments and a fast cleaner takes thousands of overwrites over a hundred keys; read from the
// beginning, every key's latest value comes once below the active segment, at the offset it was produced at;
// tombstones go after delete.retention.ms; the disk holds less; a consumer group resumes from a committed offset
// the cleaner removed; all of it again after a restart. A record without a key is refused (87). And the
// broker's own __consumer_offsets stays small under 20,000 commits of one group.
import { Kafka, logLevel, type Producer } from "kafkajs"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { RawClient } from "../../src/client/RawClient.ts"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import { OffsetCommit } from "../../src/protocol/messages/OffsetCommit.ts"
import { OffsetFetch } from "../../src/protocol/messages/OffsetFetch.ts"
import { until } from "../support/Until.ts"

const TOPIC = "table"
const KEYS = 100
const ROUNDS = 30
const SEGMENT_BYTES = 16 * 1024
const DELETE_RETENTION_MS = 3000

let logDir: string
let broker: RunningBroker
let kafka: Kafka
let producer: Producer

const start = () =>
  startBroker({
    storage: "disk",
    logDir,
    logLevel: "Error",
    config: {
      // A cleaner that looks every 200 ms, and files of replaced segments removed at once.
      "log.cleaner.backoff.ms": "200",
      "log.segment.delete.delay.ms": "0",
      "offsets.topic.segment.bytes": String(SEGMENT_BYTES),
      "log.cleaner.min.cleanable.ratio": "0.1"
    }
  })

const connect = async () => {
  kafka = new Kafka({ clientId: "compaction-e2e", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } })
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
}

const restart = async () => {
  await producer.disconnect()
  await broker.close()
  broker = await start()
  await connect()
}

// kafkajs 2.2.4 arms a timer for `throttledUntil - Date.now()` while `throttledUntil` is still -1, for which Node
// prints a TimeoutNegativeWarning: client noise, filtered for this file only.
const warningListeners = process.listeners("warning")

beforeAll(async () => {
  process.removeAllListeners("warning")
  process.on("warning", (w) => {
    if (w.name !== "TimeoutNegativeWarning") for (const l of warningListeners) l(w)
  })
  logDir = mkdtempSync(join(tmpdir(), "compaction-e2e-"))
  broker = await start()
  await connect()
})

afterAll(async () => {
  await producer?.disconnect()
  await broker?.close()
  rmSync(logDir, { recursive: true, force: true })
  process.removeAllListeners("warning")
  for (const l of warningListeners) process.on("warning", l)
})

const partitionDir = (name: string) => join(logDir, name)
const logBytes = (name: string) => readdirSync(partitionDir(name)).filter((f) => f.endsWith(".log")).reduce((n, f) => n + statSync(join(partitionDir(name), f)).size, 0)
const cleanedUpTo = (name: string): number => {
  const text = (() => {
    try {
      return readFileSync(join(logDir, "cleaner-offset-checkpoint"), "utf8")
    } catch {
      return ""
    }
  })()
  const line = text.split("\n").find((l) => l.startsWith(`${name.replace(/-(\d+)$/, " $1")} `))
  return line === undefined ? -1 : Number(line.split(" ")[2])
}

interface Produced {
  readonly offset: number
  readonly key: string
  readonly value: string | null
}
const produced: Array<Produced> = []

/** Sends `entries` as one batch; records what was written at which offset. */
const send = async (entries: ReadonlyArray<readonly [string, string | null]>) => {
  const [meta] = await producer.send({ topic: TOPIC, messages: entries.map(([key, value]) => ({ key, value })) })
  const base = Number(meta!.baseOffset)
  entries.forEach(([key, value], i) => produced.push({ offset: base + i, key, value }))
}

/**
 * Where the cleaner has cleaned up to once it has nothing more to do: unchanged for a second (five backoffs).
 * What a reader sees below it is then fixed; reading while it still moves would race the cleaner.
 */
const settled = async (name: string): Promise<number> => {
  let last = cleanedUpTo(name)
  let since = Date.now()
  await until(`the cleaner of ${name} to settle`, () => {
    const now = cleanedUpTo(name)
    if (now !== last) {
      last = now
      since = Date.now()
    }
    return Date.now() - since >= 1000
  }, 30_000)
  return last
}

/** Everything from the beginning up to the log end, with a fresh consumer group. */
const readAll = async (groupId: string, from?: number) => {
  const admin = kafka.admin()
  await admin.connect()
  const [end] = await admin.fetchTopicOffsets(TOPIC)
  const high = Number(end!.high)
  if (from !== undefined) await admin.setOffsets({ groupId, topic: TOPIC, partitions: [{ partition: 0, offset: String(from) }] })
  await admin.disconnect()
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  const seen: Array<Produced> = []
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ offset: Number(message.offset), key: message.key!.toString(), value: message.value === null ? null : message.value.toString() })
      if (Number(message.offset) >= high - 1) done()
    }
  })
  await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`read ${seen.length} records, not up to ${high}`)), 20_000))])
  await consumer.disconnect()
  return seen
}

/** What a reader must see below `upTo`: each key's last record there, at its offset, tombstones aside. */
const expectCompacted = (seen: ReadonlyArray<Produced>, upTo: number, tombstones: "kept" | "gone") => {
  const latest = new Map<string, Produced>()
  for (const p of produced) if (p.offset < upTo) latest.set(p.key, p)
  const expected = [...latest.values()]
    .filter((p) => p.value !== null || tombstones === "kept")
    .sort((a, b) => a.offset - b.offset)
  expect(seen.filter((s) => s.offset < upTo)).toEqual(expected)
  // Above it, the active section as produced.
  expect(seen.filter((s) => s.offset >= upTo)).toEqual(produced.filter((p) => p.offset >= upTo && p.offset <= seen.at(-1)!.offset))
}

describe("a compacted topic", () => {
  test("keeps every key's latest value at its offset, removes tombstones after delete.retention.ms, and frees disk", async () => {
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({
      topics: [{
        topic: TOPIC,
        numPartitions: 1,
        configEntries: [
          { name: "cleanup.policy", value: "compact" },
          { name: "segment.bytes", value: String(SEGMENT_BYTES) },
          { name: "min.cleanable.dirty.ratio", value: "0.01" },
          { name: "delete.retention.ms", value: String(DELETE_RETENTION_MS) }
        ]
      }]
    })
    await admin.disconnect()

    // A record without a key is refused on a compacted topic (INVALID_RECORD, in kafkajs's words).
    await expect(producer.send({ topic: TOPIC, messages: [{ value: "no key" }] })).rejects.toThrow(/failed the validation on broker/)

    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < KEYS; k += 10) {
        await send(Array.from({ length: 10 }, (_, i) => [`key-${k + i}`, `value ${round} of key-${k + i} `.padEnd(80, "+")] as const))
      }
    }
    // Tombstones for ten keys, then more overwrites of the others so that the tombstones get cleaned.
    await send(Array.from({ length: 10 }, (_, i) => [`key-${i}`, null] as const))
    const tombstones = produced.length
    for (let round = 0; round < 40; round++) {
      await send(Array.from({ length: 10 }, (_, i) => [`key-${50 + i}`, `late ${round}`.padEnd(80, "+")] as const))
    }
    const producedBytes = logBytes(`${TOPIC}-0`)
    await until("the cleaner has cleaned past the tombstones", () => cleanedUpTo(`${TOPIC}-0`) > tombstones)
    await until("replaced segments are removed", () => logBytes(`${TOPIC}-0`) < producedBytes / 3)

    const upTo = await settled(`${TOPIC}-0`)
    const seen = await readAll("reader-1")
    expectCompacted(seen, upTo, "kept")
    expect(seen.filter((s) => s.value === null).map((s) => s.key).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `key-${i}`).sort())

    // Past delete.retention.ms, the next clean (more overwrites make the log dirty) removes the tombstones.
    await new Promise((r) => setTimeout(r, DELETE_RETENTION_MS + 200))
    for (let round = 0; round < 40; round++) await send(Array.from({ length: 10 }, (_, i) => [`key-${60 + i}`, `later ${round}`.padEnd(80, "+")] as const))
    await until("a clean after the horizon", () => cleanedUpTo(`${TOPIC}-0`) > upTo)
    const cleaned = await settled(`${TOPIC}-0`)
    const after = await readAll("reader-2")
    const tombstonesLeft = after.filter((s) => s.value === null && s.offset < cleaned)
    expect(tombstonesLeft).toEqual([])
    expectCompacted(after, cleaned, "gone")
  }, 90_000)

  test("a consumer group resumes from a committed offset the cleaner removed, also after a restart", async () => {
    // Offset 5 (key-5, round 0) was overwritten and cleaned away.
    const upTo = await settled(`${TOPIC}-0`)
    const resumed = await readAll("resumer", 5)
    expect(resumed[0]!.offset).toBeGreaterThan(5)
    expectCompacted(resumed.map((r) => r), upTo, "gone")
    expect(resumed).toEqual((await readAll("reader-3")).filter((r) => r.offset > 5))

    await restart()
    const again = await (async () => {
      const upToAgain = await settled(`${TOPIC}-0`)
      const read = await readAll("after-restart")
      expectCompacted(read, upToAgain, "gone")
      return read
    })()
    const resumedAgain = await readAll("resumer-2", 5)
    expect(resumedAgain).toEqual(again.filter((r) => r.offset > 5))
  }, 90_000)
})

describe("__consumer_offsets", () => {
  test("stays small under 20,000 commits of one group, and keeps the latest", async () => {
    const client = await RawClient.connect(broker.port)
    const COMMITS = 20_000
    const WINDOW = 200
    for (let sent = 0; sent < COMMITS; sent += WINDOW) {
      for (let i = 0; i < WINDOW; i++) {
        client.send(OffsetCommit, 2, {
          groupId: "busy",
          generationIdOrMemberEpoch: -1,
          memberId: "",
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: sent + i, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: "" }] }]
        })
      }
      for (let i = 0; i < WINDOW; i++) expect((await client.next())!.frame.length).toBeGreaterThan(0)
    }
    const bytesUncleaned = COMMITS * 100
    await until("the offsets log is compacted", () => logBytes("__consumer_offsets-0") < 4 * SEGMENT_BYTES, 30_000)
    expect(logBytes("__consumer_offsets-0")).toBeLessThan(bytesUncleaned / 10)
    const fetched = await client.request(OffsetFetch, 1, { groupId: "busy", topics: [{ name: TOPIC, partitionIndexes: [0] }], groups: [], requireStable: false })
    expect(Number(fetched.topics[0]!.partitions[0]!.committedOffset)).toBe(COMMITS - 1)
    client.close()
    // And after a restart, replayed from the compacted log.
    await restart()
    const after = await RawClient.connect(broker.port)
    const replayed = await after.request(OffsetFetch, 1, { groupId: "busy", topics: [{ name: TOPIC, partitionIndexes: [0] }], groups: [], requireStable: false })
    expect(Number(replayed.topics[0]!.partitions[0]!.committedOffset)).toBe(COMMITS - 1)
    after.close()
  }, 90_000)
})
