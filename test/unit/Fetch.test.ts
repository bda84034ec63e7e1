// Fetch over the live log store on the in-memory file system: stored bytes served exactly, batch boundaries,
// byte budgets, offsets out of range, unknown topics by name and id, long polls, and declined sessions.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import type { RequestOf, ResponseOf } from "../../src/protocol/Message.ts"
import type { Fetch as FetchApi } from "../../src/protocol/messages/Fetch.ts"
import type { Produce as ProduceApi } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { batchesIn, callResponse, layer, readLog, received, topicIdOf } from "../support/TestLayers.ts"

type FetchRequest = RequestOf<typeof FetchApi>
type FetchResponse = ResponseOf<typeof FetchApi>
type PartitionResponse = FetchResponse["responses"][number]["partitions"][number]

const text = new TextEncoder()
const batchOf = (...values: Array<string>) =>
  encodeBatch(values.map((v) => ({ value: text.encode(v) })), { timestamp: 1_700_000_000_000 })

/** Produces one batch and returns its base offset. */
const produce = (topic: string, partition: number, batch: Uint8Array) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }]
    } satisfies RequestOf<typeof ProduceApi>),
    (r) => {
      const p = r.responses[0]!.partitionResponses[0]!
      assert.strictEqual(p.errorCode, 0)
      return p.baseOffset
    }
  )

interface PartitionSpec {
  readonly partition: number
  readonly fetchOffset: number
  readonly partitionMaxBytes?: number
}

interface TopicSpec {
  readonly topic?: string
  readonly topicId?: string
  readonly partitions: ReadonlyArray<PartitionSpec>
}

interface Options {
  readonly maxWaitMs?: number
  readonly minBytes?: number
  readonly maxBytes?: number
  readonly sessionId?: number
  readonly sessionEpoch?: number
}

const fetchRequest = (topics: ReadonlyArray<TopicSpec>, options: Options = {}): FetchRequest => ({
  replicaId: -1,
  maxWaitMs: options.maxWaitMs ?? 0,
  minBytes: options.minBytes ?? 0,
  maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
  isolationLevel: 0,
  sessionId: options.sessionId ?? 0,
  sessionEpoch: options.sessionEpoch ?? -1,
  topics: topics.map((t) => ({
    topic: t.topic ?? "",
    topicId: t.topicId ?? ZERO_UUID,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: p.fetchOffset,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: p.partitionMaxBytes ?? 1024 * 1024
    }))
  })),
  forgottenTopicsData: [],
  rackId: ""
})

const fetch = (version: number, topics: ReadonlyArray<TopicSpec>, options: Options = {}) =>
  callResponse(Fetch.make, version, fetchRequest(topics, options))

/** The response of the only partition of the only topic. */
const only = (response: FetchResponse): PartitionResponse => {
  assert.strictEqual(response.errorCode, 0)
  assert.strictEqual(response.responses.length, 1)
  assert.strictEqual(response.responses[0]!.partitions.length, 1)
  return response.responses[0]!.partitions[0]!
}

const recordsOf = (p: PartitionResponse): Uint8Array => received(p.records)

const broker = (topics: Record<string, number> = { events: 1 }) => layer(MemoryFileSystem.make(), { topics })

const T0 = { topic: "events", partition: 0 }

describe("Fetch", () => {
  it.effect.each([
    { version: 4, byId: false },
    { version: 12, byId: false },
    { version: 16, byId: true }
  ])("returns the stored bytes exactly (v$version)", ({ version, byId }) =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a", "b"))
      yield* produce("events", 0, batchOf("c"))
      const file = yield* readLog(T0)
      const topic: TopicSpec = byId
        ? { topicId: topicIdOf("events"), partitions: [{ partition: 0, fetchOffset: 0 }] }
        : { topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }
      const response = yield* fetch(version, [topic])
      if (byId) assert.strictEqual(response.responses[0]!.topicId, topicIdOf("events"))
      else assert.strictEqual(response.responses[0]!.topic, "events")
      const p = only(response)
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.partitionIndex, 0)
      assert.strictEqual(p.highWatermark, 3)
      assert.strictEqual(p.lastStableOffset, 3)
      if (version >= 5) assert.strictEqual(p.logStartOffset, 0)
      assert.deepStrictEqual(recordsOf(p), file)
      assert.deepStrictEqual(batchesIn(recordsOf(p)).map((b) => b.header.baseOffset), [0, 2])
    }).pipe(Effect.provide(broker())))

  it.effect("an offset inside a batch returns that whole batch", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a", "b", "c")) // offsets 0-2
      yield* produce("events", 0, batchOf("d")) // offset 3
      const file = yield* readLog(T0)
      const [first, second] = batchesIn(file)

      const all = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 1 }] }]))
      assert.deepStrictEqual(recordsOf(all), file)
      assert.strictEqual(batchesIn(recordsOf(all))[0]!.header.baseOffset, 0)

      const bounded = only(yield* fetch(12, [{
        topic: "events",
        partitions: [{ partition: 0, fetchOffset: 2, partitionMaxBytes: first!.header.size }]
      }]))
      assert.deepStrictEqual(recordsOf(bounded), first!.bytes)

      const last = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 3 }] }]))
      assert.deepStrictEqual(recordsOf(last), second!.bytes)
    }).pipe(Effect.provide(broker())))

  it.effect("after a restart the same bytes are served from the same offsets", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const restartable = () => layer(fs, { topics: { events: 1 } })
      yield* Effect.gen(function*() {
        yield* produce("events", 0, batchOf("a", "b"))
        yield* produce("events", 0, batchOf("c"))
      }).pipe(Effect.provide(restartable()))

      yield* Effect.gen(function*() {
        const file = yield* readLog(T0)
        const [, second] = batchesIn(file)
        const all = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }]))
        assert.deepStrictEqual(recordsOf(all), file)
        assert.strictEqual(all.highWatermark, 3)
        const tail = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 2 }] }]))
        assert.deepStrictEqual(recordsOf(tail), second!.bytes)
      }).pipe(Effect.provide(restartable()))
    }))

  it.effect("partition_max_bytes below a batch still returns one whole batch for the first partition", () =>
    Effect.gen(function*() {
      for (const partition of [0, 1]) {
        yield* produce("events", partition, batchOf("one", "two"))
        yield* produce("events", partition, batchOf("three"))
      }
      const file0 = yield* readLog(T0)
      const response = yield* fetch(12, [{
        topic: "events",
        partitions: [
          { partition: 0, fetchOffset: 0, partitionMaxBytes: 10 },
          { partition: 1, fetchOffset: 0, partitionMaxBytes: 10 }
        ]
      }])
      const [p0, p1] = response.responses[0]!.partitions
      assert.strictEqual(p0!.errorCode, 0)
      assert.deepStrictEqual(recordsOf(p0!), batchesIn(file0)[0]!.bytes)
      // Only the first partition with data may go over its limit; the next one answers no records.
      assert.strictEqual(p1!.errorCode, 0)
      assert.strictEqual(recordsOf(p1!).length, 0)
      assert.strictEqual(p1!.highWatermark, 3)
    }).pipe(Effect.provide(broker({ events: 2 }))))

  it.effect("partition_max_bytes bounds the batches of one partition", () =>
    Effect.gen(function*() {
      for (const v of ["a", "b", "c"]) yield* produce("events", 0, batchOf(v))
      const batches = batchesIn(yield* readLog(T0))
      const two = batches[0]!.header.size + batches[1]!.header.size
      const p = only(yield* fetch(12, [{
        topic: "events",
        partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: two + 1 }]
      }]))
      assert.deepStrictEqual(batchesIn(recordsOf(p)).map((b) => b.header.baseOffset), [0, 1])
    }).pipe(Effect.provide(broker())))

  it.effect("max_bytes is a budget shared by the partitions in order", () =>
    Effect.gen(function*() {
      for (const partition of [0, 1, 2]) yield* produce("events", partition, batchOf("same size"))
      const size = (yield* readLog(T0)).length
      const partitions = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0 }))

      const twoAndAHalf = yield* fetch(12, [{ topic: "events", partitions }], { maxBytes: size * 2 + size / 2 })
      assert.deepStrictEqual(
        twoAndAHalf.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, recordsOf(p).length]),
        [[0, 0, size], [1, 0, size], [2, 0, 0]]
      )

      // Below one batch, the first partition still gets its batch and the rest get nothing.
      const tiny = yield* fetch(12, [{ topic: "events", partitions }], { maxBytes: 1 })
      assert.deepStrictEqual(
        tiny.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, recordsOf(p).length]),
        [[0, 0, size], [1, 0, 0], [2, 0, 0]]
      )

      // An empty first partition does not use up the exception: the first with data gets it.
      yield* produce("events", 1, batchOf("same size"))
      const fromEnd = yield* fetch(12, [{
        topic: "events",
        partitions: [{ partition: 0, fetchOffset: 1 }, { partition: 1, fetchOffset: 0 }, { partition: 2, fetchOffset: 0 }]
      }], { maxBytes: 1 })
      assert.deepStrictEqual(
        fromEnd.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, recordsOf(p).length]),
        [[0, 0, 0], [1, 0, size], [2, 0, 0]]
      )
    }).pipe(Effect.provide(broker({ events: 3 }))))

  it.effect("an offset beyond the end is answered with error 1, high watermark and log start offset", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a", "b"))
      const p = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 5 }] }]))
      assert.strictEqual(p.errorCode, 1)
      assert.strictEqual(p.highWatermark, 2)
      assert.strictEqual(p.logStartOffset, 0)
      assert.strictEqual(recordsOf(p).length, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("a fetch at the end answers no records and no error", () =>
    Effect.gen(function*() {
      const empty = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }]))
      assert.strictEqual(empty.errorCode, 0)
      assert.strictEqual(empty.highWatermark, 0)
      assert.strictEqual(recordsOf(empty).length, 0)

      yield* produce("events", 0, batchOf("a", "b"))
      const atEnd = only(yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 2 }] }], {
        minBytes: 1
      }))
      assert.strictEqual(atEnd.errorCode, 0)
      assert.strictEqual(atEnd.highWatermark, 2)
      assert.strictEqual(atEnd.logStartOffset, 0)
      assert.strictEqual(recordsOf(atEnd).length, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("an unknown topic name is answered with error 3, an unknown topic id with 100", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a"))
      const byName = yield* fetch(12, [
        { topic: "nope", partitions: [{ partition: 0, fetchOffset: 0 }] },
        { topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 4, fetchOffset: 0 }] }
      ])
      assert.deepStrictEqual(
        byName.responses.map((t) => [t.topic, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
        [["nope", [[0, 3]]], ["events", [[0, 0], [4, 3]]]]
      )
      assert.isAbove(recordsOf(byName.responses[1]!.partitions[0]!).length, 0)

      const unknownId = topicIdOf("nope")
      const byId = yield* fetch(13, [
        { topicId: unknownId, partitions: [{ partition: 0, fetchOffset: 0 }] },
        { topicId: topicIdOf("events"), partitions: [{ partition: 0, fetchOffset: 0 }] }
      ])
      assert.deepStrictEqual(
        byId.responses.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
        [[unknownId, [[0, 100]]], [topicIdOf("events"), [[0, 0]]]]
      )
    }).pipe(Effect.provide(broker())))

  it.effect("an empty topic list is answered with an empty list", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a"))
      for (const version of [4, 12, 16]) {
        const response = yield* fetch(version, [], { minBytes: 1, maxWaitMs: 0 })
        assert.strictEqual(response.errorCode, 0)
        assert.deepStrictEqual(response.responses, [])
      }
    }).pipe(Effect.provide(broker())))

  it.live("a long poll returns as soon as another fiber produces", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("before"))
      const started = Date.now()
      const poll = yield* Effect.forkChild(
        fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 1 }] }], { minBytes: 1, maxWaitMs: 2000 })
      )
      yield* Effect.sleep(100)
      assert.isUndefined(poll.pollUnsafe(), "the fetch waits while there is nothing to return")
      const batch = batchOf("after")
      assert.strictEqual(yield* produce("events", 0, batch), 1)
      const p = only(yield* Fiber.join(poll))
      const elapsed = Date.now() - started
      assert.isBelow(elapsed, 1000, `returned after ${elapsed} ms`)
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.highWatermark, 2)
      const file = yield* readLog(T0)
      assert.deepStrictEqual(recordsOf(p), batchesIn(file)[1]!.bytes)
    }).pipe(Effect.provide(broker())))

  it.live("a long poll over several partitions wakes for an append to any of them", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const poll = yield* Effect.forkChild(fetch(12, [{
        topic: "events",
        partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 1, fetchOffset: 0 }]
      }], { minBytes: 1, maxWaitMs: 2000 }))
      yield* Effect.sleep(50)
      yield* produce("events", 1, batchOf("p1"))
      const response = yield* Fiber.join(poll)
      assert.isBelow(Date.now() - started, 1000)
      assert.deepStrictEqual(
        response.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, recordsOf(p).length > 0]),
        [[0, 0, false], [1, 0, true]]
      )
    }).pipe(Effect.provide(broker({ events: 2 }))))

  it.effect("a long poll with nothing produced returns empty after max_wait_ms", () =>
    Effect.gen(function*() {
      const poll = yield* Effect.forkChild(
        fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }], { minBytes: 1, maxWaitMs: 2000 })
      )
      yield* TestClock.adjust(1999)
      assert.isUndefined(poll.pollUnsafe(), "still waiting before max_wait_ms")
      yield* TestClock.adjust(1)
      const p = only(yield* Fiber.join(poll))
      assert.strictEqual(p.errorCode, 0)
      assert.strictEqual(p.highWatermark, 0)
      assert.strictEqual(recordsOf(p).length, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("waiting for an append returns at once when the log moved after the caller read it", () =>
    Effect.gen(function*() {
      const store = yield* LogStore
      yield* produce("events", 0, batchOf("a"))
      // The caller saw the log end at 0, before the append: no time may pass, the wait must not start.
      yield* store.awaitAppend([{ topic: "events", partition: 0, logEndOffset: 0 }], "10 seconds")
      const waiting = yield* Effect.forkChild(store.awaitAppend([{ topic: "events", partition: 0, logEndOffset: 1 }], "10 seconds"))
      yield* TestClock.adjust(5000)
      assert.isUndefined(waiting.pollUnsafe(), "an up-to-date caller waits")
      yield* produce("events", 0, batchOf("b"))
      yield* Fiber.join(waiting)
    }).pipe(Effect.provide(broker())))

  it.effect("a fetch session is declined: continuing a session is answered with error 70", () =>
    Effect.gen(function*() {
      yield* produce("events", 0, batchOf("a"))
      const response = yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }], {
        sessionId: 12345,
        sessionEpoch: 1
      })
      assert.strictEqual(response.errorCode, 70)
      assert.strictEqual(response.sessionId, 0)
      assert.deepStrictEqual(response.responses, [])

      // A full fetch that asks for a new session (epoch 0) is served without one.
      const full = yield* fetch(12, [{ topic: "events", partitions: [{ partition: 0, fetchOffset: 0 }] }], {
        sessionId: 0,
        sessionEpoch: 0
      })
      assert.strictEqual(full.errorCode, 0)
      assert.strictEqual(full.sessionId, 0)
      assert.isAbove(recordsOf(only(full)).length, 0)
    }).pipe(Effect.provide(broker())))
})
