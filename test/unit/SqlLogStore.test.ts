// The LogStore over PostgreSQL (src/layers/sql/SqlLogStore.ts) against a throwaway server (test/support/Postgres.ts),
// each test in a fresh database, through the live services as TestLayers builds them with `logStoreUrl`.
//
// "LogStore over <engine>": what every LogStore promises, run against the files (one broker) and PostgreSQL (two
// brokers over one database): Produce/Fetch round trips byte for byte, appends from two brokers to one partition
// at once without a duplicate offset, idempotent retries recognised through either broker, a long poll on one
// broker woken by an append through the other, transactions (last stable offset, aborted transactions),
// DeleteRecords, timestamps, sizes, deleting and re-creating a partition. Then PostgreSQL's own: retention by size
// and time (by batch), compaction (in place), a database gone.
import { assert, describe, it } from "@effect/vitest"
import { type Context, Effect, Exit, Fiber, Layer, type Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import { encodeBatch, readHeader, setBaseOffset, setPartitionLeaderEpoch, TRANSACTIONAL } from "../../src/protocol/RecordBatch.ts"
import * as DeleteRecords from "../../src/services/api/DeleteRecords.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { type Postgres, postgresInstalled, requirePostgres, startPostgres } from "../support/Postgres.ts"
import { type BrokerOptions, type BrokerServices, batchesIn, callResponse, layer, received } from "../support/TestLayers.ts"

const NOW = Date.now()
const T0 = { topic: "events", partition: 0 }
const text = new TextEncoder()

let pg: Postgres | undefined
beforeAll(async () => {
  if (postgresInstalled) pg = await startPostgres()
}, 60_000)
afterAll(() => pg?.stop())

/** `count` records tagged `tag`, one batch (of an idempotent producer when `sequence` is given). */
const batchOf = (tag: string, options: { count?: number; timestamp?: number; sequence?: number; producerId?: number; transactional?: boolean } = {}) =>
  encodeBatch(
    Array.from({ length: options.count ?? 1 }, (_, i) => ({ value: text.encode(`${tag}.${i}`.padEnd(100, ".")) })),
    {
      timestamp: options.timestamp ?? NOW,
      ...(options.sequence === undefined ? {} : {
        producerId: options.producerId ?? 4242,
        producerEpoch: 0,
        baseSequence: options.sequence,
        attributes: options.transactional === true ? TRANSACTIONAL : 0
      })
    }
  )

/** The bytes as the log must hold them: the assigned base offset and leader epoch 0 patched in. */
const asStored = (batch: Uint8Array, baseOffset: number) => {
  const bytes = batch.slice()
  setBaseOffset(bytes, 0, baseOffset)
  setPartitionLeaderEpoch(bytes, 0, 0)
  return bytes
}

const produce = (records: Uint8Array, tp = T0) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: tp.topic, partitionData: [{ index: tp.partition, records }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  )

const fetchAt = (offset: number, partitionMaxBytes = 1024 * 1024, maxWaitMs = 0) =>
  Effect.map(
    callResponse(Fetch.make, 12, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 50 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: T0.topic,
        topicId: ZERO_UUID,
        partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    }),
    (r) => r.responses[0]!.partitions[0]!
  )

const storeOf = Effect.gen(function*() {
  return yield* LogStore
})

const same = (actual: Uint8Array, expected: Uint8Array, what: string) =>
  assert.isTrue(Buffer.from(actual).equals(Buffer.from(expected)), `${what}: ${actual.length} bytes differ from the ${expected.length} expected`)

/** Runs effects on broker i of a set built in the test's scope. */
type On = <A, E>(i: number, effect: Effect.Effect<A, E, BrokerServices>) => Effect.Effect<A, E>

interface Engine {
  readonly name: string
  readonly available: boolean
  /**
   * `n` brokers over one store, the topics seeded alike in each one's metadata log. Files: one broker (a log dir
   * is one broker's), whatever `n`: every `on(i)` runs there. PostgreSQL: `n` brokers over one fresh database.
   */
  readonly brokers: (n: number, options?: BrokerOptions) => Effect.Effect<On, never, Scope.Scope>
}

const files: Engine = {
  name: "files",
  available: true,
  brokers: (_n, options = {}) =>
    Effect.map(Layer.build(layer(MemoryFileSystem.make(), { topics: { events: 1 }, ...options })), (context): On => (_i, effect) =>
      Effect.provideContext(effect, context)).pipe(Effect.orDie)
}

const postgres: Engine = {
  name: "PostgreSQL",
  available: postgresInstalled,
  brokers: (n, options = {}) =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => pg!.createDatabase())
      const contexts: Array<Context.Context<BrokerServices>> = []
      for (let i = 0; i < n; i++) {
        contexts.push(yield* Layer.build(layer(MemoryFileSystem.make(), { topics: { events: 1 }, ...options, logStoreUrl: url })))
      }
      return ((i, effect) => Effect.provideContext(effect, contexts[i]!)) as On
    }).pipe(Effect.orDie)
}

const brokers = postgres.brokers

const liveIt = (available: boolean) => (name: string, test: () => Effect.Effect<void, unknown, Scope.Scope>, timeout = 60_000) =>
  it.live.runIf(available)(name, () => Effect.scoped(test()), timeout)

const sqlIt = liveIt(postgresInstalled)

// What every LogStore promises, through the handlers where a client sees it: run against each engine.
describe.each([files, postgres])("LogStore over $name", (engine) => {
  if (engine === postgres) requirePostgres()
  const sqlIt = liveIt(engine.available)
  const brokers = engine.brokers
  const shared = engine === postgres

  sqlIt("Produce and Fetch round trip the batches byte for byte, offsets continuing, sized by partitionMaxBytes", () =>
    Effect.gen(function*() {
      const on = yield* brokers(1)
      const batches = [batchOf("a", { count: 3 }), batchOf("b"), batchOf("c", { count: 2 })]
      const stored: Array<Uint8Array> = []
      for (const b of batches) {
        const r = yield* on(0, produce(b))
        assert.strictEqual(r.errorCode, 0)
        stored.push(asStored(b, r.baseOffset))
      }
      assert.deepStrictEqual(stored.map((b) => readHeader(b).baseOffset), [0, 3, 4])
      const all = yield* on(0, fetchAt(0))
      assert.strictEqual(all.errorCode, 0)
      assert.strictEqual(all.highWatermark, 6)
      same(received(all.records), Buffer.concat(stored), "from 0")
      // From an offset inside a batch: that whole batch first.
      same(received((yield* on(0, fetchAt(4))).records), stored[2]!, "from 4")
      same(received((yield* on(0, fetchAt(1))).records), Buffer.concat(stored), "from 1")
      // Too small for one batch: still the first (Fetch asks for at least one).
      same(received((yield* on(0, fetchAt(0, 10))).records), stored[0]!, "maxBytes 10")
      // Exactly two batches' bytes: two batches.
      same(received((yield* on(0, fetchAt(0, stored[0]!.length + stored[1]!.length))).records), Buffer.concat(stored.slice(0, 2)), "two")
      assert.strictEqual(received((yield* on(0, fetchAt(6))).records).length, 0)
      assert.strictEqual((yield* on(0, fetchAt(7))).errorCode, 1)
      const store = yield* on(0, storeOf)
      assert.strictEqual(yield* store.partitionSize(T0), stored.reduce((n, b) => n + b.length, 0))
      assert.deepStrictEqual(yield* store.offsets(T0), { logStartOffset: 0, logEndOffset: 6, lastStableOffset: 6 })
    }))

  sqlIt("two brokers (files: one) appending to one partition at once never assign the same offset", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      const perBroker = 40
      const results = yield* Effect.all(
        [0, 1].map((i) =>
          Effect.forEach(Array.from({ length: perBroker }, (_, k) => k), (k) =>
            Effect.map(on(i, produce(batchOf(`${i}-${k}`, { count: 2 }))), (r) => {
              assert.strictEqual(r.errorCode, 0)
              return r.baseOffset
            }), { concurrency: 4 })),
        { concurrency: "unbounded" }
      )
      const offsets = results.flat().sort((a, b) => a - b)
      assert.deepStrictEqual(offsets, Array.from({ length: 2 * perBroker }, (_, k) => 2 * k))
      // Both brokers read the same contiguous log.
      for (const i of [0, 1]) {
        const store = yield* on(i, storeOf)
        const read = yield* store.read(T0, 0, 50 * 1024 * 1024, true)
        const bases = batchesIn(read.records as Uint8Array).map((b) => b.header.baseOffset)
        assert.deepStrictEqual(bases, offsets)
        assert.strictEqual(read.logEndOffset, 4 * perBroker)
      }
    }))

  sqlIt("an idempotent retry is answered with the original offset, through either broker; gaps and old epochs are refused", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      const first = batchOf("s0", { sequence: 0, count: 2 })
      const r0 = yield* on(0, produce(first))
      assert.strictEqual(r0.errorCode, 0)
      assert.strictEqual((yield* on(0, produce(batchOf("x"))) ).errorCode, 0)
      // The retry arrives at the other broker: the producer state is the database's.
      const retry = yield* on(1, produce(first.slice()))
      assert.strictEqual(retry.errorCode, 0)
      assert.strictEqual(retry.baseOffset, r0.baseOffset)
      const next = yield* on(1, produce(batchOf("s2", { sequence: 2 })))
      assert.strictEqual(next.errorCode, 0)
      assert.strictEqual(next.baseOffset, 3)
      // A gap: OUT_OF_ORDER_SEQUENCE_NUMBER (45), nothing written.
      assert.strictEqual((yield* on(0, produce(batchOf("s9", { sequence: 9 })))).errorCode, 45)
      const store = yield* on(0, storeOf)
      assert.strictEqual((yield* store.offsets(T0)).logEndOffset, 4)
      const [p] = yield* store.producers(T0)
      assert.strictEqual(p!.producerId, 4242)
      assert.strictEqual(p!.lastSequence, 2)
      // An older epoch after a newer one: INVALID_PRODUCER_EPOCH (47).
      const epoch1 = encodeBatch([{ value: text.encode("e1") }], { producerId: 4242, producerEpoch: 1, baseSequence: 0, timestamp: NOW })
      assert.strictEqual((yield* on(1, produce(epoch1))).errorCode, 0)
      assert.strictEqual((yield* on(0, produce(batchOf("s3", { sequence: 3 })))).errorCode, 47)
    }))

  sqlIt("a long poll on one broker wakes on an append through the other (PostgreSQL: LISTEN/NOTIFY)", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      assert.strictEqual((yield* on(0, produce(batchOf("a")))).errorCode, 0)
      const started = Date.now()
      const poll = yield* Effect.forkChild(on(0, fetchAt(1, 1024 * 1024, 20_000)))
      yield* Effect.sleep("300 millis")
      const written = batchOf("b")
      const r = yield* on(1, produce(written))
      assert.strictEqual(r.baseOffset, 1)
      const answer = yield* Fiber.join(poll)
      const waited = Date.now() - started
      assert.isBelow(waited, 5_000, `the poll waited ${waited} ms`)
      same(received(answer.records), asStored(written, 1), "woken fetch")
      // And one that times out when nothing comes.
      const store = yield* on(0, storeOf)
      const t = Date.now()
      yield* store.awaitAppend([{ ...T0, logEndOffset: 2 }], "300 millis")
      assert.isAtLeast(Date.now() - t, 250)
      // A stale end answers at once.
      const u = Date.now()
      yield* store.awaitAppend([{ ...T0, logEndOffset: 1 }], "10 seconds")
      assert.isBelow(Date.now() - u, 2_000)
    }))

  sqlIt("transactions: the last stable offset stops at the open one; read committed gets the aborted ones", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      const store0 = yield* on(0, storeOf)
      const store1 = yield* on(1, storeOf)
      const txn = (pid: number, seq: number) => {
        const b = batchOf(`t${pid}.${seq}`, { sequence: seq, producerId: pid, transactional: true })
        return store0.append(T0, b, readHeader(b))
      }
      const plain = batchOf("plain")
      yield* store0.append(T0, plain, readHeader(plain))
      assert.strictEqual((yield* txn(7, 0)).baseOffset, 1)
      assert.strictEqual((yield* txn(8, 0)).baseOffset, 2)
      assert.deepStrictEqual(yield* store1.offsets(T0), { logStartOffset: 0, logEndOffset: 3, lastStableOffset: 1 })
      const committed = yield* store1.read(T0, 0, 1 << 20, true, "committed")
      assert.deepStrictEqual(batchesIn(committed.records as Uint8Array).map((b) => b.header.baseOffset), [0])
      // Producer 7 aborts (through broker 1), producer 8 commits.
      const abortAt = yield* store1.writeMarker(T0, { producerId: 7, producerEpoch: 0, commit: false, coordinatorEpoch: 0 })
      assert.strictEqual(abortAt, 3)
      assert.strictEqual((yield* store0.offsets(T0)).lastStableOffset, 2)
      yield* store0.writeMarker(T0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 0 })
      assert.deepStrictEqual(yield* store0.offsets(T0), { logStartOffset: 0, logEndOffset: 5, lastStableOffset: 5 })
      const all = yield* store0.read(T0, 0, 1 << 20, true, "committed")
      assert.deepStrictEqual(batchesIn(all.records as Uint8Array).map((b) => b.header.baseOffset), [0, 1, 2, 3, 4])
      assert.deepStrictEqual(all.abortedTransactions, [{ producerId: 7, firstOffset: 1 }])
      assert.deepStrictEqual((yield* store0.read(T0, 4, 1 << 20, true, "committed")).abortedTransactions, [])
      // An older coordinator epoch is fenced (52).
      yield* store0.writeMarker(T0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 3 })
      const fenced = yield* Effect.exit(store0.writeMarker(T0, { producerId: 8, producerEpoch: 0, commit: true, coordinatorEpoch: 2 }))
      assert.isTrue(Exit.isFailure(fenced))
      const info = (yield* store1.producers(T0)).find((p) => p.producerId === 8)!
      assert.strictEqual(info.coordinatorEpoch, 3)
      assert.strictEqual(info.currentTxnStartOffset, -1)
    }))

  sqlIt("DeleteRecords moves the log start (-1: the log end); reads below it are out of range", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      for (let i = 0; i < 5; i++) yield* on(0, produce(batchOf(`d${i}`, { count: 2 })))
      const r = yield* on(1, callResponse(DeleteRecords.make, 2, {
        topics: [{ name: "events", partitions: [{ partitionIndex: 0, offset: 5 }] }],
        timeoutMs: 1000
      }))
      const p = r.topics[0]!.partitions[0]!
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.lowWatermark, 5)
      const store = yield* on(0, storeOf)
      assert.deepStrictEqual(yield* store.offsets(T0), { logStartOffset: 5, logEndOffset: 10, lastStableOffset: 10 })
      // The batch holding offset 5 (4-5) stays; those wholly below go.
      const read = yield* store.read(T0, 5, 1 << 20, true)
      assert.deepStrictEqual(batchesIn(read.records as Uint8Array).map((b) => b.header.baseOffset), [4, 6, 8])
      assert.strictEqual((yield* on(0, fetchAt(2))).errorCode, 1)
      assert.strictEqual(yield* store.deleteRecords(T0, -1), 10)
      // Every batch was wholly below the log end: over PostgreSQL the log is empty (files keep the active
      // segment); it goes on from there.
      if (shared) assert.strictEqual(yield* store.partitionSize(T0), 0)
      assert.strictEqual((yield* on(1, produce(batchOf("next")))).baseOffset, 10)
      assert.deepStrictEqual(yield* store.offsets(T0), { logStartOffset: 10, logEndOffset: 11, lastStableOffset: 11 })
      assert.isTrue(Exit.isFailure(yield* Effect.exit(store.deleteRecords(T0, 12))))
    }))

  sqlIt("offsets by timestamp, describeLogDir, deleting and re-creating a partition", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      const store = yield* on(0, storeOf)
      for (const ts of [NOW - 300, NOW - 100, NOW - 200]) yield* on(0, produce(batchOf("ts", { timestamp: ts })))
      assert.deepStrictEqual(yield* store.offsetForTimestamp(T0, NOW - 150), { offset: 1, timestamp: NOW - 100 })
      assert.deepStrictEqual(yield* store.offsetForTimestamp(T0, -3), { offset: 1, timestamp: NOW - 100 })
      assert.strictEqual(yield* store.offsetForTimestamp(T0, NOW), undefined)
      assert.strictEqual((yield* store.describeLogDir).totalBytes, -1)
      const other = yield* on(1, storeOf)
      yield* other.deletePartition(T0)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(store.read(T0, 0, 100, true))))
      const b = batchOf("gone")
      const refused = yield* Effect.exit(store.append(T0, b, readHeader(b)))
      assert.isTrue(Exit.isFailure(refused) && String(refused.cause).includes("UnknownTopicOrPartition"))
      yield* store.createPartition(T0)
      assert.deepStrictEqual(yield* other.offsets(T0), { logStartOffset: 0, logEndOffset: 0, lastStableOffset: 0 })
      assert.strictEqual((yield* other.append(T0, b, readHeader(b))).baseOffset, 0)
    }))
})

describe("SqlLogStore", () => {
  requirePostgres()

  sqlIt("retention by size and by time deletes the oldest batches, below the last stable offset, the last one kept", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2, {
        topics: { events: 1, aged: 1 },
        topicConfigs: { events: { "retention.bytes": String(2 * readHeader(batchOf("x")).size) }, aged: { "retention.ms": "86400000" } }
      })
      const store = yield* on(0, storeOf)
      for (let i = 0; i < 5; i++) yield* on(0, produce(batchOf(`r${i}`)))
      const aged = { topic: "aged", partition: 0 }
      const day = 86_400_000
      for (const ts of [NOW - 3 * day, NOW - 2 * day, NOW, NOW - 3 * day]) yield* on(1, produce(batchOf("a", { timestamp: ts }), aged))
      yield* (yield* on(1, storeOf)).enforceRetention
      assert.strictEqual((yield* store.offsets(T0)).logStartOffset, 3)
      assert.strictEqual(yield* store.partitionSize(T0), 2 * readHeader(batchOf("x")).size)
      // The two expired ones go; the fresh one stops the prefix, the expired one after it stays.
      assert.strictEqual((yield* store.offsets(aged)).logStartOffset, 2)
      // Nothing more goes on a second pass.
      yield* store.enforceRetention
      assert.strictEqual((yield* store.offsets(T0)).logStartOffset, 3)
      // An open transaction holds retention back.
      const t = batchOf("t", { sequence: 0, transactional: true })
      yield* store.append(T0, t, readHeader(t))
      for (let i = 0; i < 3; i++) yield* on(0, produce(batchOf(`after${i}`)))
      yield* store.enforceRetention
      assert.strictEqual((yield* store.offsets(T0)).logStartOffset, 5)
    }))
})

describe("SqlLogStore partitions", () => {
  requirePostgres()

  sqlIt("creating a partition keeps what other brokers appended to it already, and clears a deleted one", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2)
      const fresh = { topic: "fresh", partition: 0 }
      const b = batchOf("early")
      // The topic is in the metadata before its creator creates its partitions: a producer may be first.
      yield* (yield* on(1, storeOf)).append(fresh, b, readHeader(b))
      const store = yield* on(0, storeOf)
      yield* store.createPartition(fresh)
      assert.strictEqual((yield* store.offsets(fresh)).logEndOffset, 1)
      yield* store.deletePartition(fresh)
      yield* store.createPartition(fresh)
      assert.deepStrictEqual(yield* (yield* on(1, storeOf)).offsets(fresh), { logStartOffset: 0, logEndOffset: 0, lastStableOffset: 0 })
    }))
})

describe("SqlLogStore large reads", () => {
  requirePostgres()

  sqlIt("a read asking for more than 8 MiB answers whole batches up to 8 MiB, and the rest on the next read", () =>
    Effect.gen(function*() {
      const on = yield* brokers(1)
      const store = yield* on(0, storeOf)
      const big = new Uint8Array(1_000_000).fill(7)
      for (let i = 0; i < 10; i++) {
        const b = encodeBatch([{ value: big }], { timestamp: NOW })
        yield* store.append(T0, b, readHeader(b))
      }
      const first = batchesIn((yield* store.read(T0, 0, 100 * 1024 * 1024, true)).records as Uint8Array)
      assert.strictEqual(first.length, 8)
      const rest = batchesIn((yield* store.read(T0, 8, 100 * 1024 * 1024, true)).records as Uint8Array)
      assert.deepStrictEqual(rest.map((b) => b.header.baseOffset), [8, 9])
    }))
})

describe("SqlLogStore compaction", () => {
  requirePostgres()

  const keyed = (key: string, value: string | null) =>
    encodeBatch([{ key: text.encode(key), value: value === null ? null : text.encode(value) }], { timestamp: NOW })

  sqlIt("clean keeps the latest record of each key below the last batch; reads skip what went, offsets unchanged", () =>
    Effect.gen(function*() {
      const on = yield* brokers(2, {
        topics: { events: 1, table: 1 },
        topicConfigs: { table: { "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01" } }
      })
      const table = { topic: "table", partition: 0 }
      const store = yield* on(0, storeOf)
      const writes: Array<[string, string | null]> = [["k1", "v1"], ["k2", "v1"], ["k1", "v2"], ["k3", "v1"], ["k2", null], ["k1", "v3"]]
      for (const [k, v] of writes) {
        const b = keyed(k, v)
        yield* store.append(table, b, readHeader(b))
      }
      // Not compacted: nothing to clean there.
      const plain = batchOf("p")
      yield* store.append(T0, plain, readHeader(plain))
      const done = yield* (yield* on(1, storeOf)).clean
      assert.strictEqual(done.length, 1)
      assert.deepStrictEqual([done[0]!.tp, done[0]!.firstDirty, done[0]!.end], [table, 0, 5])
      const read = yield* store.read(table, 0, 1 << 20, true)
      const left = batchesIn(read.records as Uint8Array).map((b) => b.header.baseOffset)
      // k1@0 and k2@1 were replaced later; k1@2 is the latest below the last batch; the tombstone stays (its
      // delete horizon is ahead); the last batch is never cleaned.
      assert.deepStrictEqual(left, [2, 3, 4, 5])
      assert.strictEqual(yield* store.partitionSize(table), (read.records as Uint8Array).length)
      assert.deepStrictEqual(yield* store.offsets(table), { logStartOffset: 0, logEndOffset: 6, lastStableOffset: 6 })
      // A second pass finds nothing dirty enough; a new batch makes the clean go on from where it ended.
      assert.strictEqual((yield* store.clean).length, 0)
      const more = keyed("k3", "v2")
      yield* store.append(table, more, readHeader(more))
      const again = yield* store.clean
      assert.deepStrictEqual([again[0]!.firstDirty, again[0]!.end], [5, 6])
      // k1@2 goes (k1@5 is later); k3@3 stays: its later record is in the last batch, beyond the map.
      assert.deepStrictEqual(batchesIn((yield* store.read(table, 0, 1 << 20, true)).records as Uint8Array).map((b) => b.header.baseOffset), [3, 4, 5, 6])
      // A fetch at a removed offset gets the next batch.
      assert.strictEqual(batchesIn((yield* store.read(table, 1, 1 << 20, true)).records as Uint8Array)[0]!.header.baseOffset, 3)
    }))
})

describe("SqlLogStore without its database", () => {
  requirePostgres()

  sqlIt("a database gone answers KAFKA_STORAGE_ERROR (56) for produce and fetch; the broker keeps serving", () =>
    Effect.gen(function*() {
      const own = yield* Effect.promise(() => startPostgres())
      const url = yield* Effect.promise(() => own.createDatabase())
      const ctx = yield* Layer.build(layer(MemoryFileSystem.make(), { topics: { events: 1 }, logStoreUrl: url }))
      const on = <A, E>(effect: Effect.Effect<A, E, BrokerServices>) => Effect.provideContext(effect, ctx)
      assert.strictEqual((yield* on(produce(batchOf("before")))).errorCode, 0)
      yield* Effect.promise(() => own.stop())
      const started = Date.now()
      assert.strictEqual((yield* on(produce(batchOf("after")))).errorCode, 56)
      assert.strictEqual((yield* on(fetchAt(0))).errorCode, 56)
      assert.isBelow(Date.now() - started, 30_000)
    }), 90_000)
})
