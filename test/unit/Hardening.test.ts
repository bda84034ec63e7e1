// What an adversarial user can do to the broker, and what it must do instead of breaking: requests that would
// create without bound are refused; damaged batches and index files on disk are reported and stepped over or
// rebuilt, never followed into a loop or past intact records; a full or read-only disk answers
// KAFKA_STORAGE_ERROR naming the file; tens of thousands of partitions start at once and hold a bounded number
// of open files.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FileSystem, Layer, Scope } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { CLEAN_SHUTDOWN } from "../../src/protocol/logdir/LogFiles.ts"
import { encodeBatch, readHeader } from "../../src/protocol/RecordBatch.ts"
import * as CreatePartitions from "../../src/services/api/CreatePartitions.ts"
import * as CreateTopics from "../../src/services/api/CreateTopics.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as ListOffsets from "../../src/services/api/ListOffsets.ts"
import * as Metadata from "../../src/services/api/Metadata.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { faulty } from "../support/FaultyFileSystem.ts"
import { quietly, withLogs } from "../support/Logs.ts"
import { type BrokerServices, callResponse, layer, LOG_DIR, received } from "../support/TestLayers.ts"

const text = new TextEncoder()
const NOW = 1_700_000_000_000
const batchOf = (tag: string | number) => encodeBatch([{ value: text.encode(String(tag).padEnd(100, ".")) }], { timestamp: NOW })
const BATCH = batchOf(0).length

const produce = (batch: Uint8Array, topic = "events", partition = 0) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  )

const fetch = (offset: number, maxBytes = 1, topic = "events", partition = 0) =>
  Effect.map(
    callResponse(Fetch.make, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic,
        topicId: ZERO_UUID,
        partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    }),
    (r) => r.responses[0]!.partitions[0]!
  )

/** The base offsets of the batches a fetch answered. */
const basesOf = (records: Uint8Array) => {
  const out: Array<number> = []
  for (let at = 0; at + 61 <= records.length; at += readHeader(records, at).size) out.push(readHeader(records, at).baseOffset)
  return out
}

const createTopics = (topics: ReadonlyArray<{ name: string; numPartitions: number }>) =>
  callResponse(CreateTopics.make, 7, {
    topics: topics.map((t) => ({ ...t, replicationFactor: -1, assignments: [], configs: [] })),
    timeoutMs: 10_000,
    validateOnly: false
  })

const pad = (n: number) => String(n).padStart(20, "0")

/** Runs `body` on a broker over `fs`, shut down cleanly at the end. */
const run = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, properties: Record<string, string> = {}, topics: Record<string, number> = { events: 1 }) =>
  Effect.provide(body, layer(fs, { topics, properties }))

/** Runs `body` and then stops without a clean shutdown (nothing written at the end reaches the files). */
const runAndCrash = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, properties: Record<string, string> = {}, topics: Record<string, number> = { events: 1 }) =>
  Effect.gen(function*() {
    const { fs: broken, faults } = faulty(fs)
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layer(broken, { topics, properties }), scope)
    const result = yield* Effect.provideContext(body, context)
    faults.failing = { errno: "EIO", prefix: "/" }
    yield* quietly(Scope.close(scope, Exit.void))
    return result
  })

describe("requests that would create without bound", () => {
  it.effect("CreateTopics with 16,777,216 or 100,000 partitions answers 44 at once and creates nothing", () =>
    Effect.gen(function*() {
      for (const numPartitions of [16_777_216, 100_000, 2 ** 31 - 1]) {
        const r = yield* createTopics([{ name: "huge", numPartitions }])
        assert.strictEqual(r.topics[0]!.errorCode, 44)
        assert.include(r.topics[0]!.errorMessage!, "excessively large")
      }
      // Kafka's bound is per request: two topics of 6,000 fail together; one of 9,999 (10,000 records) is fine.
      const both = yield* createTopics([{ name: "a", numPartitions: 6_000 }, { name: "b", numPartitions: 6_000 }])
      assert.deepStrictEqual(both.topics.map((t) => t.errorCode), [44, 44])
      const image = yield* (yield* ClusterMetadata).image
      assert.deepStrictEqual([...image.topics.keys()], [])
      const ok = yield* createTopics([{ name: "wide", numPartitions: 9_999 }])
      assert.strictEqual(ok.topics[0]!.errorCode, 0)
      assert.strictEqual((yield* produce(batchOf("x"), "wide", 9_998)).errorCode, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))

  it.effect("CreatePartitions adding more than 10,000 answers 44; max.broker.partitions bounds what the broker holds", () =>
    Effect.gen(function*() {
      const grow = (count: number) =>
        Effect.map(
          callResponse(CreatePartitions.make, 3, { topics: [{ name: "events", count, assignments: null }], timeoutMs: 1000, validateOnly: false }),
          (r) => r.results[0]!
        )
      assert.strictEqual((yield* grow(10_002)).errorCode, 44)
      assert.strictEqual((yield* grow(16_777_216)).errorCode, 44)
      assert.strictEqual((yield* grow(40)).errorCode, 0)
      // 40 held, limit 50: 20 more would pass it.
      const refused = yield* grow(60)
      assert.strictEqual(refused.errorCode, 44)
      assert.include(refused.errorMessage!, "max.broker.partitions=50")
      const topic = yield* createTopics([{ name: "more", numPartitions: 11 }])
      assert.strictEqual(topic.topics[0]!.errorCode, 44)
      assert.strictEqual((yield* createTopics([{ name: "more", numPartitions: 10 }])).topics[0]!.errorCode, 0)
      // Auto-creation obeys it too.
      const md = yield* callResponse(Metadata.make, 12, {
        topics: [{ topicId: ZERO_UUID, name: "auto" }],
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false
      })
      assert.strictEqual(md.topics[0]!.errorCode, 44)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 }, properties: { "max.broker.partitions": "50" } }))))
})

describe("the broker's own logs", () => {
  it.effect("a topic named like one of them cannot be created (42), so committed offsets are never written over", () =>
    Effect.gen(function*() {
      for (const name of ["__consumer_offsets", "__transaction_state", "__cluster_metadata"]) {
        const r = yield* createTopics([{ name, numPartitions: 1 }])
        assert.deepStrictEqual([r.topics[0]!.errorCode, r.topics[0]!.errorMessage], [42, `Creation of internal topic ${name} is prohibited.`])
      }
    }).pipe(Effect.provide(layer(MemoryFileSystem.make()))))
})

describe("damaged batches on disk", () => {
  const dense = { "log.index.interval.bytes": "200", "log.segment.bytes": "100000" }

  it.effect("a batch length of -12 in the middle of a segment is reported once and stepped over: no read hangs", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* run(fs, Effect.forEach(Array.from({ length: 30 }, (_, i) => batchOf(i)), (b) => produce(b)), dense)
      const path = `${LOG_DIR}/events-0/${pad(0)}.log`
      const bytes = yield* Effect.orDie(fs.readFile(path))
      // Batch 10's length field (the 4 bytes after its base offset) now reads -12.
      new DataView(bytes.buffer).setInt32(10 * BATCH + 8, -12)
      yield* Effect.orDie(fs.writeFile(path, bytes))

      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        // From the start, a large fetch answers the batches before the damage.
        const all = yield* fetch(0, 1 << 20)
        assert.strictEqual(all.errorCode, 0)
        assert.deepStrictEqual(basesOf(received(all.records)), Array.from({ length: 10 }, (_, i) => i))
        // At the damaged offset, the next indexed batch after it; every later offset as stored.
        const at = basesOf(received((yield* fetch(10)).records))
        assert.strictEqual(at.length, 1)
        assert.isAbove(at[0]!, 10)
        assert.isAtMost(at[0]!, 12)
        for (let offset = 13; offset < 30; offset++) assert.deepStrictEqual(basesOf(received((yield* fetch(offset)).records)), [offset])
        // A timestamp lookup walks the same way.
        const lookup = yield* callResponse(ListOffsets.make, 7, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: "events", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: NOW + 1, maxNumOffsets: 1 }] }],
          timeoutMs: 1000
        })
        assert.strictEqual(lookup.topics[0]!.partitions[0]!.errorCode, 0)
      }).pipe(Effect.timeout("10 seconds"), Effect.orDie), dense))
      const damage = lines.filter((l) => l.message.includes("damaged batch"))
      assert.strictEqual(damage.length, 1, "reported once")
      assert.include(damage[0]!.message, `${pad(0)}.log: damaged batch at position ${10 * BATCH}`)
    }))

  it.effect("garbage in the active segment's .index: the next start rebuilds it from the log and serves every offset", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* run(fs, Effect.forEach(Array.from({ length: 20 }, (_, i) => batchOf(i)), (b) => produce(b)), dense)
      const index = `${LOG_DIR}/events-0/${pad(0)}.index`
      const garbage = new Uint8Array(800)
      for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 151 + 7) & 0xff
      yield* Effect.orDie(fs.writeFile(index, garbage))
      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        for (let offset = 0; offset < 20; offset++) assert.deepStrictEqual(basesOf(received((yield* fetch(offset)).records)), [offset])
        assert.strictEqual((yield* produce(batchOf(20))).baseOffset, 20)
      }), dense))
      assert.isTrue(
        lines.some((l) => l.level === "Warn" && l.message.includes(`${pad(0)}.index`) && l.message.includes("recovering the partition")),
        lines.map((l) => l.message).join("\n")
      )
    }))

  it.effect("garbage in an older segment's .index is found on first use and rebuilt: no record is skipped", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const small = { ...dense, "log.segment.bytes": String(10 * BATCH) }
      yield* run(fs, Effect.forEach(Array.from({ length: 35 }, (_, i) => batchOf(i)), (b) => produce(b)), small)
      const dir = `${LOG_DIR}/events-0`
      // Segment 10's index, each entry made to point at the next entry's batch: in order, inside the segment,
      // and wrong (a read trusting it would skip records).
      const index = yield* Effect.orDie(fs.readFile(`${dir}/${pad(10)}.index`))
      assert.isAbove(index.length, 16)
      const view = new DataView(index.buffer)
      for (let at = 0; at + 8 < index.length; at += 8) view.setInt32(at + 4, view.getInt32(at + 12))
      yield* Effect.orDie(fs.writeFile(`${dir}/${pad(10)}.index`, index.subarray(0, index.length - 8)))
      // And segment 20's index cut mid-entry.
      const other = yield* Effect.orDie(fs.readFile(`${dir}/${pad(20)}.index`))
      yield* Effect.orDie(fs.writeFile(`${dir}/${pad(20)}.index`, other.subarray(0, other.length - 3)))
      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        for (let offset = 0; offset < 35; offset++) assert.deepStrictEqual(basesOf(received((yield* fetch(offset)).records)), [offset], `fetch at ${offset}`)
      }), small))
      const warnings = lines.filter((l) => l.level === "Warn").map((l) => l.message)
      assert.isTrue(warnings.some((w) => w.includes(`${pad(10)}.index does not match the log`)), warnings.join("\n"))
      assert.isTrue(warnings.some((w) => w.includes(`${pad(20)}.index has`) && w.includes("not whole entries")), warnings.join("\n"))
    }))
})

describe("storage failures", () => {
  it.effect("a full disk answers KAFKA_STORAGE_ERROR (56) naming the file and the OS error; nothing half-written stays", () =>
    Effect.gen(function*() {
      const { fs, faults } = faulty(MemoryFileSystem.make())
      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* produce(batchOf("a"))).baseOffset, 0)
        faults.failing = { errno: "ENOSPC", prefix: `${LOG_DIR}/events-0` }
        const r = yield* produce(batchOf("b"))
        assert.strictEqual(r.errorCode, 56)
        assert.include(r.errorMessage!, "ENOSPC")
        assert.include(r.errorMessage!, `${LOG_DIR}/events-0/${pad(0)}.log`)
        faults.failing = undefined
        assert.strictEqual((yield* produce(batchOf("c"))).baseOffset, 1)
        assert.deepStrictEqual(basesOf(received((yield* fetch(0, 1 << 20)).records)), [0, 1])
      })))
      assert.isTrue(lines.some((l) => l.level === "Warn" && l.message.includes("error 56") && l.message.includes("no space left on device")))
    }))

  it.effect("a read-only log dir stops the start with one line saying so", () =>
    Effect.gen(function*() {
      const memory = MemoryFileSystem.make()
      yield* run(memory, Effect.void)
      const { fs, faults } = faulty(memory)
      faults.failing = { errno: "EROFS", prefix: LOG_DIR }
      const exit = yield* quietly(Effect.exit(run(fs, Effect.void)))
      assert.isTrue(Exit.isFailure(exit))
      const message = Exit.isFailure(exit) ? String((exit.cause as unknown as { reasons?: Array<{ error?: { message?: string } }> }).reasons?.[0]?.error?.message) : ""
      assert.include(message, `log dir ${LOG_DIR} is not usable`)
      assert.include(message, "read-only file system")
    }))
})

describe("many partitions", () => {
  it.effect("20,000 partitions: a clean start opens nothing, 2,000 written hold at most log.max.open.files open, a crash recovers them", () =>
    Effect.gen(function*() {
      const memory = MemoryFileSystem.make()
      const topics = { wide: 20_000 }
      const properties = { "log.max.open.files": "100" }
      const { fs, faults } = faulty(memory)
      const written = Array.from({ length: 2_000 }, (_, i) => i * 10)
      yield* run(fs, Effect.gen(function*() {
        for (const p of written) assert.strictEqual((yield* produce(batchOf(p), "wide", p)).errorCode, 0)
        assert.isAtMost(faults.maxOpen, 100 + 2)
      }), properties, topics)
      assert.isTrue(yield* Effect.orDie(memory.exists(`${LOG_DIR}/${CLEAN_SHUTDOWN}`)))
      // A partition never written has no directory.
      assert.isFalse(yield* Effect.orDie(memory.exists(`${LOG_DIR}/wide-1`)))

      faults.maxOpen = 0
      yield* runAndCrash(fs, Effect.gen(function*() {
        assert.strictEqual(faults.maxOpen, 0, "a clean start opens no segment")
        for (const p of written.slice(0, 500)) assert.strictEqual((yield* produce(batchOf(p), "wide", p)).baseOffset, 1)
      }), properties, topics)

      faults.maxOpen = 0
      yield* run(fs, Effect.gen(function*() {
        // Recovered before serving, within the bound.
        assert.isAtMost(faults.maxOpen, 100 + 2)
        for (const p of [0, 10, 4_990, 19_990]) {
          const r = yield* fetch(0, 1 << 20, "wide", p)
          assert.deepStrictEqual(basesOf(received(r.records)), p < 5_000 ? [0, 1] : [0])
        }
      }), properties, topics)
    }), { timeout: 60_000 })
})
