// The transaction coordinator's state machine on its own (services/txn/Transactions.ts): every transition of
// Kafka's TransactionMetadata, InitProducerId's epoch bumps, fencing and resumption, the ends and their retries,
// transaction version 2's bump at every end, timeouts, expiration, and the transaction log's values.
import { assert, describe, it } from "@effect/vitest"
import { decodeTransactionValue, encodeTransactionValue } from "../../src/protocol/TransactionRecords.ts"
import * as Txn from "../../src/services/txn/Transactions.ts"

const T = { topic: "events", partition: 0 }
const U = { topic: "events", partition: 1 }
const NOW = 1_700_000_000_000

/** Applies an outcome that must be a write, as the shell does once the log holds it. */
const written = (meta: Txn.TxnMetadata, outcome: Txn.InitOutcome | Txn.EndOutcome | Txn.Transit | undefined | { readonly _tag: string }) => {
  assert.isDefined(outcome)
  const transit = "_tag" in outcome! ? (outcome as { transit?: Txn.Transit }).transit : (outcome as Txn.Transit)
  assert.isDefined(transit, `expected a write, got ${JSON.stringify(outcome)}`)
  Txn.complete(meta, transit!)
  return transit!
}

const tag = (outcome: unknown): string | undefined => (outcome as { _tag?: string } | undefined)?._tag

/** A transactional id through its first InitProducerId: producer 100, epoch 0, Empty. */
const fresh = (txns = Txn.make(), id = "tx") => {
  const meta = Txn.create(txns, id, 100, 60_000, NOW)
  written(meta, Txn.prepareInit(meta, 60_000, undefined, NOW, undefined))
  return { txns, meta }
}

/** Begins a transaction over the partitions. */
const begin = (meta: Txn.TxnMetadata, partitions = [T], now = NOW) =>
  written(meta, Txn.prepareAddPartitions(meta, meta.producerId, meta.producerEpoch, partitions, now))

/** Ends the open transaction with its markers written. */
const end = (meta: Txn.TxnMetadata, commit: boolean, version = 0) => {
  written(meta, Txn.prepareEnd(meta, meta.producerId, meta.producerEpoch, commit, version, NOW, undefined))
  written(meta, Txn.prepareComplete(meta, NOW))
}

describe("Transactions: InitProducerId", () => {
  it("a new id gets its producer id with epoch 0, then one epoch more at each init", () => {
    const { meta } = fresh()
    assert.deepStrictEqual([meta.state, meta.producerId, meta.producerEpoch], ["Empty", 100, 0])
    written(meta, Txn.prepareInit(meta, 30_000, undefined, NOW, undefined))
    assert.deepStrictEqual([meta.producerEpoch, meta.lastProducerEpoch, meta.timeoutMs], [1, -1, 30_000])
  })

  it("a pending write makes every other change wait (CONCURRENT_TRANSACTIONS)", () => {
    const { meta } = fresh()
    const transit = Txn.prepareAddPartitions(meta, 100, 0, [T], NOW)
    assert.strictEqual(meta.pending, "Ongoing")
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, undefined, NOW, undefined)), "ConcurrentTransactions")
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 100, 0, [U], NOW)), "ConcurrentTransactions")
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined)), "ConcurrentTransactions")
    // The write failed: nothing changed, and the next attempt goes through.
    Txn.abandon(meta)
    assert.deepStrictEqual([meta.state, meta.pending, meta.partitions.size], ["Empty", undefined, 0])
    assert.isDefined(transit)
    written(meta, Txn.prepareAddPartitions(meta, 100, 0, [T], NOW))
    assert.strictEqual(meta.state, "Ongoing")
  })

  it("with an open transaction it asks for a fence; the abort is written under a bumped epoch", () => {
    const { meta } = fresh()
    begin(meta)
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, undefined, NOW, undefined)), "Fence")
    const abort = Txn.prepareFenceAndAbort(meta, NOW)!
    assert.deepStrictEqual([abort.state, abort.producerEpoch], ["PrepareAbort", 1])
    Txn.complete(meta, abort)
    // While the abort completes, the new producer waits.
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, undefined, NOW, undefined)), "ConcurrentTransactions")
    written(meta, Txn.prepareComplete(meta, NOW))
    assert.strictEqual(meta.state, "CompleteAbort")
    // Then it gets one more epoch: the old producer (epoch 0) is fenced twice over.
    written(meta, Txn.prepareInit(meta, 60_000, undefined, NOW, undefined))
    assert.deepStrictEqual([meta.state, meta.producerEpoch], ["Empty", 2])
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 100, 0, [T], NOW)), "ProducerFenced")
  })

  it("a fence whose write failed does not bump the epoch again", () => {
    const { meta } = fresh()
    begin(meta)
    Txn.prepareFenceAndAbort(meta, NOW)
    Txn.abandon(meta, true)
    assert.deepStrictEqual([meta.state, meta.producerEpoch, meta.hasFailedEpochFence], ["Ongoing", 1, true])
    const again = Txn.prepareFenceAndAbort(meta, NOW)!
    assert.strictEqual(again.producerEpoch, 1)
    Txn.complete(meta, again)
    written(meta, Txn.prepareComplete(meta, NOW))
    assert.isFalse(meta.hasFailedEpochFence)
  })

  it("a client resuming with its id and current epoch gets the next epoch; a retry of that gets it again", () => {
    const { meta } = fresh()
    written(meta, Txn.prepareInit(meta, 60_000, { producerId: 100, producerEpoch: 0 }, NOW, undefined))
    assert.deepStrictEqual([meta.producerEpoch, meta.lastProducerEpoch], [1, 0])
    // The answer was lost: the client retries with epoch 0 and is given epoch 1 again.
    written(meta, Txn.prepareInit(meta, 60_000, { producerId: 100, producerEpoch: 0 }, NOW, undefined))
    assert.deepStrictEqual([meta.producerEpoch, meta.lastProducerEpoch], [1, 0])
  })

  it("resuming with an epoch that is neither current nor previous, or another producer id, is fenced", () => {
    const { meta } = fresh()
    written(meta, Txn.prepareInit(meta, 60_000, undefined, NOW, undefined))
    written(meta, Txn.prepareInit(meta, 60_000, undefined, NOW, undefined))
    assert.strictEqual(meta.producerEpoch, 2)
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, { producerId: 100, producerEpoch: 0 }, NOW, undefined)), "ProducerFenced")
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, { producerId: 7, producerEpoch: 2 }, NOW, undefined)), "ProducerFenced")
  })

  it("a used-up epoch rotates to a new producer id with epoch 0", () => {
    const { meta } = fresh()
    meta.producerEpoch = 32766
    assert.isTrue(Txn.needsNewProducerId(meta, undefined))
    // Without the new id allocated, the client is asked to retry.
    assert.strictEqual(tag(Txn.prepareInit(meta, 60_000, undefined, NOW, undefined)), "ConcurrentTransactions")
    Txn.abandon(meta)
    const resumed = { producerId: 100, producerEpoch: 32766 }
    written(meta, Txn.prepareInit(meta, 60_000, resumed, NOW, 200))
    assert.deepStrictEqual([meta.producerId, meta.producerEpoch, meta.previousProducerId], [200, 0, 100])
    // The answer was lost: a retry from the old id at its exhausted epoch gets the new id again, not a fence.
    written(meta, Txn.prepareInit(meta, 60_000, resumed, NOW, undefined))
    assert.deepStrictEqual([meta.producerId, meta.producerEpoch], [200, 0])
  })
})

describe("Transactions: partitions and verification", () => {
  it("the first AddPartitions starts the transaction; adding known partitions again writes nothing", () => {
    const { meta } = fresh()
    const transit = begin(meta, [T], NOW + 5)
    assert.deepStrictEqual([transit.state, transit.startTimestamp], ["Ongoing", NOW + 5])
    assert.isUndefined(Txn.prepareAddPartitions(meta, 100, 0, [T], NOW + 9))
    const more = begin(meta, [U], NOW + 9)
    assert.strictEqual(more.startTimestamp, NOW + 5)
    assert.deepStrictEqual([...meta.partitions.values()], [T, U])
  })

  it("a wrong producer id is INVALID_PRODUCER_ID_MAPPING, a wrong epoch PRODUCER_FENCED", () => {
    const { meta } = fresh()
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 101, 0, [T], NOW)), "InvalidProducerIdMapping")
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 100, 1, [T], NOW)), "ProducerFenced")
    assert.strictEqual(tag(Txn.prepareEnd(meta, 101, 0, true, 0, NOW, undefined)), "InvalidProducerIdMapping")
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 3, true, 0, NOW, undefined)), "ProducerFenced")
  })

  it("verification accepts only partitions of the open transaction, with the current id and epoch", () => {
    const { meta } = fresh()
    assert.strictEqual(tag(Txn.verify(meta, 100, 0, T)), "InvalidTxnState")
    begin(meta)
    assert.isUndefined(Txn.verify(meta, 100, 0, T))
    assert.strictEqual(tag(Txn.verify(meta, 100, 0, U)), "InvalidTxnState")
    assert.strictEqual(tag(Txn.verify(meta, 100, 1, T)), "ProducerFenced")
    assert.strictEqual(tag(Txn.verify(meta, 9, 0, T)), "InvalidProducerIdMapping")
    assert.strictEqual(tag(Txn.verify(undefined, 100, 0, T)), "InvalidProducerIdMapping")
    written(meta, Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined))
    assert.strictEqual(tag(Txn.verify(meta, 100, 0, T)), "ConcurrentTransactions")
  })
})

describe("Transactions: ending", () => {
  it("commit: Ongoing → PrepareCommit → CompleteCommit, the partitions cleared", () => {
    const { meta } = fresh()
    begin(meta, [T, U])
    const prepare = written(meta, Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined))
    assert.deepStrictEqual([prepare.state, prepare.partitions.length, meta.state], ["PrepareCommit", 2, "PrepareCommit"])
    // Requests during the markers wait; the other end is refused.
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined)), "ConcurrentTransactions")
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, false, 0, NOW, undefined)), "InvalidTxnState")
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 100, 0, [T], NOW)), "ConcurrentTransactions")
    written(meta, Txn.prepareComplete(meta, NOW))
    assert.deepStrictEqual([meta.state, meta.partitions.size, meta.producerEpoch], ["CompleteCommit", 0, 0])
  })

  it("a retried end succeeds with the same outcome; the other outcome is INVALID_TXN_STATE", () => {
    const { meta } = fresh()
    begin(meta)
    end(meta, false)
    assert.deepStrictEqual(Txn.prepareEnd(meta, 100, 0, false, 0, NOW, undefined), { _tag: "Done", producerId: 100, producerEpoch: 0 })
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined)), "InvalidTxnState")
  })

  it("an end without a transaction is INVALID_TXN_STATE", () => {
    const { meta } = fresh()
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, true, 0, NOW, undefined)), "InvalidTxnState")
  })

  it("the next transaction starts from a completed one with the same producer id and epoch", () => {
    const { meta } = fresh()
    begin(meta)
    end(meta, true)
    begin(meta, [U])
    assert.deepStrictEqual([meta.state, [...meta.partitions.values()]], ["Ongoing", [U]])
  })

  it("transaction version 2 (EndTxn v5) bumps the epoch at every end and recognises a retry by the old epoch", () => {
    const { meta } = fresh()
    begin(meta)
    written(meta, Txn.prepareEnd(meta, 100, 0, true, 2, NOW, undefined))
    assert.deepStrictEqual([meta.state, meta.producerEpoch, meta.lastProducerEpoch], ["PrepareCommit", 1, 0])
    // A retry with the epoch the client had, while the markers are written, then after.
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, true, 2, NOW, undefined)), "ConcurrentTransactions")
    written(meta, Txn.prepareComplete(meta, NOW))
    assert.deepStrictEqual(Txn.prepareEnd(meta, 100, 0, true, 2, NOW, undefined), { _tag: "Done", producerId: 100, producerEpoch: 1 })
    // The next transaction runs on epoch 1; epoch 0 is fenced.
    assert.strictEqual(tag(Txn.prepareAddPartitions(meta, 100, 0, [T], NOW)), "ProducerFenced")
    written(meta, Txn.prepareAddPartitions(meta, 100, 1, [T], NOW))
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 0, false, 2, NOW, undefined)), "ProducerFenced")
  })

  it("transaction version 2 at the last epoch rotates to a new producer id once the markers are written", () => {
    const { meta } = fresh()
    meta.producerEpoch = 32766
    begin(meta)
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 32766, true, 2, NOW, undefined)), "ConcurrentTransactions")
    Txn.abandon(meta)
    written(meta, Txn.prepareEnd(meta, 100, 32766, true, 2, NOW, 300))
    assert.deepStrictEqual([meta.producerId, meta.producerEpoch, meta.nextProducerId], [100, 32767, 300])
    written(meta, Txn.prepareComplete(meta, NOW))
    assert.deepStrictEqual([meta.producerId, meta.producerEpoch, meta.previousProducerId], [300, 0, 100])
    // A retry from the old id is recognised.
    assert.strictEqual(tag(Txn.prepareEnd(meta, 100, 32766, true, 2, NOW, undefined)), "Done")
  })
})

describe("Transactions: timeouts and expiration", () => {
  it("an open transaction older than its timeout is timed out; others are not", () => {
    const txns = Txn.make()
    const { meta: a } = fresh(txns, "a")
    const { meta: b } = fresh(txns, "b")
    const { meta: c } = fresh(txns, "c")
    begin(a, [T], NOW)
    begin(b, [T], NOW + 50_000)
    assert.deepStrictEqual(Txn.timedOut(txns, NOW + 60_000).map((m) => m.transactionalId), [])
    assert.deepStrictEqual(Txn.timedOut(txns, NOW + 60_001).map((m) => m.transactionalId), ["a"])
    assert.strictEqual(c.state, "Empty")
    // One already changing is left alone.
    Txn.prepareFenceAndAbort(a, NOW + 60_001)
    assert.deepStrictEqual(Txn.timedOut(txns, NOW + 200_000).map((m) => m.transactionalId), ["b"])
  })

  it("ids idle longer than the expiration go; open transactions never expire", () => {
    const txns = Txn.make()
    const { meta: idle } = fresh(txns, "idle")
    const { meta: open } = fresh(txns, "open")
    begin(open)
    const expired = Txn.expired(txns, NOW + 1000, 1000)
    assert.deepStrictEqual(expired.map((m) => m.transactionalId), ["idle"])
    Txn.prepareDead(idle)
    Txn.remove(txns, idle)
    assert.deepStrictEqual([...txns.byId.keys()], ["open"])
  })
})

describe("Transactions: the transaction log", () => {
  it("a transit survives its log value and a replay", () => {
    const { txns, meta } = fresh()
    begin(meta, [T, U, { topic: "other", partition: 3 }], NOW + 7)
    const prepare = written(meta, Txn.prepareEnd(meta, 100, 0, true, 0, NOW + 9, undefined))
    const value = decodeTransactionValue(encodeTransactionValue(Txn.toLogValue(prepare)))
    assert.deepStrictEqual(value.transactionPartitions, [
      { topic: "events", partitionIds: [0, 1] },
      { topic: "other", partitionIds: [3] }
    ])
    const replayed = Txn.make()
    Txn.replay(replayed, "tx", value)
    const back = replayed.byId.get("tx")!
    assert.deepStrictEqual(
      [back.state, back.producerId, back.producerEpoch, back.startTimestamp, back.lastUpdateTimestamp, back.partitions.size],
      ["PrepareCommit", 100, 0, NOW + 7, NOW + 9, 3]
    )
    assert.deepStrictEqual(Txn.toComplete(replayed).map((m) => m.transactionalId), ["tx"])
    assert.strictEqual(txns.byId.size, 1)
  })

  it("an Empty value has no partitions; a tombstone removes the id", () => {
    const { meta } = fresh()
    const init = Txn.prepareInit(meta, 60_000, undefined, NOW, undefined)
    assert.strictEqual(tag(init), "Write")
    const value = Txn.toLogValue((init as { transit: Txn.Transit }).transit)
    assert.isNull(value.transactionPartitions)
    const replayed = Txn.make()
    Txn.replay(replayed, "tx", value)
    assert.strictEqual(replayed.byId.get("tx")!.state, "Empty")
    Txn.replay(replayed, "tx", null)
    assert.strictEqual(replayed.byId.size, 0)
  })

  it("version 0 values (written by Kafka without transaction version 2) are read too", () => {
    // TransactionLogValue v0: producer id 5, epoch 3, timeout 60000, Ongoing, one topic with partition 2,
    // last update and start times.
    const v0 = new Uint8Array([
      0, 0, // version
      0, 0, 0, 0, 0, 0, 0, 5, // producer id
      0, 3, // epoch
      0, 0, 0xea, 0x60, // timeout
      1, // Ongoing
      0, 0, 0, 1, 0, 1, 0x61, 0, 0, 0, 1, 0, 0, 0, 2, // [{ topic "a", partitions [2] }]
      0, 0, 0, 0, 0, 0, 0, 9, // last update
      0, 0, 0, 0, 0, 0, 0, 8 // start
    ])
    const value = decodeTransactionValue(v0)
    const txns = Txn.make()
    Txn.replay(txns, "k", value)
    const meta = txns.byId.get("k")!
    assert.deepStrictEqual(
      [meta.producerId, meta.producerEpoch, meta.timeoutMs, meta.state, [...meta.partitions.values()], meta.lastUpdateTimestamp, meta.startTimestamp],
      [5, 3, 60_000, "Ongoing", [{ topic: "a", partition: 2 }], 9, 8]
    )
  })

  it("the log partition of an id is Kafka's (Java's String.hashCode)", () => {
    assert.strictEqual(Txn.javaHash("hello"), 99162322)
    assert.strictEqual(Txn.javaHash("transactional-id-with-a-long-name"), Txn.javaHash("transactional-id-with-a-long-name"))
    assert.strictEqual(Txn.logPartitionFor("hello", 50), 99162322 % 50)
    assert.strictEqual(Txn.logPartitionFor("anything", 1), 0)
  })

  it("ListTransactions filters by state, producer id, running time and id pattern", () => {
    const txns = Txn.make()
    const { meta: a } = fresh(txns, "orders-1")
    fresh(txns, "orders-2")
    fresh(txns, "billing")
    begin(a, [T], NOW)
    const all = { states: new Set<Txn.TxnState>(), producerIds: new Set<number>(), minDurationMs: -1, pattern: undefined }
    assert.strictEqual(Txn.list(txns, all, NOW).length, 3)
    assert.deepStrictEqual(Txn.list(txns, { ...all, states: new Set(["Ongoing"]) }, NOW).map((l) => l.transactionalId), ["orders-1"])
    assert.deepStrictEqual(Txn.list(txns, { ...all, pattern: /^orders-.*$/ }, NOW).map((l) => l.transactionalId), ["orders-1", "orders-2"])
    assert.deepStrictEqual(Txn.list(txns, { ...all, states: new Set(["Ongoing"]), minDurationMs: 1000 }, NOW + 500).length, 0)
    assert.deepStrictEqual(Txn.list(txns, { ...all, states: new Set(["Ongoing"]), minDurationMs: 1000 }, NOW + 1500).length, 1)
    assert.deepStrictEqual(Txn.list(txns, { ...all, producerIds: new Set([7]) }, NOW).length, 0)
  })
})
