// The idempotent producer through the handlers, over the live services on the in-memory file system:
// InitProducerId hands out ids that never repeat (restarts included), and Produce writes a retried batch
// once, refuses gaps and fenced epochs, and still recognises retries after a restart and under concurrency.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as KRaftMetadata from "../../src/layers/metadata/KRaftMetadata.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import type { RequestOf } from "../../src/protocol/Message.ts"
import type { InitProducerId as InitProducerIdApi } from "../../src/protocol/messages/InitProducerId.ts"
import type { Produce as ProduceApi } from "../../src/protocol/messages/Produce.ts"
import { encodeBatch } from "../../src/protocol/RecordBatch.ts"
import * as InitProducerId from "../../src/services/api/InitProducerId.ts"
import { BLOCK_SIZE } from "../../src/layers/metadata/ProducerIds.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { batchesIn, callResponse, layer, LOG_DIR, readLog, yielding } from "../support/TestLayers.ts"

type InitRequest = RequestOf<typeof InitProducerIdApi>

const T0 = { topic: "events", partition: 0 }
const text = new TextEncoder()

const init = (version: number, fields: Partial<InitRequest> = {}) =>
  callResponse(InitProducerId.make, version, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
    ...fields
  })

/** A fresh producer id, as a client gets it. */
const newProducer = Effect.map(init(4), (r) => {
  assert.strictEqual(r.errorCode, 0)
  return r.producerId
})

/** A batch of `count` records of an idempotent producer. */
const batch = (producerId: number, baseSequence: number, count = 1, producerEpoch = 0) =>
  encodeBatch(Array.from({ length: count }, (_, i) => ({ value: text.encode(`s${baseSequence + i}`) })), {
    producerId,
    producerEpoch,
    baseSequence,
    timestamp: 1_700_000_000_000
  })

const produceRequest = (records: Uint8Array): RequestOf<typeof ProduceApi> => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 30_000,
  topicData: [{ name: T0.topic, partitionData: [{ index: T0.partition, records }] }]
})

/** Produces one batch to events-0 (v9) and returns the partition's response. */
const produce = (records: Uint8Array) =>
  Effect.map(callResponse(Produce.make, 9, produceRequest(records)), (r) => r.responses[0]!.partitionResponses[0]!)

/** The batches in events-0's log file. */
const stored = Effect.map(readLog(T0), batchesIn)

const broker = (fs = MemoryFileSystem.make()) => layer(fs, { topics: { events: 1 } })

describe("InitProducerId", () => {
  it.effect.each([0, 1, 2, 3, 4, 5])("allocates distinct producer ids with epoch 0 (v%i)", (version) =>
    Effect.gen(function*() {
      const ids = new Set<number>()
      for (let i = 0; i < 5; i++) {
        const r = yield* init(version)
        assert.strictEqual(r.errorCode, 0)
        assert.strictEqual(r.producerEpoch, 0)
        assert.isAtLeast(r.producerId, 0)
        ids.add(r.producerId)
      }
      assert.strictEqual(ids.size, 5)
    }).pipe(Effect.provide(broker())))

  it.effect("concurrent requests get distinct ids, across a block boundary", () =>
    Effect.gen(function*() {
      const n = BLOCK_SIZE + 50
      const results = yield* Effect.forEach(Array.from({ length: n }), () => init(4), { concurrency: 64 })
      for (const r of results) assert.strictEqual(r.errorCode, 0)
      assert.strictEqual(new Set(results.map((r) => r.producerId)).size, n)
    }).pipe(Effect.provide(broker())))

  it.effect("ids never repeat across restarts over the same files", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const seen: Array<number> = []
      for (let restart = 0; restart < 3; restart++) {
        yield* Effect.gen(function*() {
          for (let i = 0; i < 3; i++) seen.push(yield* newProducer)
        }).pipe(Effect.provide(broker(fs)))
      }
      assert.strictEqual(new Set(seen).size, seen.length)
      // Each start reserved a new block after the persisted one.
      const { image } = yield* KRaftMetadata.readMetadataLog(fs, LOG_DIR).pipe(Effect.orDie)
      assert.strictEqual(image.nextProducerId, 3 * BLOCK_SIZE)
      assert.isTrue(seen.every((id) => id < image.nextProducerId))
    }))

  it.effect("v3+ with producer id 0, epoch 0 and no transactional id still gets a fresh id", () =>
    Effect.gen(function*() {
      const first = yield* newProducer
      const a = yield* init(5, { producerId: 0, producerEpoch: 0 })
      const b = yield* init(3, { producerId: 0, producerEpoch: 0 })
      assert.strictEqual(a.errorCode, 0)
      assert.strictEqual(b.errorCode, 0)
      assert.strictEqual(a.producerEpoch, 0)
      assert.strictEqual(new Set([first, a.producerId, b.producerId]).size, 3)
      assert.notStrictEqual(a.producerId, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("a transactional id keeps its producer id and gets the next epoch at each InitProducerId", () =>
    Effect.gen(function*() {
      const first = yield* init(0, { transactionalId: "tx-1" })
      assert.strictEqual(first.errorCode, 0)
      assert.strictEqual(first.producerEpoch, 0)
      for (const [i, version] of [2, 5].entries()) {
        const r = yield* init(version, { transactionalId: "tx-1" })
        assert.deepStrictEqual([r.errorCode, r.producerId, r.producerEpoch], [0, first.producerId, i + 1])
      }
      // Another id is another producer.
      assert.notStrictEqual((yield* init(4, { transactionalId: "tx-2" })).producerId, first.producerId)
    }).pipe(Effect.provide(broker())))

  it.effect("an empty transactional id, or only one of producer id and epoch set to -1, is error 42", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* init(4, { transactionalId: "" })).errorCode, 42)
      assert.strictEqual((yield* init(4, { producerId: -1, producerEpoch: 0 })).errorCode, 42)
      assert.strictEqual((yield* init(4, { producerId: 5, producerEpoch: -1 })).errorCode, 42)
    }).pipe(Effect.provide(broker())))
})

describe("idempotent Produce", () => {
  it.effect("a retried batch answers its original base offset and is written once", () =>
    Effect.gen(function*() {
      const pid = yield* newProducer
      const first = batch(pid, 0, 2)
      assert.strictEqual((yield* produce(first)).baseOffset, 0)
      assert.strictEqual((yield* produce(batch(pid, 2, 3))).baseOffset, 2)
      const retry = yield* produce(first)
      assert.strictEqual(retry.errorCode, 0)
      assert.strictEqual(retry.baseOffset, 0)
      const again = yield* produce(batch(pid, 2, 3))
      assert.strictEqual(again.errorCode, 0)
      assert.strictEqual(again.baseOffset, 2)
      assert.deepStrictEqual((yield* stored).map((b) => b.header.baseOffset), [0, 2])
      // The next batch still continues where the producer left off.
      assert.strictEqual((yield* produce(batch(pid, 5))).baseOffset, 5)
    }).pipe(Effect.provide(broker())))

  it.effect("a sequence gap is answered with error 45 and nothing is written", () =>
    Effect.gen(function*() {
      const pid = yield* newProducer
      yield* produce(batch(pid, 0, 2))
      const before = (yield* readLog(T0)).length
      const r = yield* produce(batch(pid, 3))
      assert.strictEqual(r.errorCode, 45)
      assert.strictEqual(r.baseOffset, -1)
      assert.strictEqual((yield* readLog(T0)).length, before)
      assert.strictEqual((yield* produce(batch(pid, 2))).baseOffset, 2)
    }).pipe(Effect.provide(broker())))

  it.effect("a retry older than the last five batches is answered with error 45", () =>
    Effect.gen(function*() {
      const pid = yield* newProducer
      for (let s = 0; s < 6; s++) yield* produce(batch(pid, s))
      assert.strictEqual((yield* produce(batch(pid, 1))).baseOffset, 1)
      assert.strictEqual((yield* produce(batch(pid, 0))).errorCode, 45)
      assert.strictEqual((yield* stored).length, 6)
    }).pipe(Effect.provide(broker())))

  it.effect("an epoch older than one already written is answered with error 47", () =>
    Effect.gen(function*() {
      const pid = yield* newProducer
      yield* produce(batch(pid, 0, 1, 0))
      assert.strictEqual((yield* produce(batch(pid, 0, 1, 1))).baseOffset, 1)
      const r = yield* produce(batch(pid, 1, 1, 0))
      assert.strictEqual(r.errorCode, 47)
      assert.strictEqual(r.baseOffset, -1)
      // A newer epoch not starting at 0 is out of order.
      assert.strictEqual((yield* produce(batch(pid, 3, 1, 2))).errorCode, 45)
      assert.strictEqual((yield* stored).length, 2)
    }).pipe(Effect.provide(broker())))

  it.effect("a producer id without a sequence is answered with error 87", () =>
    Effect.gen(function*() {
      const r = yield* produce(batch(yield* newProducer, -1))
      assert.strictEqual(r.errorCode, 87)
      assert.strictEqual((yield* readLog(T0)).length, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("batches without a producer id are never deduplicated", () =>
    Effect.gen(function*() {
      const plain = encodeBatch([{ value: text.encode("x") }], { timestamp: 1_700_000_000_000 })
      assert.strictEqual((yield* produce(plain)).baseOffset, 0)
      assert.strictEqual((yield* produce(plain)).baseOffset, 1)
      assert.strictEqual((yield* stored).length, 2)
    }).pipe(Effect.provide(broker())))

  it.effect("after a clean restart the producers come back from their snapshot (the last batch each, as in Kafka)", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const pid = yield* Effect.gen(function*() {
        const pid = yield* newProducer
        yield* produce(encodeBatch([{ value: text.encode("plain") }]))
        yield* produce(batch(pid, 0, 2))
        yield* produce(batch(pid, 2, 2))
        return pid
      }).pipe(Effect.provide(broker(fs)))

      yield* Effect.gen(function*() {
        const retry = yield* produce(batch(pid, 2, 2))
        assert.strictEqual(retry.errorCode, 0)
        assert.strictEqual(retry.baseOffset, 3)
        // The snapshot keeps each producer's last batch only: an older retry is out of sequence, not rewritten.
        assert.strictEqual((yield* produce(batch(pid, 0, 2))).errorCode, 45)
        assert.strictEqual((yield* stored).length, 3)
        assert.strictEqual((yield* produce(batch(pid, 5))).errorCode, 45)
        assert.strictEqual((yield* produce(batch(pid, 4))).baseOffset, 5)
        // A new producer id (from the next block) starts afresh beside the old one.
        const other = yield* newProducer
        assert.notStrictEqual(other, pid)
        assert.strictEqual((yield* produce(batch(other, 100))).baseOffset, 6)
      }).pipe(Effect.provide(broker(fs)))
    }))

  it.effect("concurrent retries of one batch from several fibers write it once", () =>
    Effect.gen(function*() {
      const pid = yield* newProducer
      yield* produce(batch(pid, 0))
      const retried = batch(pid, 1, 3)
      const results = yield* Effect.forEach(Array.from({ length: 20 }), () => produce(retried), {
        concurrency: "unbounded"
      })
      for (const r of results) {
        assert.strictEqual(r.errorCode, 0)
        assert.strictEqual(r.baseOffset, 1)
      }
      assert.deepStrictEqual((yield* stored).map((b) => b.header.baseOffset), [0, 1])
      assert.strictEqual((yield* produce(batch(pid, 4))).baseOffset, 4)
    }).pipe(Effect.provide(layer(yielding(MemoryFileSystem.make()), { topics: { events: 1 } }))))
})
