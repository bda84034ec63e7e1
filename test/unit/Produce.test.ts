// Produce over the live log store on the in-memory file system: offsets assigned, bytes on disk, per-partition
// errors, acks, restart recovery (including a torn tail) and concurrent producers.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import type { RequestOf, ResponseOf } from "../../src/protocol/Message.ts"
import type { Produce as ProduceApi } from "../../src/protocol/messages/Produce.ts"
import { computeCrc, decodeRecords, encodeBatch, type NewRecord } from "../../src/protocol/RecordBatch.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { NoResponse } from "../../src/services/api/Handler.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { batchesIn, call, callResponse, layer, readLog, segmentPath, yielding } from "../support/TestLayers.ts"

type ProduceRequest = RequestOf<typeof ProduceApi>
type PartitionResponse = ResponseOf<typeof ProduceApi>["responses"][number]["partitionResponses"][number]

const VERSION = 9
const text = new TextEncoder()
const value = (s: string): NewRecord => ({ value: text.encode(s) })
const batchOf = (...values: Array<string>) => encodeBatch(values.map(value), { timestamp: 1_700_000_000_000 })

const request = (
  topics: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, Uint8Array | null]>]>,
  acks = -1
): ProduceRequest => ({
  transactionalId: null,
  acks,
  timeoutMs: 30_000,
  topicData: topics.map(([name, partitions]) => ({
    name,
    partitionData: partitions.map(([index, records]) => ({ index, records }))
  }))
})

/** Produces one batch to `topic`-`partition` and returns that partition's response. */
const produceOne = (topic: string, partition: number, batch: Uint8Array, version = VERSION) =>
  Effect.map(callResponse(Produce.make, version, request([[topic, [[partition, batch]]]])), (r) => {
    assert.strictEqual(r.responses.length, 1)
    assert.strictEqual(r.responses[0]!.partitionResponses.length, 1)
    return r.responses[0]!.partitionResponses[0]!
  })

const partitionOf = (response: ResponseOf<typeof ProduceApi>, topic: string, index: number): PartitionResponse => {
  const found = response.responses.find((t) => t.name === topic)?.partitionResponses.find((p) => p.index === index)
  if (found === undefined) throw new Error(`no response for ${topic}-${index}`)
  return found
}

const T0 = { topic: "events", partition: 0 }

describe("Produce", () => {
  it.effect.each([3, 8, 9, 11])("one record gets offset 0 and lands in the partition's log (v%i)", (version) =>
    Effect.gen(function*() {
      const batch = batchOf("hello")
      const r = yield* produceOne("events", 0, batch, version)
      assert.strictEqual(r.errorCode, 0)
      assert.strictEqual(r.baseOffset, 0)
      if (version >= 5) assert.strictEqual(r.logStartOffset, 0)

      const file = yield* readLog(T0)
      const batches = batchesIn(file)
      assert.strictEqual(batches.length, 1)
      assert.strictEqual(file.length, batch.length)
      assert.strictEqual(batches[0]!.header.baseOffset, 0)
      assert.strictEqual(batches[0]!.header.partitionLeaderEpoch, 0)
      // The stored bytes are the produced ones from `attributes` on (what the CRC covers).
      assert.deepStrictEqual(file.subarray(21), batch.subarray(21))
      assert.deepStrictEqual(decodeRecords(file).map((rec) => [rec.offset, new TextDecoder().decode(rec.value!)]), [[0, "hello"]])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("three successive produces get offsets 0, 1, 2 and leave three batches on disk", () =>
    Effect.gen(function*() {
      const offsets: Array<number> = []
      for (const v of ["a", "b", "c"]) {
        const r = yield* produceOne("events", 0, batchOf(v))
        assert.strictEqual(r.errorCode, 0)
        offsets.push(r.baseOffset)
      }
      assert.deepStrictEqual(offsets, [0, 1, 2])
      const batches = batchesIn(yield* readLog(T0))
      assert.deepStrictEqual(batches.map((b) => b.header.baseOffset), [0, 1, 2])
      assert.deepStrictEqual(batches.map((b) => b.header.recordCount), [1, 1, 1])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("one request to three partitions assigns each its own offsets", () =>
    Effect.gen(function*() {
      const req = () => request([["multi", [[0, batchOf("p0")], [1, batchOf("p1")], [2, batchOf("p2")]]]])
      const first = yield* callResponse(Produce.make, VERSION, req())
      assert.deepStrictEqual(
        [0, 1, 2].map((i) => [partitionOf(first, "multi", i).errorCode, partitionOf(first, "multi", i).baseOffset]),
        [[0, 0], [0, 0], [0, 0]]
      )
      const second = yield* callResponse(Produce.make, VERSION, req())
      assert.deepStrictEqual(
        [0, 1, 2].map((i) => [partitionOf(second, "multi", i).errorCode, partitionOf(second, "multi", i).baseOffset]),
        [[0, 1], [0, 1], [0, 1]]
      )
      for (const partition of [0, 1, 2]) {
        const batches = batchesIn(yield* readLog({ topic: "multi", partition }))
        assert.deepStrictEqual(batches.map((b) => b.header.baseOffset), [0, 1])
      }
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { multi: 3 } }))))

  it.effect("large batches to several partitions (written side by side) each land at their offsets; a refused one fails alone", () =>
    Effect.gen(function*() {
      // 300 records of 1 KiB: batches large enough for the store to write a request's side by side.
      const big = (tag: string, options: Parameters<typeof encodeBatch>[1] = {}) =>
        encodeBatch(Array.from({ length: 300 }, (_, i) => ({ value: text.encode(`${tag}-${i}-`.padEnd(1024, "x")) })), { timestamp: 1_700_000_000_000, ...options })
      const idempotent = { producerId: 77, producerEpoch: 0 }
      const first = yield* callResponse(Produce.make, VERSION, request([["wide", [[0, big("a0")], [1, big("a1", { ...idempotent, baseSequence: 0 })], [2, big("a2")], [3, big("a3")]]]]))
      assert.deepStrictEqual([0, 1, 2, 3].map((i) => [partitionOf(first, "wide", i).errorCode, partitionOf(first, "wide", i).baseOffset]), [[0, 0], [0, 0], [0, 0], [0, 0]])
      // Partition 1's producer skips sequences 300-399: refused with 45 in its place, its siblings appended.
      const second = yield* callResponse(Produce.make, VERSION, request([["wide", [[0, big("b0")], [1, big("b1", { ...idempotent, baseSequence: 400 })], [2, big("b2")], [3, big("b3")]]]]))
      assert.deepStrictEqual(second.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]), [[0, 0, 300], [1, 45, -1], [2, 0, 300], [3, 0, 300]])
      for (const partition of [0, 1, 2, 3]) {
        const records = batchesIn(yield* readLog({ topic: "wide", partition })).flatMap((b) => decodeRecords(b.bytes))
        const expected = partition === 1 ? ["a1"] : [`a${partition}`, `b${partition}`]
        assert.deepStrictEqual([...new Set(records.map((r) => new TextDecoder().decode(r.value!).split("-")[0]))], expected)
        assert.deepStrictEqual(records.map((r) => r.offset), Array.from({ length: records.length }, (_, i) => i))
      }
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { wide: 4 } }))))

  it.effect("a batch of three records advances the next offset by three", () =>
    Effect.gen(function*() {
      const first = yield* produceOne("events", 0, batchOf("x", "y", "z"))
      assert.strictEqual(first.baseOffset, 0)
      const second = yield* produceOne("events", 0, batchOf("after"))
      assert.strictEqual(second.baseOffset, 3)
      const file = yield* readLog(T0)
      assert.deepStrictEqual(batchesIn(file).map((b) => b.header.baseOffset), [0, 3])
      assert.deepStrictEqual(decodeRecords(batchesIn(file)[1]!.bytes).map((r) => r.offset), [3])
      assert.deepStrictEqual(decodeRecords(batchesIn(file)[0]!.bytes).map((r) => r.offset), [0, 1, 2])
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("an unknown topic or partition fails alone with error 3; its sibling succeeds", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(
        Produce.make,
        VERSION,
        request([
          ["events", [[0, batchOf("ok")], [7, batchOf("no such partition")]]],
          ["nope", [[0, batchOf("no such topic")]]]
        ])
      )
      const ok = partitionOf(response, "events", 0)
      assert.strictEqual(ok.errorCode, 0)
      assert.strictEqual(ok.baseOffset, 0)
      const badPartition = partitionOf(response, "events", 7)
      assert.strictEqual(badPartition.errorCode, 3)
      assert.strictEqual(badPartition.baseOffset, -1)
      const badTopic = partitionOf(response, "nope", 0)
      assert.strictEqual(badTopic.errorCode, 3)
      assert.strictEqual(badTopic.baseOffset, -1)
      assert.strictEqual(batchesIn(yield* readLog(T0)).length, 1)
      const fs = yield* FileSystem.FileSystem
      assert.isFalse(yield* Effect.orDie(fs.exists("/data/nope-0")))
      assert.isFalse(yield* Effect.orDie(fs.exists("/data/events-7")))
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("a flipped CRC byte is answered with error 2 and nothing is written", () =>
    Effect.gen(function*() {
      yield* produceOne("events", 0, batchOf("first"))
      const before = yield* readLog(T0)
      const corrupt = batchOf("second")
      corrupt[17] ^= 0xff
      const r = yield* produceOne("events", 0, corrupt)
      assert.strictEqual(r.errorCode, 2)
      assert.strictEqual(r.baseOffset, -1)
      assert.deepStrictEqual(yield* readLog(T0), before)
      // A flipped byte in the records (covered by the CRC) is corrupt too.
      const flippedBody = batchOf("third")
      flippedBody[flippedBody.length - 1] ^= 0x01
      assert.strictEqual((yield* produceOne("events", 0, flippedBody)).errorCode, 2)
      assert.deepStrictEqual(yield* readLog(T0), before)
      // And the next good batch continues from offset 1.
      assert.strictEqual((yield* produceOne("events", 0, batchOf("fourth"))).baseOffset, 1)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("a batch over message.max.bytes is answered with error 10", () =>
    Effect.gen(function*() {
      const big = encodeBatch([{ value: new Uint8Array(600) }])
      assert.isAbove(big.length, 512)
      const r = yield* produceOne("events", 0, big)
      assert.strictEqual(r.errorCode, 10)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, 0)
      // A batch within the limit is still accepted.
      assert.strictEqual((yield* produceOne("events", 0, batchOf("small"))).errorCode, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), {
      topics: { events: 1 },
      properties: { "message.max.bytes": "512" }
    }))))

  it.effect("two batches concatenated for one partition are answered with error 87", () =>
    Effect.gen(function*() {
      const a = batchOf("a")
      const b = batchOf("b")
      const both = new Uint8Array(a.length + b.length)
      both.set(a)
      both.set(b, a.length)
      const r = yield* produceOne("events", 0, both)
      assert.strictEqual(r.errorCode, 87)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("a record count inconsistent with lastOffsetDelta is answered with error 87", () =>
    Effect.gen(function*() {
      const batch = batchOf("a", "b")
      const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength)
      view.setInt32(57, 5) // recordCount 5, lastOffsetDelta 1
      view.setUint32(17, computeCrc(batch)) // a valid CRC, so only the count is wrong
      const r = yield* produceOne("events", 0, batch)
      assert.strictEqual(r.errorCode, 87)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("null records are answered with error 87", () =>
    Effect.gen(function*() {
      const response = yield* callResponse(Produce.make, VERSION, request([["events", [[0, null]]]]))
      const r = partitionOf(response, "events", 0)
      assert.strictEqual(r.errorCode, 87)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("acks=0 gets no response but the data is appended", () =>
    Effect.gen(function*() {
      const result = yield* call(Produce.make, VERSION, request([["events", [[0, batchOf("fire and forget")]]]], 0))
      assert.strictEqual(result, NoResponse)
      const batches = batchesIn(yield* readLog(T0))
      assert.deepStrictEqual(batches.map((b) => b.header.baseOffset), [0])
      assert.strictEqual((yield* produceOne("events", 0, batchOf("next"))).baseOffset, 1)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("acks other than -1, 0, 1 is answered with error 21 and nothing is written", () =>
    Effect.gen(function*() {
      const response = yield* call(Produce.make, VERSION, request([["events", [[0, batchOf("x")]]]], 2))
      assert.notStrictEqual(response, NoResponse)
      if (response === NoResponse) return
      const r = partitionOf(response, "events", 0)
      assert.strictEqual(r.errorCode, 21)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { events: 1 } }))))

  it.effect("after a restart over the same files offsets continue", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const broker = () => layer(fs, { topics: { events: 2 } })
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* produceOne("events", 0, batchOf("a", "b"))).baseOffset, 0)
        assert.strictEqual((yield* produceOne("events", 0, batchOf("c"))).baseOffset, 2)
        assert.strictEqual((yield* produceOne("events", 1, batchOf("d"))).baseOffset, 0)
      }).pipe(Effect.provide(broker()))

      yield* Effect.gen(function*() {
        const store = yield* LogStore
        assert.deepStrictEqual(yield* store.offsets(T0), { logStartOffset: 0, logEndOffset: 3, lastStableOffset: 3 })
        assert.strictEqual((yield* produceOne("events", 0, batchOf("e"))).baseOffset, 3)
        assert.strictEqual((yield* produceOne("events", 1, batchOf("f"))).baseOffset, 1)
        assert.deepStrictEqual(batchesIn(yield* readLog(T0)).map((b) => b.header.baseOffset), [0, 2, 3])
      }).pipe(Effect.provide(broker()))
    }))

  it.effect("a torn tail is truncated back to the last whole batch on restart and offsets continue", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const broker = () => layer(fs, { topics: { events: 1 } })
      yield* Effect.gen(function*() {
        yield* produceOne("events", 0, batchOf("a"))
        yield* produceOne("events", 0, batchOf("b", "c"))
      }).pipe(Effect.provide(broker()))

      const path = segmentPath(T0)
      const whole = yield* Effect.orDie(fs.readFile(path))
      // Half of a batch whose header claims more bytes than follow: a write cut short by a crash.
      const next = encodeBatch([value("torn"), value("write")], { baseOffset: 3 })
      yield* Effect.orDie(fs.writeFile(path, next.subarray(0, Math.floor(next.length / 2)), { flag: "a" }))
      assert.strictEqual(Number((yield* Effect.orDie(fs.stat(path))).size), whole.length + Math.floor(next.length / 2))

      yield* Effect.gen(function*() {
        // A partition loads, and a damaged tail is cut, when it is first used.
        yield* (yield* LogStore).offsets(T0)
        assert.strictEqual(Number((yield* Effect.orDie(fs.stat(path))).size), whole.length)
        assert.deepStrictEqual(yield* readLog(T0), whole)
        assert.strictEqual((yield* produceOne("events", 0, batchOf("d"))).baseOffset, 3)
        assert.deepStrictEqual(batchesIn(yield* readLog(T0)).map((b) => b.header.baseOffset), [0, 1, 3])
      }).pipe(Effect.provide(broker()))
    }))

  const badTails: ReadonlyArray<{ readonly title: string; readonly tail: () => Uint8Array }> = [
    { title: "bytes that are no batch at all", tail: () => new Uint8Array(100).fill(0xab) },
    { title: "zeros (a file extended but never written)", tail: () => new Uint8Array(4096) },
    { title: "only part of a batch header", tail: () => batchOf("x").subarray(0, 20) },
    {
      title: "a whole batch with a bad CRC",
      tail: () => {
        const b = encodeBatch([value("bad")], { baseOffset: 1 })
        b[b.length - 1] ^= 0x01
        return b
      }
    }
  ]

  it.effect.each(badTails)("a tail of $title is truncated on restart", ({ tail }) =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const broker = () => layer(fs, { topics: { events: 1 } })
      yield* produceOne("events", 0, batchOf("a")).pipe(Effect.provide(broker()))
      const path = segmentPath(T0)
      const whole = yield* Effect.orDie(fs.readFile(path))
      yield* Effect.orDie(fs.writeFile(path, tail(), { flag: "a" }))

      yield* Effect.gen(function*() {
        // A partition loads, and a damaged tail is cut, when it is first used.
        yield* (yield* LogStore).offsets(T0)
        assert.deepStrictEqual(yield* readLog(T0), whole)
        assert.strictEqual((yield* produceOne("events", 0, batchOf("b"))).baseOffset, 1)
        assert.deepStrictEqual(batchesIn(yield* readLog(T0)).map((b) => b.header.baseOffset), [0, 1])
      }).pipe(Effect.provide(broker()))
    }))

  it.effect("a restart recovers a log larger than one read window, with a batch larger than the window", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const broker = () => layer(fs, { topics: { events: 1 }, properties: { "message.max.bytes": String(4 * 1024 * 1024) } })
      const payload = (n: number) => ({ value: new Uint8Array(n).fill(7) })
      let expectedNext = 0
      const baseOffsets: Array<number> = []
      yield* Effect.gen(function*() {
        for (let i = 0; i < 24; i++) {
          const r = yield* produceOne("events", 0, encodeBatch([payload(100_000), payload(10)]))
          assert.strictEqual(r.baseOffset, expectedNext)
          baseOffsets.push(r.baseOffset)
          expectedNext += 2
        }
        const big = yield* produceOne("events", 0, encodeBatch([payload(1_500_000)]))
        assert.strictEqual(big.baseOffset, expectedNext)
        baseOffsets.push(big.baseOffset)
        expectedNext += 1
        const after = yield* produceOne("events", 0, batchOf("after the big one"))
        baseOffsets.push(after.baseOffset)
        expectedNext += 1
      }).pipe(Effect.provide(broker()))
      const path = segmentPath(T0)
      const whole = yield* Effect.orDie(fs.readFile(path))
      assert.isAbove(whole.length, 3 * 1024 * 1024)
      yield* Effect.orDie(fs.writeFile(path, encodeBatch([payload(50_000)]).subarray(0, 30_000), { flag: "a" }))

      yield* Effect.gen(function*() {
        // A partition loads, and a damaged tail is cut, when it is first used.
        yield* (yield* LogStore).offsets(T0)
        assert.strictEqual((yield* readLog(T0)).length, whole.length)
        const store = yield* LogStore
        assert.deepStrictEqual(yield* store.offsets(T0), { logStartOffset: 0, logEndOffset: expectedNext, lastStableOffset: expectedNext })
        assert.strictEqual((yield* produceOne("events", 0, batchOf("next"))).baseOffset, expectedNext)
        assert.deepStrictEqual(
          batchesIn(yield* readLog(T0)).map((b) => b.header.baseOffset),
          [...baseOffsets, expectedNext]
        )
      }).pipe(Effect.provide(broker()))
    }))

  it.effect("concurrent produces to one partition get distinct, gap-free offsets", () =>
    Effect.gen(function*() {
      const producers = 50
      const results = yield* Effect.forEach(
        Array.from({ length: producers }, (_, i) => i),
        (i) => {
          const count = (i % 3) + 1
          const values = Array.from({ length: count }, (_, j) => `p${i}-r${j}`)
          return Effect.map(produceOne("events", 0, batchOf(...values)), (r) => ({ i, count, r }))
        },
        { concurrency: "unbounded" }
      )
      for (const { r } of results) assert.strictEqual(r.errorCode, 0)
      const sorted = [...results].sort((a, b) => a.r.baseOffset - b.r.baseOffset)
      let next = 0
      for (const { count, r } of sorted) {
        assert.strictEqual(r.baseOffset, next)
        next += count
      }
      const total = results.reduce((n, x) => n + x.count, 0)
      assert.strictEqual(next, total)

      // The file agrees: batches in offset order, each holding the records its producer sent.
      const batches = batchesIn(yield* readLog(T0))
      assert.strictEqual(batches.length, producers)
      assert.deepStrictEqual(batches.map((b) => b.header.baseOffset), sorted.map((x) => x.r.baseOffset))
      for (const [k, b] of batches.entries()) {
        const { i } = sorted[k]!
        const values = decodeRecords(b.bytes).map((rec) => new TextDecoder().decode(rec.value!))
        assert.strictEqual(values[0], `p${i}-r0`)
      }
      const store = yield* LogStore
      assert.strictEqual((yield* store.offsets(T0)).logEndOffset, total)
    }).pipe(Effect.provide(layer(yielding(MemoryFileSystem.make()), { topics: { events: 1 } }))))
})
