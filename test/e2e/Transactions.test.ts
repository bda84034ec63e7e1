// Transactions end to end, with real clients over TCP: kafkajs 2.2.4, confluent-kafka 1.7.0 on librdkafka 2.0.2
// (test/e2e/python/confluent_kafka_txn.py) and @platformatic/kafka 2.12. Each commits and aborts transactions
// over several partitions; read_committed consumers must see exactly the committed records, read_uncommitted
// ones the aborted records too, and neither ever a control batch (the markers take offsets: the offsets handed
// to the application have gaps where they are). Consume-transform-produce loops send their consumer's offsets
// in the transaction: the group's committed offsets move when it commits, not when it aborts. A producer
// killed with SIGKILL in the middle of a transaction holds read_committed consumers at its first offset until
// the coordinator aborts it after its timeout; a second producer with the same transactional id fences the
// first. Restarts (clean, SIGKILL of a broker process, and a broker that could log its commit decision but
// not write the markers) keep every record exactly once or not at all, as the outcome says.
//
// One client bug is pinned with test.fails: @platformatic/kafka's read_committed filter keeps only the last
// aborted transaction of each producer id in a Fetch response, so the records of an earlier aborted
// transaction of the same producer reach the application (the broker's aborted_transactions list is right).
import { Effect, FileSystem, Layer, Logger, ManagedRuntime, References } from "effect"
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer as PlatformaticProducer } from "@platformatic/kafka"
import { Kafka, logLevel } from "kafkajs"
import type { Consumer as KafkajsConsumer, Producer } from "kafkajs"
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it, test } from "vitest"
import { startBroker, type RunningBroker } from "../../src/index.ts"
import * as Broker from "../../src/layers/Broker.ts"
import * as NodeFileSystem from "../../src/layers/fs/NodeFileSystem.ts"
import { CONTROL, decodeRecords, scanBatches, TRANSACTIONAL } from "../../src/protocol/RecordBatch.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { Listener } from "../../src/services/network/Listener.ts"
import * as BrokerProcess from "../support/BrokerProcess.ts"
import { startFaultProxy } from "../support/FaultProxy.ts"
import { faulty } from "../support/FaultyFileSystem.ts"
import { requireClient } from "../support/Installed.ts"
import { type LogLine } from "../support/Logs.ts"
import { killScripts, PYTHON, pythonHas, runScript } from "../support/PythonClients.ts"
import { filterWarnings, restoreWarnings } from "../support/KafkajsWarnings.ts"

const pythonInstalled = pythonHas("confluent_kafka")
const TXN_SCRIPT = "confluent_kafka_txn.py"
/** How often the coordinator looks for transactions open past their timeout (Kafka's default: 10 s). */
const ABORT_INTERVAL_MS = "500"
const MAX_TIMEOUT_MS = 60_000
const brokerConfig = {
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": ABORT_INTERVAL_MS,
  "transaction.max.timeout.ms": String(MAX_TIMEOUT_MS),
  "group.initial.rebalance.delay.ms": "0"
}

let broker: RunningBroker
let kafka: Kafka
/** Directories and brokers the tests made, for afterAll. */
const dirs: Array<string> = []
const cleanups: Array<() => Promise<unknown>> = []


const kafkaFor = (bootstrap: string, clientId = "kafkajs-txn-e2e") =>
  new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } })

beforeAll(async () => {
  filterWarnings()
  broker = await startBroker({ storage: "disk", logLevel: "Error", config: brokerConfig })
  dirs.push(broker.logDir)
  kafka = kafkaFor(broker.bootstrap)
})

afterAll(async () => {
  killScripts()
  for (const session of sessions) session.kill()
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  await broker?.close()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  restoreWarnings()
})

// ---------------------------------------------------------------------------------------------------------
// Records, as every client's are compared

interface Rec {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: string | null
}

/** "partition@offset key=value", sorted by partition and offset: a diff shows at once what is missing or extra. */
const listing = (records: ReadonlyArray<Rec>): Array<string> =>
  [...records]
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    .map((r) => `${r.partition}@${r.offset} ${r.key}=${r.value}`)

const offsetsOf = (records: ReadonlyArray<Rec>, partition: number) =>
  records.filter((r) => r.partition === partition).map((r) => r.offset).sort((a, b) => a - b)

/** The control batches (markers) in a partition's log files: offset and whether it commits. */
const markersOnDisk = (logDir: string, topic: string, partition: number) => {
  const dir = join(logDir, `${topic}-${partition}`)
  const markers: Array<{ offset: number; commit: boolean; transactional: boolean }> = []
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".log")).sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, file)))
    scanBatches(bytes, (header, position) => {
      if ((header.attributes & CONTROL) === 0) return
      for (const record of decodeRecords(bytes.subarray(position, position + header.size))) {
        // The control record's key: version (int16), type (int16: 0 abort, 1 commit).
        const type = new DataView(record.key!.buffer, record.key!.byteOffset).getInt16(2)
        markers.push({ offset: record.offset, commit: type === 1, transactional: (header.attributes & TRANSACTIONAL) !== 0 })
      }
    })
  }
  return markers
}

// ---------------------------------------------------------------------------------------------------------
// kafkajs

const transactionalProducer = async (client: Kafka, transactionalId: string, transactionTimeout = 30_000) => {
  const producer = client.producer({ transactionalId, transactionTimeout, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  return producer
}

type KafkajsTransaction = Awaited<ReturnType<Producer["transaction"]>>

/** Sends records (each with its partition) in a transaction and works out their offsets from the base offsets. */
const sendInTransaction = async (
  txn: KafkajsTransaction | Producer,
  topic: string,
  records: ReadonlyArray<{ readonly partition: number; readonly key: string; readonly value: string }>
): Promise<Array<Rec>> => {
  const metadata = await txn.send({ topic, acks: -1, messages: records.map((r) => ({ ...r })) })
  return placed(records, new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)])))
}

/** Records sent in one request, placed from each partition's base offset: one batch per partition, in order. */
const placed = (
  records: ReadonlyArray<{ readonly partition: number; readonly key: string; readonly value: string }>,
  base: ReadonlyMap<number, number>
): Array<Rec> => {
  const seen = new Map<number, number>()
  return records.map((r) => {
    const index = seen.get(r.partition) ?? 0
    seen.set(r.partition, index + 1)
    return { partition: r.partition, offset: base.get(r.partition)! + index, key: r.key, value: r.value }
  })
}

/** The same without a transaction, by a plain producer. */
const sendPlain = async (client: Kafka, topic: string, records: Parameters<typeof sendInTransaction>[2]) => {
  const producer = client.producer()
  await producer.connect()
  try {
    return await sendInTransaction(producer, topic, records)
  } finally {
    await producer.disconnect()
  }
}

const tagged = (tag: string, partitions: ReadonlyArray<number>, perPartition = 2) =>
  partitions.flatMap((partition) =>
    Array.from({ length: perPartition }, (_, i) => ({ partition, key: `${tag}-${partition}-${i}`, value: `${tag} ${partition}.${i}` })))

/** Fetches that must come back with nothing new before a consumer is taken to have seen everything. */
const QUIET_FETCHES = 3

/**
 * A kafkajs group consumer (its own group, from the beginning) that reads `topic` until `count` records came
 * and a few more fetches brought nothing else; what it got, or after `timeoutMs` what it had by then.
 */
const consumeWithKafkajs = async (
  client: Kafka,
  topic: string,
  count: number,
  options: { readonly readUncommitted?: boolean; readonly timeoutMs?: number } = {}
): Promise<Array<Rec>> => {
  const consumer: KafkajsConsumer = client.consumer({
    groupId: `reader-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 500
  })
  const got: Array<Rec> = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(resolvePromise, options.timeoutMs ?? 10_000)
      let quiet = 0
      consumer.on(consumer.events.FETCH, () => {
        if (got.length >= count && ++quiet >= QUIET_FETCHES) {
          clearTimeout(timer)
          resolvePromise()
        }
      })
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          quiet = 0
          got.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, value: message.value?.toString() ?? null })
        }
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return got
}

const committedOffsets = (client: Kafka, groupId: string, topic: string) =>
  withAdmin(client, async (admin) =>
    Object.fromEntries((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => [p.partition, Number(p.offset)])))

const withAdmin = async <A>(client: Kafka, f: (admin: ReturnType<Kafka["admin"]>) => Promise<A>): Promise<A> => {
  const admin = client.admin()
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------------------
// confluent-kafka: a transactional producer driven step by step, and consumers

interface StepAnswer {
  readonly op: string
  readonly error?: { name: string; code: number; message: string; fatal: boolean; retriable: boolean; abortable: boolean }
  readonly delivered?: Array<{ index: number; partition?: number; offset?: number; error?: StepAnswer["error"] | null | string }>
  readonly remaining?: number
  readonly client_errors?: Array<NonNullable<StepAnswer["error"]>>
  readonly ms: number
}

interface Session {
  readonly step: (step: Record<string, unknown>) => Promise<StepAnswer>
  /** Sends a step and fails the test unless the client answered without an error. */
  readonly ok: (step: Record<string, unknown>) => Promise<StepAnswer>
  /** Produces the records and flushes: where each went (all must be delivered). */
  readonly produce: (topic: string, records: ReadonlyArray<{ partition: number; key: string; value: string }>) => Promise<Array<Rec>>
  /** SIGKILL: the producer dies with whatever it had open. */
  readonly kill: () => void
  readonly close: () => Promise<void>
}

const sessions = new Set<Session>()

/** A confluent-kafka transactional producer in its own process (the `session` command of the script). */
const openSession = (bootstrap: string, config: Record<string, unknown>): Session => {
  const script = resolve(import.meta.dirname, "python", TXN_SCRIPT)
  const child: ChildProcess = spawn(PYTHON, [script, bootstrap, "session", JSON.stringify({ config })], { stdio: ["pipe", "pipe", "pipe"] })
  let buffered = ""
  let stderr = ""
  const lines: Array<string> = []
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = []
  const exited = new Promise<void>((r) => child.once("exit", () => r()))
  child.stdout!.on("data", (d) => {
    buffered += d
    let at: number
    while ((at = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, at)
      buffered = buffered.slice(at + 1)
      const waiter = waiting.shift()
      if (waiter !== undefined) waiter.resolve(line)
      else lines.push(line)
    }
  })
  child.stderr!.on("data", (d) => (stderr += d))
  child.once("exit", (code, signal) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`session exited with ${code ?? signal}:\n${stderr}`))
  })
  child.stdin!.on("error", () => {})
  const nextLine = () =>
    new Promise<string>((resolveLine, reject) => {
      const line = lines.shift()
      if (line !== undefined) return resolveLine(line)
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`session is gone:\n${stderr}`))
      waiting.push({ resolve: resolveLine, reject })
    })
  const step = async (s: Record<string, unknown>): Promise<StepAnswer> => {
    child.stdin!.write(JSON.stringify(s) + "\n")
    return JSON.parse(await nextLine()) as StepAnswer
  }
  const session: Session = {
    step,
    ok: async (s) => {
      const answer = await step(s)
      expect(answer.error, `${s["op"]}: ${JSON.stringify(answer)}\n${stderr}`).toBeUndefined()
      return answer
    },
    produce: async (topic, records) => {
      await session.ok({ op: "produce", topic, records })
      const flushed = await session.ok({ op: "flush" })
      expect(flushed.delivered!.every((d) => d.error === undefined), JSON.stringify(flushed)).toBe(true)
      return flushed.delivered!.map((d) => ({ partition: d.partition!, offset: d.offset!, key: records[d.index]!.key, value: records[d.index]!.value }))
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    },
    close: async () => {
      child.stdin!.end(JSON.stringify({ op: "exit" }) + "\n")
      await exited
      sessions.delete(session)
    }
  }
  sessions.add(session)
  return session
}

interface PythonRead {
  /** What ListOffsets answered at the consumer's isolation level (read_committed: the last stable offset). */
  readonly ends: Record<string, number>
  readonly records: Array<Rec>
  /** Where the consumer stood at the end of every partition. */
  readonly positions: Record<string, number>
}

/** Every record a confluent-kafka consumer at this isolation level is given, by assignment (no group). */
const consumeWithPython = async (bootstrap: string, topic: string, isolation: "read_committed" | "read_uncommitted"): Promise<PythonRead> => {
  const { lines } = await runScript(TXN_SCRIPT, bootstrap, "consume", { topic, isolation })
  const [ends, ...rest] = lines
  const positions = rest.pop()
  return { ends: ends.end_offsets, records: rest as Array<Rec>, positions: positions.positions }
}

// ---------------------------------------------------------------------------------------------------------

describe("kafkajs 2.2.4", () => {
  test("commits and aborts across partitions: read_committed sees the committed records, read_uncommitted all, no markers", async () => {
    const topic = "kjs-txn"
    await broker.createTopic(topic, { partitions: 3 })
    const producer = await transactionalProducer(kafka, "kjs-txn-producer")
    const sent: Record<string, Array<Rec>> = {}
    try {
      for (const [tag, partitions, outcome] of [
        ["first", [0, 1, 2], "commit"],
        ["aborted", [0, 1], "abort"],
        ["second", [0, 2], "commit"]
      ] as const) {
        const txn = await producer.transaction()
        sent[tag] = await sendInTransaction(txn, topic, tagged(tag, partitions))
        await (outcome === "commit" ? txn.commit() : txn.abort())
      }
    } finally {
      await producer.disconnect()
    }
    const committed = [...sent["first"]!, ...sent["second"]!]
    const everything = [...committed, ...sent["aborted"]!]

    // Each transaction ended with one marker in every partition it wrote to, right after its records.
    expect(offsetsOf(sent["first"]!, 0)).toEqual([0, 1])
    expect(offsetsOf(sent["aborted"]!, 0)).toEqual([3, 4])
    expect(offsetsOf(sent["second"]!, 0)).toEqual([6, 7])
    expect(markersOnDisk(broker.logDir, topic, 0)).toEqual([
      { offset: 2, commit: true, transactional: true },
      { offset: 5, commit: false, transactional: true },
      { offset: 8, commit: true, transactional: true }
    ])
    expect(markersOnDisk(broker.logDir, topic, 1).map((m) => [m.offset, m.commit])).toEqual([[2, true], [5, false]])
    expect(markersOnDisk(broker.logDir, topic, 2).map((m) => [m.offset, m.commit])).toEqual([[2, true], [5, true]])

    // kafkajs reads read_committed by default: the committed records, each at the offset it was written to, the
    // offsets of the markers and of the aborted records skipped.
    const readCommitted = await consumeWithKafkajs(kafka, topic, committed.length)
    expect(listing(readCommitted)).toEqual(listing(committed))
    expect(offsetsOf(readCommitted, 0)).toEqual([0, 1, 6, 7])
    const readUncommitted = await consumeWithKafkajs(kafka, topic, everything.length, { readUncommitted: true })
    expect(listing(readUncommitted)).toEqual(listing(everything))
    expect(offsetsOf(readUncommitted, 0)).toEqual([0, 1, 3, 4, 6, 7])
    // Never an empty message, a marker or a record twice.
    expect(readUncommitted.every((r) => r.value !== null && r.value !== "")).toBe(true)

    // The end offsets count the markers.
    const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic))
    expect(ends.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high))).toEqual([9, 6, 6])
  })

  test("consume-transform-produce with sendOffsets: the group's offsets move when the transaction commits, not when it aborts", async () => {
    const input = "kjs-ctp-in"
    const output = "kjs-ctp-out"
    const groupId = "kjs-ctp"
    await broker.createTopic(input, { partitions: 2 })
    await broker.createTopic(output, { partitions: 2 })
    const inputs = await sendPlain(kafka, input, tagged("in", [0, 1], 3))
    const producer = await transactionalProducer(kafka, "kjs-ctp-producer")

    /**
     * One pass of the loop over everything the group has not committed: each batch copied to `output` in a
     * transaction that also sends the consumer's offsets, and ended with `outcome`.
     */
    const pass = async (outcome: "commit" | "abort", expecting: number) => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 })
      const copied: Array<Rec> = []
      await consumer.connect()
      try {
        await consumer.subscribe({ topics: [input], fromBeginning: true })
        await new Promise<void>((resolvePromise, reject) => {
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
          void consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const txn = await producer.transaction()
              const records = batch.messages.map((m) => ({ partition: batch.partition, key: m.key!.toString(), value: `copied ${m.value}` }))
              copied.push(...await sendInTransaction(txn, output, records))
              await txn.sendOffsets({
                consumerGroupId: groupId,
                topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }]
              })
              await (outcome === "commit" ? txn.commit() : txn.abort())
              if (copied.length >= expecting) resolvePromise()
            }
          }).catch(reject)
        })
      } finally {
        await consumer.disconnect()
      }
      return copied
    }

    try {
      // Aborted: the copies are in the log but read_committed consumers never see them, and the group has
      // still committed nothing, so the next pass reads the same records again.
      const aborted = await pass("abort", inputs.length)
      expect(aborted).toHaveLength(inputs.length)
      expect(await committedOffsets(kafka, groupId, input)).toEqual({ 0: -1, 1: -1 })
      expect(await consumeWithKafkajs(kafka, output, 0)).toEqual([])

      const copies = await pass("commit", inputs.length)
      expect(copies.map((c) => c.value).sort()).toEqual(inputs.map((r) => `copied ${r.value}`).sort())
      expect(await committedOffsets(kafka, groupId, input)).toEqual({ 0: 3, 1: 3 })
      expect(listing(await consumeWithKafkajs(kafka, output, copies.length))).toEqual(listing(copies))
      expect(listing(await consumeWithKafkajs(kafka, output, copies.length + aborted.length, { readUncommitted: true })))
        .toEqual(listing([...aborted, ...copies]))

      // The group resumes after what it committed: only a record that came since is copied.
      await sendPlain(kafka, input, [{ partition: 1, key: "later", value: "later" }])
      const third = await pass("commit", 1)
      expect(third.map((c) => [c.partition, c.value])).toEqual([[1, "copied later"]])
      expect(await committedOffsets(kafka, groupId, input)).toEqual({ 0: 3, 1: 4 })
    } finally {
      await producer.disconnect()
    }
  })

  test("a transaction timeout above transaction.max.timeout.ms is refused with INVALID_TRANSACTION_TIMEOUT", async () => {
    const producer = kafka.producer({ transactionalId: "kjs-too-long", transactionTimeout: MAX_TIMEOUT_MS + 1, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      await expect(producer.transaction()).rejects.toMatchObject({ type: "INVALID_TRANSACTION_TIMEOUT", code: 50 })
    } finally {
      await producer.disconnect()
    }
  })
})

describe("confluent-kafka (librdkafka 2.0.2)", () => {
  requireClient("confluent-kafka", pythonInstalled, "apt-get install -y python3-confluent-kafka")

  it.runIf(pythonInstalled)("init/begin/commit/abort across partitions: read_committed sees the committed records, read_uncommitted all", async () => {
    const topic = "py-txn"
    await broker.createTopic(topic, { partitions: 3 })
    const session = openSession(broker.bootstrap, { "transactional.id": "py-txn-producer" })
    const sent: Record<string, Array<Rec>> = {}
    await session.ok({ op: "init" })
    for (const [tag, partitions, outcome] of [
      ["first", [0, 1, 2], "commit"],
      ["aborted", [1, 2], "abort"],
      ["second", [0, 1], "commit"]
    ] as const) {
      await session.ok({ op: "begin" })
      // Flushed before the end: librdkafka's abort purges what it has not sent, and these must be in the log.
      sent[tag] = await session.produce(topic, tagged(tag, partitions))
      await session.ok({ op: outcome })
    }
    await session.close()
    const committed = [...sent["first"]!, ...sent["second"]!]
    const everything = [...committed, ...sent["aborted"]!]
    expect(offsetsOf(sent["aborted"]!, 1)).toEqual([3, 4])
    expect(offsetsOf(sent["second"]!, 1)).toEqual([6, 7])
    expect(markersOnDisk(broker.logDir, topic, 1).map((m) => [m.offset, m.commit])).toEqual([[2, true], [5, false], [8, true]])

    const readCommitted = await consumeWithPython(broker.bootstrap, topic, "read_committed")
    expect(listing(readCommitted.records)).toEqual(listing(committed))
    expect(offsetsOf(readCommitted.records, 1)).toEqual([0, 1, 6, 7])
    const readUncommitted = await consumeWithPython(broker.bootstrap, topic, "read_uncommitted")
    expect(listing(readUncommitted.records)).toEqual(listing(everything))
    // No transaction is open: both end at the high watermark, past the last marker.
    expect(readCommitted.ends).toEqual({ 0: 6, 1: 9, 2: 6 })
    expect(readUncommitted.ends).toEqual(readCommitted.ends)
    expect(readCommitted.positions).toEqual(readCommitted.ends)
  })

  it.runIf(pythonInstalled)("send_offsets_to_transaction: the group's offsets are committed with the transaction, not when it aborts", async () => {
    const input = "py-ctp-in"
    const output = "py-ctp-out"
    const group = "py-ctp"
    await broker.createTopic(input, { partitions: 2 })
    await broker.createTopic(output, { partitions: 2 })
    const inputs = await sendPlain(kafka, input, tagged("in", [0, 1], 3))
    const copy = async (outcome: "commit" | "abort") => {
      const { lines, apis } = await runScript(TXN_SCRIPT, broker.bootstrap, "copy", {
        input,
        output,
        group,
        outcome,
        producer: { "transactional.id": "py-ctp-producer" }
      })
      return { copied: lines[0].copied as Array<Rec>, sent: lines[0].sent_offsets, committed: lines[1].committed, apis }
    }

    const aborted = await copy("abort")
    expect(listing(aborted.copied)).toEqual(listing(inputs))
    expect(aborted.sent).toEqual({ 0: 3, 1: 3 })
    // Asked with require_stable (librdkafka's read_committed consumer): nothing committed.
    expect(aborted.committed).toEqual({ 0: null, 1: null })
    // The offsets went with AddOffsetsToTxn and TxnOffsetCommit v3 (the consumer's generation and member id),
    // and were asked for with OffsetFetch v7 (require_stable).
    expect(aborted.apis).toMatchObject({ AddOffsetsToTxn_v0: 1, TxnOffsetCommit_v3: 1, OffsetFetch_v7: expect.any(Number) })
    expect((await consumeWithPython(broker.bootstrap, output, "read_committed")).records).toEqual([])

    // Nothing was committed, so the next round reads everything again; this one commits.
    const committed = await copy("commit")
    expect(listing(committed.copied)).toEqual(listing(inputs))
    expect(committed.committed).toEqual({ 0: 3, 1: 3 })
    expect(await committedOffsets(kafka, group, input)).toEqual({ 0: 3, 1: 3 })
    const copies = (await consumeWithPython(broker.bootstrap, output, "read_committed")).records
    expect(copies.map((r) => [r.partition, r.key, r.value]).sort()).toEqual(inputs.map((r) => [r.partition, r.key, `copied ${r.value}`]).sort())
    // The aborted copies come first in each partition, then their abort marker.
    expect(offsetsOf(copies, 0)).toEqual([4, 5, 6])
    expect((await consumeWithPython(broker.bootstrap, output, "read_uncommitted")).records).toHaveLength(12)
  })
})

describe("@platformatic/kafka 2.12", () => {
  const CLIENT_ID = "platformatic-txn-e2e"

  /** A group consumer's stream from the earliest offsets, until `count` records came and nothing more did for a while. */
  const consumeWithPlatformatic = async (topic: string, count: number, isolationLevel: 0 | 1): Promise<Array<Rec>> => {
    const consumer = new Consumer({
      clientId: CLIENT_ID,
      groupId: `plt-reader-${randomUUID()}`,
      bootstrapBrokers: [broker.bootstrap],
      isolationLevel,
      maxWaitTime: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      retries: 5,
      retryDelay: 50
    })
    const got: Array<Rec> = []
    try {
      const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
      await new Promise<void>((resolvePromise, reject) => {
        const deadline = setTimeout(resolvePromise, 10_000)
        let settle: NodeJS.Timeout | undefined
        stream.on("error", reject)
        stream.on("data", (m) => {
          got.push({
            partition: m.partition,
            offset: Number(m.offset),
            key: (m.key as Buffer | null | undefined)?.toString() ?? null,
            value: (m.value as Buffer | null | undefined)?.toString() ?? null
          })
          if (got.length >= count) {
            clearTimeout(settle)
            settle = setTimeout(() => {
              clearTimeout(deadline)
              resolvePromise()
            }, 400)
          }
        })
      })
      await stream.close()
    } finally {
      await consumer.close()
    }
    return got
  }

  test("beginTransaction, commit and abort: isolationLevel 1 reads the committed records, 0 all of them", async () => {
    const topic = "plt-txn"
    await broker.createTopic(topic, { partitions: 2 })
    const producer = new PlatformaticProducer({
      clientId: CLIENT_ID,
      bootstrapBrokers: [broker.bootstrap],
      idempotent: true,
      transactionalId: "plt-txn-producer",
      retries: 5,
      retryDelay: 50
    })
    const sent: Record<string, Array<Rec>> = {}
    try {
      for (const [tag, outcome] of [["first", "commit"], ["aborted", "abort"], ["second", "commit"]] as const) {
        const txn = await producer.beginTransaction()
        const records = tagged(tag, [0, 1])
        const result = await txn.send({
          messages: records.map((r) => ({ topic, partition: r.partition, key: Buffer.from(r.key), value: Buffer.from(r.value) }))
        })
        sent[tag] = placed(records, new Map((result.offsets ?? []).map((o) => [o.partition, Number(o.offset)])))
        await (outcome === "commit" ? txn.commit() : txn.abort())
      }
    } finally {
      await producer.close()
    }
    const committed = [...sent["first"]!, ...sent["second"]!]
    expect(offsetsOf(sent["second"]!, 0)).toEqual([6, 7])
    for (const partition of [0, 1]) {
      expect(markersOnDisk(broker.logDir, topic, partition).map((m) => [m.offset, m.commit])).toEqual([[2, true], [5, false], [8, true]])
    }
    expect(listing(await consumeWithPlatformatic(topic, committed.length, 1))).toEqual(listing(committed))
    expect(listing(await consumeWithPlatformatic(topic, 12, 0))).toEqual(listing([...committed, ...sent["aborted"]!]))
  })

  test("consume-transform-produce with addConsumer/addOffset: the group's offsets move with the commit only", async () => {
    const input = "plt-ctp-in"
    const output = "plt-ctp-out"
    const groupId = "plt-ctp"
    await broker.createTopic(input, { partitions: 2 })
    await broker.createTopic(output, { partitions: 2 })
    const inputs = await sendPlain(kafka, input, tagged("in", [0, 1], 2))
    const producer = new PlatformaticProducer({
      clientId: CLIENT_ID,
      bootstrapBrokers: [broker.bootstrap],
      idempotent: true,
      transactionalId: "plt-ctp-producer",
      retries: 5,
      retryDelay: 50
    })
    /** Each record the group has not committed, copied in a transaction of its own that also commits its offset. */
    const pass = async (outcome: "commit" | "abort") => {
      const consumer = new Consumer({
        clientId: CLIENT_ID,
        groupId,
        bootstrapBrokers: [broker.bootstrap],
        maxWaitTime: 100,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        retries: 5,
        retryDelay: 50
      })
      const copied: Array<Rec> = []
      try {
        const stream = await consumer.consume({
          topics: [input],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          autocommit: false
        })
        for await (const message of stream) {
          const txn = await producer.beginTransaction()
          const record = { partition: message.partition, key: message.key!.toString(), value: `copied ${message.value}` }
          const result = await txn.send({ messages: [{ topic: output, partition: record.partition, key: Buffer.from(record.key), value: Buffer.from(record.value) }] })
          copied.push(...placed([record], new Map((result.offsets ?? []).map((o) => [o.partition, Number(o.offset)]))))
          await txn.addConsumer(consumer)
          await txn.addOffset(message)
          await (outcome === "commit" ? txn.commit() : txn.abort())
          if (copied.length === inputs.length) break
        }
        await stream.close()
      } finally {
        await consumer.close()
      }
      return copied
    }
    try {
      const aborted = await pass("abort")
      expect(await committedOffsets(kafka, groupId, input)).toEqual({ 0: -1, 1: -1 })
      const copies = await pass("commit")
      expect(copies.map((c) => c.value).sort()).toEqual(inputs.map((r) => `copied ${r.value}`).sort())
      expect(await committedOffsets(kafka, groupId, input)).toEqual({ 0: 2, 1: 2 })
      // Read back with kafkajs: each partition holds two aborted transactions of the same producer, which this
      // client's own read_committed filter does not handle (see the next test).
      expect(listing(await consumeWithKafkajs(kafka, output, copies.length))).toEqual(listing(copies))
      expect(listing(await consumeWithPlatformatic(output, copies.length + aborted.length, 0))).toEqual(listing([...aborted, ...copies]))
    } finally {
      await producer.close()
    }
  })

  // A client bug, not the broker's: for two aborted transactions of one producer in a partition the broker
  // answers both in Fetch's aborted_transactions ([{producerId, firstOffset: 0}, {producerId, firstOffset: 2}],
  // as Kafka does), but Consumer#filterUncommittedMessages keys the aborted ranges by producer id in a Map, so
  // the later entry replaces the earlier one and the records of the first aborted transaction are handed to a
  // read_committed application. Expected to fail until the client is fixed; kafkajs and librdkafka read the
  // same log correctly (the test before this one, and the kafkajs and confluent-kafka suites).
  test.fails("isolationLevel 1 skips every aborted transaction of a producer, not only its last (fails: client bug)", async () => {
    const topic = "plt-two-aborts"
    await broker.createTopic(topic, { partitions: 1 })
    const producer = new PlatformaticProducer({
      clientId: CLIENT_ID,
      bootstrapBrokers: [broker.bootstrap],
      idempotent: true,
      transactionalId: "plt-two-aborts",
      retries: 5,
      retryDelay: 50
    })
    try {
      for (const outcome of ["abort", "abort", "commit"] as const) {
        const txn = await producer.beginTransaction()
        await txn.send({ messages: [{ topic, partition: 0, key: Buffer.from(outcome), value: Buffer.from(outcome) }] })
        await (outcome === "commit" ? txn.commit() : txn.abort())
      }
    } finally {
      await producer.close()
    }
    // The log: abort record 0, marker 1, abort record 2, marker 3, committed record 4, marker 5.
    expect(listing(await consumeWithKafkajs(kafka, topic, 1))).toEqual(["0@4 commit=commit"])
    expect(listing(await consumeWithPlatformatic(topic, 1, 1))).toEqual(["0@4 commit=commit"])
  })
})

describe("fencing: a second producer with the same transactional id", () => {
  test("kafkajs: the first producer's next send and its commit fail, the second's transaction is the one read_committed sees", async () => {
    const topic = "kjs-fence"
    await broker.createTopic(topic, { partitions: 2 })
    const first = await transactionalProducer(kafka, "kjs-fenced")
    const second = await transactionalProducer(kafka, "kjs-fenced")
    try {
      const txnA = await first.transaction()
      const early = await sendInTransaction(txnA, topic, [{ partition: 0, key: "a", value: "A before the fence" }])
      // The second producer's InitProducerId aborts the first's open transaction and bumps the epoch.
      const txnB = await second.transaction()
      // kafkajs adds the partition first: AddPartitionsToTxn v0 answers the fencing as INVALID_PRODUCER_EPOCH (47),
      // as Kafka does below v2 (PRODUCER_FENCED, 90, is for newer versions); so does EndTxn v0.
      const fenced = { type: "INVALID_PRODUCER_EPOCH", code: 47, retriable: false }
      await expect(txnA.send({ topic, acks: -1, messages: [{ partition: 1, key: "a", value: "A after the fence" }] })).rejects.toMatchObject(fenced)
      await expect(txnA.commit()).rejects.toMatchObject(fenced)
      const fromB = await sendInTransaction(txnB, topic, tagged("B", [0, 1], 1))
      await txnB.commit()

      // The first producer's transaction was aborted by the fence (its marker right after its record); its
      // record after the fence was never written; the second's is committed.
      expect(markersOnDisk(broker.logDir, topic, 0).map((m) => [m.offset, m.commit])).toEqual([[1, false], [3, true]])
      expect(markersOnDisk(broker.logDir, topic, 1).map((m) => [m.offset, m.commit])).toEqual([[1, true]])
      expect(listing(await consumeWithKafkajs(kafka, topic, fromB.length))).toEqual(listing(fromB))
      expect(listing(await consumeWithKafkajs(kafka, topic, fromB.length + 1, { readUncommitted: true }))).toEqual(listing([...early, ...fromB]))
    } finally {
      await first.disconnect()
      await second.disconnect()
    }
  })
})

describe("fencing and timeouts with confluent-kafka", () => {
  requireClient("confluent-kafka", pythonInstalled, "apt-get install -y python3-confluent-kafka")

  it.runIf(pythonInstalled)("a second producer with the same transactional id fences the first: its produce and commit fail as fatal errors", async () => {
    const topic = "py-fence"
    await broker.createTopic(topic, { partitions: 2 })
    const first = openSession(broker.bootstrap, { "transactional.id": "py-fenced" })
    await first.ok({ op: "init" })
    await first.ok({ op: "begin" })
    const early = await first.produce(topic, [{ partition: 0, key: "a", value: "A before the fence" }])

    const second = openSession(broker.bootstrap, { "transactional.id": "py-fenced" })
    await second.ok({ op: "init" })
    await second.ok({ op: "begin" })

    // The partition is in the first producer's transaction already: its Produce goes out with the old epoch.
    await first.ok({ op: "produce", topic, records: [{ partition: 0, key: "a", value: "A after the fence" }] })
    // The broker answers INVALID_PRODUCER_EPOCH (47); librdkafka makes it its fatal _FENCED error, and the
    // commit fails with the same.
    const fenced = { name: "_FENCED", code: -144, fatal: true }
    const flushed = await first.step({ op: "flush" })
    expect(flushed.error, JSON.stringify(flushed)).toMatchObject(fenced)
    expect(flushed.error!.message).toContain("old epoch")
    const commit = await first.step({ op: "commit" })
    expect(commit.error, JSON.stringify(commit)).toMatchObject(fenced)

    const fromB = await second.produce(topic, tagged("B", [0, 1], 1))
    await second.ok({ op: "commit" })
    await first.close()
    await second.close()
    expect(listing((await consumeWithPython(broker.bootstrap, topic, "read_committed")).records)).toEqual(listing(fromB))
    expect(listing((await consumeWithPython(broker.bootstrap, topic, "read_uncommitted")).records)).toEqual(listing([...early, ...fromB]))
  })

  it.runIf(pythonInstalled)("a transaction.timeout.ms above transaction.max.timeout.ms fails init_transactions", async () => {
    const session = openSession(broker.bootstrap, { "transactional.id": "py-too-long", "transaction.timeout.ms": MAX_TIMEOUT_MS + 1 })
    const init = await session.step({ op: "init" })
    expect(init.error, JSON.stringify(init)).toMatchObject({ name: "INVALID_TRANSACTION_TIMEOUT", code: 50 })
    await session.close()
  })

  it.runIf(pythonInstalled)("a producer killed mid-transaction holds read_committed consumers at its first offset until its timeout aborts it", async () => {
    const topic = "py-killed"
    await broker.createTopic(topic, { partitions: 2 })
    const TIMEOUT_MS = 3000
    const dying = openSession(broker.bootstrap, { "transactional.id": "py-killed-producer", "transaction.timeout.ms": TIMEOUT_MS })
    await dying.ok({ op: "init" })
    await dying.ok({ op: "begin" })
    const before = await dying.produce(topic, tagged("before", [0, 1], 1))
    await dying.ok({ op: "commit" })
    await dying.ok({ op: "begin" })
    const began = Date.now()
    // Flushed, so the records are in the log; then the process dies without ending its transaction.
    const doomed = await dying.produce(topic, tagged("doomed", [0, 1], 2))
    dying.kill()
    expect(doomed.map((r) => r.offset)).toEqual([2, 3, 2, 3])

    // Another producer commits records after the open transaction's.
    const other = openSession(broker.bootstrap, { "transactional.id": "py-after-the-dead" })
    await other.ok({ op: "init" })
    await other.ok({ op: "begin" })
    const later = await other.produce(topic, tagged("later", [0, 1], 1))
    await other.ok({ op: "commit" })
    await other.close()

    // Held: the last stable offset is the open transaction's first offset, so nothing after it is given out,
    // the committed records after it neither.
    const held = await consumeWithPython(broker.bootstrap, topic, "read_committed")
    const heldAt = Date.now() - began
    expect(heldAt, "read before the transaction could time out").toBeLessThan(TIMEOUT_MS)
    expect(held.ends).toEqual({ 0: 2, 1: 2 })
    expect(held.positions).toEqual({ 0: 2, 1: 2 })
    expect(listing(held.records)).toEqual(listing(before))
    // read_uncommitted is not held.
    expect(listing((await consumeWithPython(broker.bootstrap, topic, "read_uncommitted")).records))
      .toEqual(listing([...before, ...doomed, ...later]))

    // The coordinator aborts the transaction once it is older than its timeout, and consumers move on.
    let after = held
    while (after.ends["0"] === 2 && Date.now() - began < TIMEOUT_MS + 10_000) {
      await new Promise((r) => setTimeout(r, 200))
      after = await consumeWithPython(broker.bootstrap, topic, "read_committed")
    }
    expect(Date.now() - began).toBeGreaterThanOrEqual(TIMEOUT_MS)
    // before 0, its marker 1, doomed 2-3, later 4, its marker 5, the abort marker 6.
    expect(after.ends).toEqual({ 0: 7, 1: 7 })
    expect(listing(after.records)).toEqual(listing([...before, ...later]))
    for (const partition of [0, 1]) {
      expect(markersOnDisk(broker.logDir, topic, partition).map((m) => [m.offset, m.commit])).toEqual([[1, true], [5, true], [6, false]])
    }
    // kafkajs's read_committed consumer agrees.
    expect(listing(await consumeWithKafkajs(kafka, topic, before.length + later.length))).toEqual(listing([...before, ...later]))
  })
})

describe("restarts keep every transaction's outcome exact", () => {
  /** Clients stay on a proxy's port while the broker behind it comes back on another. */
  const proxied = async (port: () => number) => {
    const proxy = await startFaultProxy(port)
    cleanups.push(() => proxy.close())
    return { proxy, bootstrap: `127.0.0.1:${proxy.port}`, advertised: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${proxy.port}` } }
  }

  test("a clean restart between produce and commit (and abort): kafkajs ends the transaction afterwards, each record is read once or never", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "txn-restart-"))
    dirs.push(logDir)
    let current: RunningBroker | undefined
    const { bootstrap, advertised } = await proxied(() => current!.port)
    const start = async () => {
      current = await startBroker({ storage: "disk", logDir, logLevel: "Error", config: { ...brokerConfig, ...advertised } })
    }
    const restart = async () => {
      await current!.close()
      await start()
    }
    await start()
    cleanups.push(() => current!.close())
    const topic = "restart-clean"
    const group = "restart-clean-group"
    await current!.createTopic(topic, { partitions: 2 })
    const client = kafkaFor(bootstrap, "kafkajs-txn-restart")
    const producer = await transactionalProducer(client, "restart-clean-producer")
    try {
      const kept = await producer.transaction()
      const committed = await sendInTransaction(kept, topic, tagged("kept", [0, 1]))
      await kept.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: "2" }] }] })
      await restart()
      await kept.commit()

      const dropped = await producer.transaction()
      const aborted = await sendInTransaction(dropped, topic, tagged("dropped", [0, 1]))
      await dropped.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 1, offset: "2" }] }] })
      await restart()
      await dropped.abort()

      // And once more with both ended: the outcomes are in the logs, not only in memory.
      await restart()
      expect(listing(await consumeWithKafkajs(client, topic, committed.length))).toEqual(listing(committed))
      expect(listing(await consumeWithKafkajs(client, topic, committed.length + aborted.length, { readUncommitted: true })))
        .toEqual(listing([...committed, ...aborted]))
      expect(await committedOffsets(client, group, topic)).toEqual({ 0: 2, 1: -1 })
      for (const partition of [0, 1]) {
        expect(markersOnDisk(logDir, topic, partition).map((m) => [m.offset, m.commit])).toEqual([[2, true], [5, false]])
      }
    } finally {
      await producer.disconnect()
    }
  })

  it.runIf(pythonInstalled)("SIGKILL of a broker process between produce and commit: the commit after the restart, and a timed-out transaction aborted after it", async () => {
    const logDir = BrokerProcess.makeLogDir()
    dirs.push(logDir)
    const topic = "restart-killed"
    await BrokerProcess.writeTopics(logDir, { [topic]: 2 })
    let current: BrokerProcess.BrokerProcess | undefined
    const { bootstrap, advertised } = await proxied(() => current!.port)
    const start = async () => {
      current = await BrokerProcess.startBroker({ logDir, properties: { ...brokerConfig, ...advertised } })
      dirs.push(current.configPath)
    }
    await start()
    cleanups.push(() => current!.kill())

    const TIMEOUT_MS = 3000
    const committer = openSession(bootstrap, { "transactional.id": "killed-broker-committer" })
    const abandoned = openSession(bootstrap, { "transactional.id": "killed-broker-abandoned", "transaction.timeout.ms": TIMEOUT_MS })
    for (const session of [committer, abandoned]) {
      await session.ok({ op: "init" })
      await session.ok({ op: "begin" })
    }
    const kept = await committer.produce(topic, tagged("kept", [0, 1]))
    const began = Date.now()
    const lost = await abandoned.produce(topic, tagged("lost", [0, 1]))

    await current!.kill()
    await start()
    // librdkafka reconnects and sends its EndTxn to the broker that replayed the transaction.
    await committer.ok({ op: "commit" })
    await committer.close()
    expect(current!.output()).not.toMatch(/level=ERROR/)

    // The other transaction was open across the crash and nobody ends it: read_committed consumers are held at
    // its first offsets until the restarted coordinator aborts it, once it is older than its timeout (its start
    // time was in the transaction log).
    const firstLost = { 0: Math.min(...offsetsOf(lost, 0)), 1: Math.min(...offsetsOf(lost, 1)) }
    let read = await consumeWithPython(bootstrap, topic, "read_committed")
    if (Date.now() - began < TIMEOUT_MS) expect(read.ends).toEqual(firstLost)
    while (read.ends["0"]! <= firstLost[0] && Date.now() - began < TIMEOUT_MS + 15_000) {
      await new Promise((r) => setTimeout(r, 200))
      read = await consumeWithPython(bootstrap, topic, "read_committed")
    }
    expect(Date.now() - began).toBeGreaterThanOrEqual(TIMEOUT_MS)
    expect(read.ends["0"]).toBeGreaterThan(firstLost[0])
    expect(listing(read.records)).toEqual(listing(kept))
    expect(listing((await consumeWithPython(bootstrap, topic, "read_uncommitted")).records)).toEqual(listing([...kept, ...lost]))
    // Its producer, back too late, is fenced: the coordinator bumped the epoch when it aborted.
    const late = await abandoned.step({ op: "commit" })
    expect(late.error, JSON.stringify(late)).toMatchObject({ name: "_FENCED", fatal: true })
    await abandoned.close()
    for (const partition of [0, 1]) {
      expect(markersOnDisk(logDir, topic, partition).map((m) => m.commit)).toEqual([true, false])
    }
  })

  test("a crash after the commit decision, before any marker: the next start completes the commit", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "txn-prepared-"))
    dirs.push(logDir)
    const topic = "prepared-commit"
    // The broker over Node's file system, through one whose writes can be made to fail.
    const node = await Effect.runPromise(Effect.provide(FileSystem.FileSystem, NodeFileSystem.layer))
    const { fs, faults } = faulty(node)
    const lines: Array<LogLine> = []
    const capture = Logger.make((options) => {
      const m = options.message
      lines.push({ level: options.logLevel, message: Array.isArray(m) ? m.join(" ") : String(m) })
    })
    const layer = Broker.layer(BrokerConfig.layerFrom({
      ...brokerConfig,
      "node.id": "1",
      "log.dirs": logDir,
      "listeners": "PLAINTEXT://127.0.0.1:0"
    })).pipe(
      Layer.provide(Layer.succeed(FileSystem.FileSystem, fs)),
      Layer.provide(Layer.merge(Logger.layer([capture]), Layer.succeed(References.MinimumLogLevel, "Info")))
    )
    const doomed = ManagedRuntime.make(layer)
    let disposed = false
    cleanups.push(() => (disposed ? Promise.resolve() : doomed.dispose()))
    const listener = await doomed.runPromise(Listener)
    const client = kafkaFor(`127.0.0.1:${listener.port}`, "kafkajs-txn-prepared")
    await withAdmin(client, (admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] }))
    const producer = await transactionalProducer(client, "prepared-commit-producer")
    let committed: Array<Rec>
    try {
      const txn = await producer.transaction()
      committed = await sendInTransaction(txn, topic, tagged("decided", [0, 1]))
      // From now on nothing can be written under the data partitions' directories; the transaction log
      // (__transaction_state-0) still takes the PrepareCommit record.
      faults.failing = { errno: "EIO", prefix: join(logDir, `${topic}-`) }
      const asked = Date.now()
      // The decision is durable, so EndTxn answers success, after waiting a while for markers that never come.
      await txn.commit()
      expect(Date.now() - asked).toBeGreaterThanOrEqual(4_500)
    } finally {
      await producer.disconnect()
    }
    expect(lines.some((l) => l.level === "Error" && l.message.includes(`transaction marker for ${topic}-0`)), JSON.stringify(lines.slice(-5))).toBe(true)
    expect(markersOnDisk(logDir, topic, 0)).toEqual([])
    expect(markersOnDisk(logDir, topic, 1)).toEqual([])
    // The broker stops with the disk still failing: the markers are never written by it.
    await doomed.dispose()
    disposed = true

    // A normal broker on the same directory replays the transaction log, finds the PrepareCommit and writes
    // the markers.
    const next = await startBroker({ storage: "disk", logDir, logLevel: "Error", config: brokerConfig })
    cleanups.push(() => next.close())
    const after = kafkaFor(next.bootstrap, "kafkajs-txn-prepared")
    expect(listing(await consumeWithKafkajs(after, topic, committed.length))).toEqual(listing(committed))
    for (const partition of [0, 1]) {
      expect(markersOnDisk(logDir, topic, partition).map((m) => [m.offset, m.commit])).toEqual([[2, true]])
    }
    await next.close()
  })
})

