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
import { Effect, FileSystem, Layer, Logger, ManagedRuntime, References } from "effect"
import { Consumer, MessagesStreamModes, Producer as PlatformaticProducer } from "@platformatic/kafka"
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
import { startFaultProxy, type FaultProxy } from "../support/FaultProxy.ts"
import { faulty } from "../support/FaultyFileSystem.ts"
import { requireClient } from "../support/Installed.ts"
import { type LogLine } from "../support/Logs.ts"
import { killScripts, PYTHON, pythonHas, runScript } from "../support/PythonClients.ts"

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

// kafkajs 2.2.4 arms a timer for `throttledUntil - Date.now()` while `throttledUntil` is still -1, for which
// Node 24 prints a TimeoutNegativeWarning: client noise, filtered out for this file (as in Kafkajs.test.ts).
const warningListeners = process.listeners("warning")
const filterWarnings = () => {
  process.removeAllListeners("warning")
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") for (const listener of warningListeners) listener(warning)
  })
}
const restoreWarnings = () => {
  process.removeAllListeners("warning")
  for (const listener of warningListeners) process.on("warning", listener)
}

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
  const base = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]))
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
      const { lines } = await runScript(TXN_SCRIPT, broker.bootstrap, "copy", {
        input,
        output,
        group,
        outcome,
        producer: { "transactional.id": "py-ctp-producer" }
      })
      return { copied: lines[0].copied as Array<Rec>, sent: lines[0].sent_offsets, committed: lines[1].committed }
    }

    const aborted = await copy("abort")
    expect(listing(aborted.copied)).toEqual(listing(inputs))
    expect(aborted.sent).toEqual({ 0: 3, 1: 3 })
    // Asked with require_stable (librdkafka's read_committed consumer): nothing committed.
    expect(aborted.committed).toEqual({ 0: null, 1: null })
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
