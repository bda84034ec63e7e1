// The idempotent-producer rules on their own: in-order batches, retries of the remembered five, gaps, epochs,
// sequence wrap-around, untracked batches, and the state rebuilt from a log's batch headers; transactions: what
// opens and closes them, the first unstable offset, markers' epochs, snapshots.
import { assert, describe, it } from "@effect/vitest"
import { CONTROL, TRANSACTIONAL } from "../../src/protocol/RecordBatch.ts"
import * as ProducerState from "../../src/services/log/ProducerState.ts"

const MAX = 2147483647

interface Batch {
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly lastOffsetDelta: number
  readonly attributes: number
}

const batch = (baseSequence: number, records = 1, producerEpoch = 0, producerId = 7): Batch => ({
  producerId,
  producerEpoch,
  baseSequence,
  lastOffsetDelta: records - 1,
  attributes: 0
})

/** A partition log in miniature: appends what the state accepts, at the next offset. */
const partition = () => {
  const state = ProducerState.empty()
  let nextOffset = 0
  const produce = (b: Batch) => {
    const result = ProducerState.check(state, b)
    if (result._tag === "Append") {
      const baseOffset = nextOffset
      nextOffset += b.lastOffsetDelta + 1
      result.record(baseOffset)
      return { _tag: "Append" as const, baseOffset }
    }
    return result
  }
  return { state, produce, nextOffset: () => nextOffset }
}

const appended = (result: { readonly _tag: string; readonly baseOffset?: number }): number => {
  assert.strictEqual(result._tag, "Append")
  return result.baseOffset!
}

describe("ProducerState", () => {
  it("accepts in-order batches from any starting sequence of a new producer", () => {
    const p = partition()
    assert.strictEqual(appended(p.produce(batch(42, 3))), 0)
    assert.strictEqual(appended(p.produce(batch(45, 2))), 3)
    assert.strictEqual(appended(p.produce(batch(47))), 5)
    const entry = p.state.producers.get(7)!
    assert.strictEqual(entry.epoch, 0)
    assert.deepStrictEqual(entry.batches.at(-1), { firstSequence: 47, lastSequence: 47, baseOffset: 5, lastOffset: 5 })
  })

  it("answers a retry of each of the last five batches with its original offsets", () => {
    const p = partition()
    for (let i = 0; i < 7; i++) p.produce(batch(i * 2, 2))
    // Batches 2..6 (sequences 4..13) are remembered; offsets equal sequences here.
    for (let i = 2; i < 7; i++) {
      const result = p.produce(batch(i * 2, 2))
      assert.deepStrictEqual(result, { _tag: "Duplicate", baseOffset: i * 2, lastOffset: i * 2 + 1 })
    }
    assert.strictEqual(p.nextOffset(), 14)
    assert.strictEqual(p.state.producers.get(7)!.batches.length, ProducerState.BATCHES_RETAINED)
  })

  it("refuses a retry older than the last five with 45", () => {
    const p = partition()
    for (let i = 0; i < 6; i++) p.produce(batch(i))
    const result = p.produce(batch(0))
    assert.strictEqual(result._tag, "OutOfOrderSequence")
    if (result._tag === "OutOfOrderSequence") {
      assert.strictEqual(result.code, 45)
      assert.strictEqual(result.expected, 6)
      assert.strictEqual(result.received, 0)
    }
  })

  it("a batch with a remembered first sequence but another range is not a duplicate", () => {
    const p = partition()
    p.produce(batch(0, 3))
    assert.strictEqual(p.produce(batch(0, 2))._tag, "OutOfOrderSequence")
  })

  it("refuses a gap with 45 and does not change the state", () => {
    const p = partition()
    p.produce(batch(0, 2))
    const result = p.produce(batch(3))
    assert.strictEqual(result._tag, "OutOfOrderSequence")
    if (result._tag === "OutOfOrderSequence") assert.strictEqual(result.expected, 2)
    assert.strictEqual(p.nextOffset(), 2)
    assert.strictEqual(appended(p.produce(batch(2))), 2)
  })

  it("refuses an epoch older than the current with 47", () => {
    const p = partition()
    p.produce(batch(0, 1, 3))
    const result = p.produce(batch(1, 1, 2))
    assert.strictEqual(result._tag, "InvalidProducerEpoch")
    if (result._tag === "InvalidProducerEpoch") {
      assert.strictEqual(result.code, 47)
      assert.strictEqual(result.epoch, 2)
      assert.strictEqual(result.current, 3)
    }
    // Even a batch the old epoch did write is refused once a newer epoch wrote.
    const p2 = partition()
    p2.produce(batch(0, 1, 0))
    p2.produce(batch(0, 1, 1))
    assert.strictEqual(p2.produce(batch(0, 1, 0))._tag, "InvalidProducerEpoch")
  })

  it("a new epoch must start at sequence 0, and then forgets the old epoch's batches", () => {
    const p = partition()
    p.produce(batch(0, 5, 0))
    const notZero = p.produce(batch(5, 1, 1))
    assert.strictEqual(notZero._tag, "OutOfOrderSequence")
    if (notZero._tag === "OutOfOrderSequence") assert.strictEqual(notZero.expected, 0)
    assert.strictEqual(appended(p.produce(batch(0, 1, 1))), 5)
    const entry = p.state.producers.get(7)!
    assert.strictEqual(entry.epoch, 1)
    assert.strictEqual(entry.batches.length, 1)
    assert.strictEqual(appended(p.produce(batch(1, 1, 1))), 6)
  })

  it("sequences wrap from 2^31-1 to 0", () => {
    assert.strictEqual(ProducerState.addToSequence(MAX - 1, 3), 1)
    assert.strictEqual(ProducerState.addToSequence(MAX, 1), 0)
    assert.strictEqual(ProducerState.addToSequence(5, 0), 5)
    const p = partition()
    p.produce(batch(MAX - 2, 2))
    // A batch spanning the wrap: MAX, 0, 1.
    assert.strictEqual(appended(p.produce(batch(MAX, 3))), 2)
    assert.strictEqual(p.state.producers.get(7)!.batches.at(-1)!.lastSequence, 1)
    assert.deepStrictEqual(p.produce(batch(MAX, 3)), { _tag: "Duplicate", baseOffset: 2, lastOffset: 4 })
    assert.strictEqual(appended(p.produce(batch(2))), 5)
    // A batch ending exactly at MAX is followed by 0.
    const q = partition()
    q.produce(batch(MAX - 1, 2))
    assert.strictEqual(q.produce(batch(MAX))._tag, "OutOfOrderSequence")
    assert.strictEqual(appended(q.produce(batch(0))), 2)
  })

  it("does not track batches without a producer id", () => {
    const p = partition()
    for (let i = 0; i < 3; i++) assert.strictEqual(appended(p.produce(batch(-1, 1, -1, -1))), i)
    assert.strictEqual(p.state.producers.size, 0)
  })

  it("keeps producers apart", () => {
    const p = partition()
    p.produce(batch(0, 1, 0, 1))
    p.produce(batch(10, 1, 0, 2))
    assert.strictEqual(appended(p.produce(batch(1, 1, 0, 1))), 2)
    assert.strictEqual(p.produce(batch(12, 1, 0, 2))._tag, "OutOfOrderSequence")
    assert.deepStrictEqual(p.produce(batch(10, 1, 0, 2)), { _tag: "Duplicate", baseOffset: 1, lastOffset: 1 })
  })

  it("check changes nothing until record is called", () => {
    const state = ProducerState.empty()
    const result = ProducerState.check(state, batch(0))
    assert.strictEqual(result._tag, "Append")
    assert.strictEqual(state.producers.size, 0)
    // A failed write is never recorded: the same batch is still appendable.
    assert.strictEqual(ProducerState.check(state, batch(0))._tag, "Append")
  })

  it("rebuilds from the batch headers of a log", () => {
    const headers = [
      { baseOffset: 0, ...batch(0, 2) },
      { baseOffset: 2, ...batch(-1, 1, -1, -1) },
      { baseOffset: 3, ...batch(2, 3) },
      { baseOffset: 6, ...batch(0, 1, 0, 9) },
      // A control batch of producer 9 at a newer epoch, holding no marker: only the epoch changes.
      { baseOffset: 7, ...batch(-1, 1, 1, 9), attributes: CONTROL }
    ]
    const state = ProducerState.rebuild(headers)
    assert.deepStrictEqual([...state.producers.keys()].sort(), [7, 9])
    assert.deepStrictEqual(ProducerState.check(state, batch(2, 3)), { _tag: "Duplicate", baseOffset: 3, lastOffset: 5 })
    assert.deepStrictEqual(ProducerState.check(state, batch(0, 2)), { _tag: "Duplicate", baseOffset: 0, lastOffset: 1 })
    assert.strictEqual(ProducerState.check(state, batch(5))._tag, "Append")
    assert.strictEqual(ProducerState.check(state, batch(6))._tag, "OutOfOrderSequence")
    const nine = state.producers.get(9)!
    assert.strictEqual(nine.epoch, 1)
    assert.strictEqual(nine.batches.length, 0)
    assert.strictEqual(ProducerState.check(state, batch(0, 1, 0, 9))._tag, "InvalidProducerEpoch")
    assert.strictEqual(ProducerState.check(state, batch(3, 1, 1, 9))._tag, "OutOfOrderSequence")
    assert.strictEqual(ProducerState.check(state, batch(0, 1, 1, 9))._tag, "Append")
  })
})

describe("ProducerState: transactions", () => {
  const txn = (baseSequence: number, records = 1, producerEpoch = 0, producerId = 7): Batch => ({
    ...batch(baseSequence, records, producerEpoch, producerId),
    attributes: TRANSACTIONAL
  })
  const marker = (commit: boolean, producerEpoch = 0, producerId = 7, coordinatorEpoch = 0) => ({ producerId, producerEpoch, commit, coordinatorEpoch })

  /** The miniature partition, with markers written at given offsets. */
  const partitionWithMarkers = () => {
    const p = partition()
    const writeMarker = (m: ReturnType<typeof marker>, offset: number) => {
      const checked = ProducerState.checkMarker(p.state, m, 1000)
      return checked._tag === "Append" ? checked.record(offset) : checked
    }
    return { ...p, writeMarker }
  }

  it("the first transactional batch opens a transaction; the earliest open one is the first unstable offset", () => {
    const p = partitionWithMarkers()
    assert.isUndefined(ProducerState.firstUnstableOffset(p.state))
    appended(p.produce(txn(0, 2)))
    appended(p.produce(txn(0, 1, 0, 8)))
    appended(p.produce(txn(2)))
    assert.deepStrictEqual([...p.state.ongoing], [[7, 0], [8, 2]])
    assert.strictEqual(ProducerState.firstUnstableOffset(p.state), 0)
    // Producer 7's COMMIT at offset 4 closes its transaction; producer 8's holds the first unstable offset now.
    assert.deepStrictEqual(p.writeMarker(marker(true), 4), { producerId: 7, firstOffset: 0, lastOffset: 4, aborted: false })
    assert.strictEqual(ProducerState.firstUnstableOffset(p.state), 2)
    assert.deepStrictEqual(p.writeMarker(marker(false, 0, 8), 5), { producerId: 8, firstOffset: 2, lastOffset: 5, aborted: true })
    assert.isUndefined(ProducerState.firstUnstableOffset(p.state))
    // A marker without an open transaction closes nothing.
    assert.isUndefined(p.writeMarker(marker(true), 6))
  })

  it("a non-transactional batch inside the producer's transaction is INVALID_TXN_STATE; after the marker it is fine", () => {
    const p = partitionWithMarkers()
    appended(p.produce(txn(0)))
    assert.strictEqual(p.produce(batch(1))._tag, "InvalidTxnState")
    p.writeMarker(marker(true), 1)
    appended(p.produce(batch(1)))
  })

  it("a marker of an older producer epoch or coordinator epoch is refused; a newer epoch fences the producer", () => {
    const p = partitionWithMarkers()
    appended(p.produce(txn(0, 1, 3)))
    assert.strictEqual(tag(p.writeMarker(marker(false, 2), 1)), "InvalidProducerEpoch")
    // The coordinator aborts under a bumped epoch: the producer's epoch 3 is now fenced here.
    assert.deepStrictEqual(p.writeMarker(marker(false, 4, 7, 5), 1), { producerId: 7, firstOffset: 0, lastOffset: 1, aborted: true })
    assert.strictEqual(p.produce(txn(1, 1, 3))._tag, "InvalidProducerEpoch")
    assert.strictEqual(tag(p.writeMarker(marker(true, 4, 7, 4), 2)), "TransactionCoordinatorFenced")
    // The new epoch starts at sequence 0.
    appended(p.produce(txn(0, 1, 4)))
  })

  it("batches without sequences (a coordinator's) are checked for their epoch only", () => {
    const p = partitionWithMarkers()
    appended(p.produce(txn(-1, 2, 1)))
    appended(p.produce(txn(-1, 2, 1)))
    assert.strictEqual(p.produce(txn(-1, 1, 0))._tag, "InvalidProducerEpoch")
    assert.deepStrictEqual([...p.state.ongoing], [[7, 0]])
  })

  it("the open transactions survive a snapshot and a rebuild from the log", () => {
    const p = partitionWithMarkers()
    appended(p.produce(txn(0, 1, 0, 8)))
    appended(p.produce(txn(0, 1, 0, 7)))
    const restored = ProducerState.fromSnapshot(ProducerState.toSnapshot(p.state))
    assert.deepStrictEqual([...restored.ongoing], [[8, 0], [7, 1]])
    assert.strictEqual(restored.producers.get(7)!.currentTxnFirstOffset, 1)
    // In a snapshot taken later, producer 7 may come first: the open transactions are still in offset order.
    const reordered = ProducerState.fromSnapshot(ProducerState.toSnapshot(p.state).reverse())
    assert.deepStrictEqual([...reordered.ongoing], [[8, 0], [7, 1]])
    const rebuilt = ProducerState.rebuild([
      { baseOffset: 0, ...txn(0, 1, 0, 8) },
      { baseOffset: 1, ...txn(0, 1, 0, 7) },
      { baseOffset: 2, ...batch(-1, 1, 0, 8), attributes: CONTROL | TRANSACTIONAL, marker: marker(false, 0, 8) }
    ])
    assert.deepStrictEqual([...rebuilt.ongoing], [[7, 1]])
  })
})

const tag = (x: unknown): string | undefined => (x as { _tag?: string } | undefined)?._tag
