// Transactions through the handlers, over the live services on the in-memory file system and the TestClock:
// InitProducerId, AddPartitionsToTxn, transactional Produce, EndTxn and the markers it writes, read_committed
// Fetch and ListOffsets (the last stable offset, aborted transactions and the `.txnindex`), fencing, timeouts,
// CONCURRENT_TRANSACTIONS, transactional offset commits and require_stable, the describe and list APIs, and
// every state surviving a restart (clean, or a crash that stops every write), PrepareCommit completed at start.
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, FileSystem, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { readMarker } from "../../src/protocol/ControlRecords.ts"
import { ErrorCode } from "../../src/protocol/ErrorCode.ts"
import { CLEAN_SHUTDOWN, decodeAbortedTxns, txnIndexFile } from "../../src/protocol/logdir/LogFiles.ts"
import { CONTROL, decodeRecords, encodeBatch, TRANSACTIONAL } from "../../src/protocol/RecordBatch.ts"
import * as AddOffsetsToTxn from "../../src/services/api/AddOffsetsToTxn.ts"
import * as AddPartitionsToTxn from "../../src/services/api/AddPartitionsToTxn.ts"
import * as DeleteRecords from "../../src/services/api/DeleteRecords.ts"
import * as DescribeProducers from "../../src/services/api/DescribeProducers.ts"
import * as DescribeTransactions from "../../src/services/api/DescribeTransactions.ts"
import * as EndTxn from "../../src/services/api/EndTxn.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as InitProducerId from "../../src/services/api/InitProducerId.ts"
import * as ListOffsets from "../../src/services/api/ListOffsets.ts"
import * as ListTransactions from "../../src/services/api/ListTransactions.ts"
import * as OffsetCommit from "../../src/services/api/OffsetCommit.ts"
import * as OffsetFetch from "../../src/services/api/OffsetFetch.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import * as TxnOffsetCommit from "../../src/services/api/TxnOffsetCommit.ts"
import * as WriteTxnMarkers from "../../src/services/api/WriteTxnMarkers.ts"
import { LogStore, partitionName, type TopicPartition } from "../../src/services/log/LogStore.ts"
import { faulty } from "../support/FaultyFileSystem.ts"
import { batchesIn, type BrokerServices, callResponse, layer, LOG_DIR, readLog, received } from "../support/TestLayers.ts"

const T0 = { topic: "events", partition: 0 }
const T1 = { topic: "events", partition: 1 }
const TOPICS = { events: 2, other: 1 }
const text = new TextEncoder()
const fromText = new TextDecoder()

const broker = (fs: FileSystem.FileSystem, properties: Record<string, string> = {}) => layer(fs, { topics: TOPICS, properties })

/** Runs `body` on a broker over `fs` that then shuts down cleanly. */
const run = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, properties?: Record<string, string>) =>
  Effect.provide(body, broker(fs, properties))

/** Runs `body` on a broker that then crashes: from then on every write fails, so the shutdown writes nothing. */
const runAndCrash = <A, E>(memory: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, properties?: Record<string, string>) =>
  Effect.gen(function*() {
    const { fs, faults } = faulty(memory)
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(broker(fs, properties), scope)
    const result = yield* Effect.provideContext(body, context)
    faults.failing = { errno: "EIO", prefix: "/" }
    yield* Scope.close(scope, Exit.void)
    assert.isFalse(yield* Effect.orDie(memory.exists(`${LOG_DIR}/${CLEAN_SHUTDOWN}`)))
    return result
  })

// ---------------------------------------------------------------------------------------------------------
// The requests, at the versions clients send (kafkajs / librdkafka: InitProducerId v1-v4, AddPartitionsToTxn
// v0-v1, EndTxn v0-v1; Java: v3+)

const init = (transactionalId: string, version = 4, timeoutMs = 60_000, producer = { producerId: -1, producerEpoch: -1 }) =>
  callResponse(InitProducerId.make, version, { transactionalId, transactionTimeoutMs: timeoutMs, ...producer })

/** InitProducerId that must succeed: the producer id and epoch. */
const initOk = (transactionalId: string, timeoutMs = 60_000) =>
  Effect.map(init(transactionalId, 4, timeoutMs), (r) => {
    assert.strictEqual(r.errorCode, ErrorCode.NONE, `InitProducerId ${transactionalId}`)
    return { producerId: r.producerId, producerEpoch: r.producerEpoch }
  })

type Producer = { readonly producerId: number; readonly producerEpoch: number }

const byTopic = (partitions: ReadonlyArray<TopicPartition>) => {
  const topics = new Map<string, Array<number>>()
  for (const tp of partitions) topics.set(tp.topic, [...(topics.get(tp.topic) ?? []), tp.partition])
  return [...topics].map(([name, ps]) => ({ name, partitions: ps }))
}

/** AddPartitionsToTxn v3: the error code of each partition, by "topic-partition". */
const addPartitions = (transactionalId: string, p: Producer, partitions: ReadonlyArray<TopicPartition>, version = 3) =>
  Effect.map(
    callResponse(AddPartitionsToTxn.make, version, {
      transactions: [],
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: byTopic(partitions)
    }),
    (r) => Object.fromEntries(r.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((x) => [`${t.name}-${x.partitionIndex}`, x.partitionErrorCode])))
  )

const addOk = (transactionalId: string, p: Producer, partitions: ReadonlyArray<TopicPartition>) =>
  Effect.map(addPartitions(transactionalId, p, partitions), (codes) => {
    assert.deepStrictEqual(Object.values(codes), partitions.map(() => ErrorCode.NONE), JSON.stringify(codes))
  })

/** One transactional batch of `values` from the producer (sequence `seq`), stamped now; the partition's response. */
const produce = (
  transactionalId: string | null,
  p: Producer,
  tp: TopicPartition,
  seq: number,
  values: ReadonlyArray<string>,
  attributes = TRANSACTIONAL
) =>
  Effect.flatMap(Clock.currentTimeMillis, (timestamp) =>
    Effect.map(
    callResponse(Produce.make, 7, {
      transactionalId,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{
        name: tp.topic,
        partitionData: [{
          index: tp.partition,
          records: encodeBatch(values.map((v) => ({ value: text.encode(v) })), { ...p, baseSequence: seq, attributes, timestamp })
        }]
      }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  ))

const produceOk = (transactionalId: string, p: Producer, tp: TopicPartition, seq: number, values: ReadonlyArray<string>) =>
  Effect.map(produce(transactionalId, p, tp, seq, values), (r) => {
    assert.strictEqual(r.errorCode, ErrorCode.NONE, `produce to ${partitionName(tp)}: ${r.errorMessage}`)
    return r.baseOffset
  })

const endTxn = (transactionalId: string, p: Producer, committed: boolean, version = 3) =>
  callResponse(EndTxn.make, version, { transactionalId, ...p, committed })

const endOk = (transactionalId: string, p: Producer, committed: boolean) =>
  Effect.map(endTxn(transactionalId, p, committed), (r) => assert.strictEqual(r.errorCode, ErrorCode.NONE, "EndTxn"))

/** Fetch v11 of one partition from `offset`, at an isolation level (1: read_committed). */
const fetch = (tp: TopicPartition, offset: number, isolationLevel: number) =>
  Effect.map(
    callResponse(Fetch.make, 11, {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: tp.topic, topicId: "", partitions: [{ partition: tp.partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: ""
    }),
    (r) => r.responses[0]!.partitions[0]!
  )

/**
 * What a consumer at this isolation level hands the application, as Kafka's clients do it: an aborted
 * transaction's producer is dropped from the batch its first offset reaches until its ABORT marker; control
 * batches are never handed over.
 */
const consume = (tp: TopicPartition, isolationLevel: number) =>
  Effect.map(fetch(tp, 0, isolationLevel), (r) => {
    const aborted = [...(r.abortedTransactions ?? [])].sort((a, b) => a.firstOffset - b.firstOffset)
    const dropping = new Set<number>()
    const values: Array<string> = []
    for (const b of batchesIn(received(r.records))) {
      while (aborted.length > 0 && aborted[0]!.firstOffset <= b.header.baseOffset + b.header.lastOffsetDelta) dropping.add(aborted.shift()!.producerId)
      if ((b.header.attributes & CONTROL) !== 0) {
        if (readMarker(b.bytes)?.commit === false) dropping.delete(b.header.producerId)
        continue
      }
      if (dropping.has(b.header.producerId)) continue
      for (const rec of decodeRecords(b.bytes)) values.push(fromText.decode(rec.value!))
    }
    return { values, highWatermark: r.highWatermark, lastStableOffset: r.lastStableOffset, aborted: r.abortedTransactions }
  })

/** The markers in a partition's log: [offset, producer id, epoch, commit]. */
const markersIn = (tp: TopicPartition) =>
  Effect.map(readLog(tp), (bytes) =>
    batchesIn(bytes)
      .filter((b) => (b.header.attributes & CONTROL) !== 0)
      .map((b) => {
        const m = readMarker(b.bytes)!
        return [b.header.baseOffset, m.producerId, m.producerEpoch, m.commit] as const
      }))

const describeTxn = (transactionalId: string) =>
  Effect.map(callResponse(DescribeTransactions.make, 0, { transactionalIds: [transactionalId] }), (r) => r.transactionStates[0]!)

const latest = (tp: TopicPartition, isolationLevel: number) =>
  Effect.map(
    callResponse(ListOffsets.make, 5, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: tp.topic, partitions: [{ partitionIndex: tp.partition, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }],
      timeoutMs: 0
    }),
    (r) => r.topics[0]!.partitions[0]!.offset
  )

// ---------------------------------------------------------------------------------------------------------

describe("Transactions: commit and abort", () => {
  it.effect("a committed transaction becomes visible to read_committed at its markers; before, only to read_uncommitted", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      yield* addOk("tx", p, [T0, T1])
      assert.strictEqual(yield* produceOk("tx", p, T0, 0, ["a", "b"]), 0)
      assert.strictEqual(yield* produceOk("tx", p, T1, 0, ["c"]), 0)
      assert.strictEqual(yield* produceOk("tx", p, T0, 2, ["d"]), 2)

      const open = yield* consume(T0, 1)
      assert.deepStrictEqual([open.values, open.highWatermark, open.lastStableOffset], [[], 3, 0])
      assert.deepStrictEqual((yield* consume(T0, 0)).values, ["a", "b", "d"])
      assert.deepStrictEqual([yield* latest(T0, 1), yield* latest(T0, 0)], [0, 3])
      assert.strictEqual((yield* describeTxn("tx")).transactionState, "Ongoing")

      yield* endOk("tx", p, true)
      assert.deepStrictEqual(yield* markersIn(T0), [[3, p.producerId, 0, true]])
      assert.deepStrictEqual(yield* markersIn(T1), [[1, p.producerId, 0, true]])
      const done = yield* consume(T0, 1)
      assert.deepStrictEqual([done.values, done.highWatermark, done.lastStableOffset, done.aborted], [["a", "b", "d"], 4, 4, []])
      assert.deepStrictEqual((yield* consume(T1, 1)).values, ["c"])
      assert.strictEqual((yield* describeTxn("tx")).transactionState, "CompleteCommit")
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("an aborted transaction is dropped by read_committed through the fetch's aborted transactions", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      yield* addOk("tx", p, [T0])
      yield* produceOk("tx", p, T0, 0, ["gone-1", "gone-2"])
      yield* endOk("tx", p, false)
      yield* addOk("tx", p, [T0])
      yield* produceOk("tx", p, T0, 2, ["kept"])
      yield* endOk("tx", p, true)

      const committed = yield* consume(T0, 1)
      assert.deepStrictEqual(committed.values, ["kept"])
      assert.deepStrictEqual(committed.aborted, [{ producerId: p.producerId, firstOffset: 0 }])
      assert.deepStrictEqual((yield* consume(T0, 0)).values, ["gone-1", "gone-2", "kept"])
      assert.deepStrictEqual(yield* markersIn(T0), [[2, p.producerId, 0, false], [4, p.producerId, 0, true]])
      // The abort is in the segment's transaction index, in Kafka's format.
      const fs = yield* FileSystem.FileSystem
      const file = yield* Effect.orDie(fs.readFile(`${LOG_DIR}/events-0/${txnIndexFile(0)}`))
      // version 0, producer id, first offset 0, last offset 2 (the marker), last stable offset 3: 34 bytes.
      const int64 = (n: number) => [0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
      assert.deepStrictEqual([...file], [0, 0, ...int64(p.producerId), ...int64(0), ...int64(2), ...int64(3)])
      assert.deepStrictEqual(decodeAbortedTxns(file), [{ producerId: p.producerId, firstOffset: 0, lastOffset: 2, lastStableOffset: 3 }])
      // A fetch from after the aborted transaction is not told of it.
      assert.deepStrictEqual((yield* fetch(T0, 3, 1)).abortedTransactions, [])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("another producer's open transaction holds read_committed back at its first offset", () =>
    Effect.gen(function*() {
      const a = yield* initOk("a")
      const b = yield* initOk("b")
      yield* addOk("a", a, [T0])
      yield* addOk("b", b, [T0])
      yield* produceOk("a", a, T0, 0, ["a1"])
      yield* produceOk("b", b, T0, 0, ["b1"])
      yield* produceOk("a", a, T0, 1, ["a2"])
      yield* endOk("a", a, true)
      // a's records are committed but b's open transaction started before a2: read_committed stops at b1.
      const held = yield* consume(T0, 1)
      assert.deepStrictEqual([held.values, held.lastStableOffset], [["a1"], 1])
      yield* endOk("b", b, false)
      const all = yield* consume(T0, 1)
      assert.deepStrictEqual([all.values, all.lastStableOffset, all.aborted], [["a1", "a2"], 5, [{ producerId: b.producerId, firstOffset: 1 }]])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("a retried EndTxn succeeds; the other outcome, or an end without a transaction, is INVALID_TXN_STATE (48)", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      assert.strictEqual((yield* endTxn("tx", p, true)).errorCode, ErrorCode.INVALID_TXN_STATE)
      yield* addOk("tx", p, [T0])
      yield* endOk("tx", p, true)
      yield* endOk("tx", p, true)
      assert.strictEqual((yield* endTxn("tx", p, false)).errorCode, ErrorCode.INVALID_TXN_STATE)
      // Nothing was written twice.
      assert.strictEqual((yield* markersIn(T0)).length, 1)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("EndTxn v5 (transaction version 2) answers the bumped epoch the next transaction runs on", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      yield* addOk("tx", p, [T0])
      yield* produceOk("tx", p, T0, 0, ["x"])
      const r = yield* endTxn("tx", p, true, 5)
      assert.deepStrictEqual([r.errorCode, r.producerId, r.producerEpoch], [0, p.producerId, 1])
      // The marker carries the new epoch, which fences epoch 0 at the partition too.
      assert.deepStrictEqual(yield* markersIn(T0), [[1, p.producerId, 1, true]])
      const next = { producerId: p.producerId, producerEpoch: 1 }
      assert.strictEqual((yield* addPartitions("tx", p, [T0]))["events-0"], ErrorCode.PRODUCER_FENCED)
      yield* addOk("tx", next, [T0])
      yield* produceOk("tx", next, T0, 0, ["y"])
      yield* endOk("tx", next, true)
      assert.deepStrictEqual((yield* consume(T0, 1)).values, ["x", "y"])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))
})

describe("Transactions: what Produce accepts", () => {
  it.effect("a transactional batch only for a partition of the open transaction, from its current producer", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      // Not added yet.
      assert.strictEqual((yield* produce("tx", p, T0, 0, ["x"])).errorCode, ErrorCode.INVALID_TXN_STATE)
      yield* addOk("tx", p, [T0])
      // Another partition, no transactional id in the request, a wrong epoch, another producer id.
      assert.strictEqual((yield* produce("tx", p, T1, 0, ["x"])).errorCode, ErrorCode.INVALID_TXN_STATE)
      assert.strictEqual((yield* produce(null, p, T0, 0, ["x"])).errorCode, ErrorCode.INVALID_TXN_STATE)
      assert.strictEqual((yield* produce("tx", { ...p, producerEpoch: 7 }, T0, 0, ["x"])).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
      assert.strictEqual((yield* produce("tx", { ...p, producerId: 99_999 }, T0, 0, ["x"])).errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING)
      yield* produceOk("tx", p, T0, 0, ["x"])
      // Inside its transaction the producer cannot write a non-transactional batch.
      assert.strictEqual((yield* produce("tx", p, T0, 1, ["y"], 0)).errorCode, ErrorCode.INVALID_TXN_STATE)
      assert.deepStrictEqual((yield* consume(T0, 0)).values, ["x"])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("AddPartitionsToTxn: an unknown partition fails the request, the others are not attempted (55)", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      const codes = yield* addPartitions("tx", p, [T0, { topic: "events", partition: 9 }, { topic: "nope", partition: 0 }])
      assert.deepStrictEqual(codes, {
        "events-0": ErrorCode.OPERATION_NOT_ATTEMPTED,
        "events-9": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "nope-0": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      })
      assert.strictEqual((yield* describeTxn("tx")).transactionState, "Empty")
      // An id nobody initialised.
      assert.strictEqual((yield* addPartitions("ghost", p, [T0]))["events-0"], ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))
})

describe("Transactions: fencing, concurrency, timeouts", () => {
  it.effect("a new InitProducerId fences the old producer: 90 for current versions, 47 for old ones", () =>
    Effect.gen(function*() {
      const old = yield* initOk("tx")
      const current = yield* initOk("tx")
      assert.deepStrictEqual([current.producerId, current.producerEpoch], [old.producerId, old.producerEpoch + 1])
      assert.strictEqual((yield* addPartitions("tx", old, [T0], 3))["events-0"], ErrorCode.PRODUCER_FENCED)
      assert.strictEqual((yield* addPartitions("tx", old, [T0], 1))["events-0"], ErrorCode.INVALID_PRODUCER_EPOCH)
      assert.strictEqual((yield* endTxn("tx", old, true, 3)).errorCode, ErrorCode.PRODUCER_FENCED)
      assert.strictEqual((yield* endTxn("tx", old, true, 1)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
      // A v3+ client resuming with a fenced epoch is told so.
      assert.strictEqual((yield* init("tx", 4, 60_000, old)).errorCode, ErrorCode.PRODUCER_FENCED)
      assert.strictEqual((yield* init("tx", 3, 60_000, old)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("InitProducerId during an open transaction aborts it under a bumped epoch and answers 51 until it is done", () =>
    Effect.gen(function*() {
      const old = yield* initOk("tx")
      yield* addOk("tx", old, [T0])
      yield* produceOk("tx", old, T0, 0, ["zombie"])
      assert.strictEqual((yield* init("tx")).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
      // The abort was written under epoch 1: the old producer's data is aborted and it is fenced at the partition.
      assert.deepStrictEqual(yield* markersIn(T0), [[1, old.producerId, 1, false]])
      assert.strictEqual((yield* produce("tx", old, T0, 1, ["late"])).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
      const fresh = yield* initOk("tx")
      assert.strictEqual(fresh.producerEpoch, 2)
      assert.deepStrictEqual((yield* consume(T0, 1)).values, [])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("a transaction open past its timeout is aborted by the coordinator and its producer fenced", () =>
    Effect.gen(function*() {
      const p = yield* initOk("slow", 5_000)
      yield* addOk("slow", p, [T0])
      yield* produceOk("slow", p, T0, 0, ["late"])
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual((yield* describeTxn("slow")).transactionState, "Ongoing")
      // The check runs every 10 s (transaction.abort.timed.out.transaction.cleanup.interval.ms).
      yield* TestClock.adjust("6 seconds")
      const d = yield* describeTxn("slow")
      assert.deepStrictEqual([d.transactionState, d.producerEpoch], ["CompleteAbort", p.producerEpoch + 1])
      assert.deepStrictEqual(yield* markersIn(T0), [[1, p.producerId, 1, false]])
      assert.strictEqual((yield* endTxn("slow", p, true)).errorCode, ErrorCode.PRODUCER_FENCED)
      const after = yield* consume(T0, 1)
      assert.deepStrictEqual([after.values, after.lastStableOffset], [[], 2])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("a timeout above transaction.max.timeout.ms, or not positive, is INVALID_TRANSACTION_TIMEOUT (50)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* init("tx", 4, 900_001)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
      assert.strictEqual((yield* init("tx", 4, 0)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
      assert.strictEqual((yield* init("tx", 4, 900_000)).errorCode, ErrorCode.NONE)
      assert.strictEqual((yield* init("", 4)).errorCode, ErrorCode.INVALID_REQUEST)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("EndTxn while the markers are being written answers 51; the decision stands", () =>
    Effect.gen(function*() {
      const { fs, faults } = faulty(MemoryFileSystem.make())
      yield* Effect.gen(function*() {
        const p = yield* initOk("tx")
        yield* addOk("tx", p, [T0])
        yield* produceOk("tx", p, T0, 0, ["x"])
        faults.failing = { errno: "EIO", prefix: `${LOG_DIR}/events-0` }
        const ending = yield* Effect.forkChild(endTxn("tx", p, true))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* endTxn("tx", p, true)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
        assert.strictEqual((yield* init("tx")).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
        assert.strictEqual((yield* describeTxn("tx")).transactionState, "PrepareCommit")
        // The disk comes back: the marker is retried and the transaction completes.
        faults.failing = undefined
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual((yield* Fiber.join(ending)).errorCode, ErrorCode.NONE)
        assert.strictEqual((yield* describeTxn("tx")).transactionState, "CompleteCommit")
        assert.deepStrictEqual((yield* consume(T0, 1)).values, ["x"])
      }).pipe(Effect.provide(broker(fs)))
    }))
})

describe("Transactions: offsets", () => {
  const commitTxnOffset = (p: Producer, offset: number, version = 3) =>
    Effect.map(
      callResponse(TxnOffsetCommit.make, version, {
        transactionalId: "tx",
        groupId: "g",
        ...p,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{ name: "events", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }]
      }),
      (r) => r.topics[0]!.partitions[0]!.errorCode
    )

  const fetchOffset = (requireStable: boolean) =>
    Effect.map(
      callResponse(OffsetFetch.make, 7, { groupId: "g", topics: [{ name: "events", partitionIndexes: [0] }], groups: [], requireStable }),
      (r) => r.topics[0]!.partitions[0]!
    )

  const addOffsets = (p: Producer) =>
    Effect.map(callResponse(AddOffsetsToTxn.make, 1, { transactionalId: "tx", ...p, groupId: "g" }), (r) => r.errorCode)

  const plainCommit = (offset: number) =>
    callResponse(OffsetCommit.make, 2, {
      groupId: "g",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: "events", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }]
    })

  it.effect("offsets committed in a transaction count when it commits, go when it aborts; require_stable sees them pending", () =>
    Effect.gen(function*() {
      yield* plainCommit(3)
      const p = yield* initOk("tx")
      // Without AddOffsetsToTxn the group's offsets partition is not in the transaction.
      assert.strictEqual(yield* commitTxnOffset(p, 10), ErrorCode.INVALID_TXN_STATE)
      assert.strictEqual(yield* addOffsets(p), ErrorCode.NONE)
      assert.strictEqual(yield* commitTxnOffset(p, 10), ErrorCode.NONE)
      assert.deepStrictEqual([(yield* fetchOffset(false)).committedOffset, (yield* fetchOffset(false)).errorCode], [3, 0])
      assert.strictEqual((yield* fetchOffset(true)).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT)
      yield* endOk("tx", p, false)
      assert.deepStrictEqual([(yield* fetchOffset(true)).committedOffset, (yield* fetchOffset(true)).errorCode], [3, 0])

      assert.strictEqual(yield* addOffsets(p), ErrorCode.NONE)
      assert.strictEqual(yield* commitTxnOffset(p, 20), ErrorCode.NONE)
      yield* endOk("tx", p, true)
      assert.deepStrictEqual([(yield* fetchOffset(true)).committedOffset, (yield* fetchOffset(true)).errorCode], [20, 0])
      // A fenced producer cannot commit offsets.
      yield* initOk("tx")
      assert.strictEqual(yield* commitTxnOffset(p, 30), ErrorCode.INVALID_PRODUCER_EPOCH)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("pending offsets survive a restart, and so does their commit", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const p = yield* run(fs, Effect.gen(function*() {
        const p = yield* initOk("tx")
        yield* addOffsets(p)
        yield* commitTxnOffset(p, 7)
        return p
      }))
      yield* run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* fetchOffset(true)).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT)
        yield* endOk("tx", p, true)
        assert.strictEqual((yield* fetchOffset(true)).committedOffset, 7)
      }))
      yield* runAndCrash(fs, Effect.gen(function*() {
        assert.strictEqual((yield* fetchOffset(true)).committedOffset, 7)
      }))
      yield* run(fs, Effect.gen(function*() {
        const r = yield* fetchOffset(true)
        assert.deepStrictEqual([r.committedOffset, r.errorCode], [7, 0])
      }))
    }))
})

describe("Transactions: restarts", () => {
  it.effect("every state survives a clean restart and a crash: Empty, Ongoing, CompleteCommit, CompleteAbort", () =>
    Effect.gen(function*() {
      for (const stop of [run, runAndCrash]) {
        const fs = MemoryFileSystem.make()
        const ids = yield* stop(fs, Effect.gen(function*() {
          const empty = yield* initOk("empty")
          const ongoing = yield* initOk("ongoing")
          yield* addOk("ongoing", ongoing, [T0])
          yield* produceOk("ongoing", ongoing, T0, 0, ["open"])
          const committed = yield* initOk("committed")
          yield* addOk("committed", committed, [T1])
          yield* produceOk("committed", committed, T1, 0, ["yes"])
          yield* endOk("committed", committed, true)
          const aborted = yield* initOk("aborted")
          yield* addOk("aborted", aborted, [T1])
          yield* produceOk("aborted", aborted, T1, 0, ["no"])
          yield* endOk("aborted", aborted, false)
          return { empty, ongoing }
        }))
        yield* run(fs, Effect.gen(function*() {
          const states = yield* Effect.forEach(["empty", "ongoing", "committed", "aborted"], describeTxn)
          assert.deepStrictEqual(states.map((s) => s.transactionState), ["Empty", "Ongoing", "CompleteCommit", "CompleteAbort"])
          assert.deepStrictEqual(states[1]!.topics, [{ topic: "events", partitions: [0] }])
          // The open transaction holds read_committed back and can still be committed.
          assert.strictEqual((yield* consume(T0, 1)).lastStableOffset, 0)
          yield* endOk("ongoing", ids.ongoing, true)
          assert.deepStrictEqual((yield* consume(T0, 1)).values, ["open"])
          // The aborted records stay dropped: the transaction index came back too (rebuilt after the crash).
          const t1 = yield* consume(T1, 1)
          assert.deepStrictEqual([t1.values, t1.aborted?.length], [["yes"], 1])
          // The next InitProducerId continues the id's epochs.
          const again = yield* initOk("empty")
          assert.deepStrictEqual([again.producerId, again.producerEpoch], [ids.empty.producerId, ids.empty.producerEpoch + 1])
        }))
      }
    }))

  it.effect.each([
    { end: "PrepareCommit", commit: true },
    { end: "PrepareAbort", commit: false }
  ])("a crash after $end, before the markers: the next start writes them and completes the transaction", ({ commit }) =>
    Effect.gen(function*() {
      const memory = MemoryFileSystem.make()
      const { fs, faults } = faulty(memory)
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(broker(fs), scope)
      const p = yield* Effect.provideContext(
        Effect.gen(function*() {
          const p = yield* initOk("tx")
          yield* addOk("tx", p, [T0, T1])
          yield* produceOk("tx", p, T0, 0, ["a"])
          yield* produceOk("tx", p, T1, 0, ["b"])
          // The partitions' disk fails: the decision is logged, no marker can be written.
          faults.failing = { errno: "EIO", prefix: `${LOG_DIR}/events-` }
          const ending = yield* Effect.forkChild(endTxn("tx", p, commit))
          yield* TestClock.adjust("5 seconds")
          // The outcome is decided: EndTxn answers success after its wait.
          assert.strictEqual((yield* Fiber.join(ending)).errorCode, ErrorCode.NONE)
          assert.strictEqual((yield* describeTxn("tx")).transactionState, commit ? "PrepareCommit" : "PrepareAbort")
          return p
        }),
        context
      )
      // The crash.
      faults.failing = { errno: "EIO", prefix: "/" }
      yield* Scope.close(scope, Exit.void)
      yield* run(memory, Effect.gen(function*() {
        assert.deepStrictEqual(yield* markersIn(T0), [[1, p.producerId, 0, commit]])
        assert.deepStrictEqual(yield* markersIn(T1), [[1, p.producerId, 0, commit]])
        assert.strictEqual((yield* describeTxn("tx")).transactionState, commit ? "CompleteCommit" : "CompleteAbort")
        const expected = commit ? [["a"], ["b"]] : [[], []]
        assert.deepStrictEqual([(yield* consume(T0, 1)).values, (yield* consume(T1, 1)).values], expected)
        assert.deepStrictEqual([(yield* consume(T0, 1)).lastStableOffset, (yield* consume(T1, 1)).lastStableOffset], [2, 2])
      }))
    }))

  it.effect("transactional ids idle past transactional.id.expiration.ms are forgotten, also after a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const properties = { "transactional.id.expiration.ms": "60000", "transaction.remove.expired.transaction.cleanup.interval.ms": "10000" }
      const first = yield* run(fs, Effect.gen(function*() {
        const p = yield* initOk("idle")
        yield* TestClock.adjust("70 seconds")
        assert.strictEqual((yield* describeTxn("idle")).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
        return p
      }), properties)
      yield* run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* describeTxn("idle")).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
        // Used again: a new producer id, epoch 0.
        const again = yield* initOk("idle")
        assert.notStrictEqual(again.producerId, first.producerId)
        assert.strictEqual(again.producerEpoch, 0)
      }), properties)
    }))
})

describe("Transactions: admin APIs", () => {
  it.effect("DescribeTransactions, ListTransactions and DescribeProducers show the open transaction", () =>
    Effect.gen(function*() {
      const p = yield* initOk("orders-1")
      yield* initOk("orders-2")
      yield* initOk("billing")
      yield* addOk("orders-1", p, [T0, T1])
      const offset = yield* produceOk("orders-1", p, T0, 0, ["x", "y"])
      const d = yield* describeTxn("orders-1")
      assert.deepStrictEqual(
        [d.errorCode, d.transactionState, d.producerId, d.producerEpoch, d.transactionTimeoutMs, d.topics],
        [0, "Ongoing", p.producerId, 0, 60_000, [{ topic: "events", partitions: [0, 1] }]]
      )
      assert.isAtLeast(d.transactionStartTimeMs, 0)
      assert.strictEqual((yield* describeTxn("nobody")).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)

      const list = (request: { stateFilters: Array<string>; producerIdFilters: Array<number>; durationFilter: number; transactionalIdPattern: string | null }) =>
        callResponse(ListTransactions.make, 2, request)
      const all = yield* list({ stateFilters: [], producerIdFilters: [], durationFilter: -1, transactionalIdPattern: null })
      assert.deepStrictEqual(all.transactionStates.map((t) => t.transactionalId).sort(), ["billing", "orders-1", "orders-2"])
      const ongoing = yield* list({ stateFilters: ["Ongoing", "Bogus"], producerIdFilters: [], durationFilter: -1, transactionalIdPattern: null })
      assert.deepStrictEqual([ongoing.transactionStates.map((t) => [t.transactionalId, t.transactionState]), ongoing.unknownStateFilters], [[["orders-1", "Ongoing"]], ["Bogus"]])
      const orders = yield* list({ stateFilters: [], producerIdFilters: [], durationFilter: -1, transactionalIdPattern: "orders-.*" })
      assert.deepStrictEqual(orders.transactionStates.map((t) => t.transactionalId).sort(), ["orders-1", "orders-2"])
      assert.strictEqual((yield* list({ stateFilters: [], producerIdFilters: [], durationFilter: -1, transactionalIdPattern: "(" })).errorCode, ErrorCode.INVALID_REQUEST)

      const producers = yield* callResponse(DescribeProducers.make, 0, { topics: [{ name: "events", partitionIndexes: [0, 5] }] })
      const [p0, p5] = producers.topics[0]!.partitions
      assert.deepStrictEqual(p0!.activeProducers.map((a) => [a.producerId, a.producerEpoch, a.lastSequence, a.currentTxnStartOffset]), [[p.producerId, 0, 1, offset]])
      assert.strictEqual(p5!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))

  it.effect("WriteTxnMarkers closes a hanging transaction's partition (a tool aborting it); an older epoch is 47", () =>
    Effect.gen(function*() {
      const p = yield* initOk("tx")
      yield* addOk("tx", p, [T0])
      yield* produceOk("tx", p, T0, 0, ["stuck"])
      const write = (producerEpoch: number) =>
        Effect.map(
          callResponse(WriteTxnMarkers.make, 1, {
            markers: [{ producerId: p.producerId, producerEpoch, transactionResult: false, topics: [{ name: "events", partitionIndexes: [0, 7] }], coordinatorEpoch: 0 }]
          }),
          (r) => r.markers[0]!.topics[0]!.partitions.map((x) => x.errorCode)
        )
      assert.deepStrictEqual(yield* write(p.producerEpoch), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
      const after = yield* consume(T0, 1)
      assert.deepStrictEqual([after.values, after.lastStableOffset], [[], 2])
      assert.deepStrictEqual(yield* write(p.producerEpoch - 1), [ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make()))))
})

describe("Transactions: the log keeps what an open transaction needs", () => {
  it.effect("retention never deletes segments at or after the last stable offset; DeleteRecords keeps it at the log start", () =>
    Effect.gen(function*() {
      const store = yield* LogStore
      // A transaction that may stay open for weeks.
      const p = yield* initOk("tx", 2_000_000_000)
      yield* addOk("tx", p, [T0])
      yield* produceOk("tx", p, T0, 0, ["open"])
      // Segments of one batch each, all far past retention.
      for (let i = 1; i < 4; i++) yield* produceOk("tx", p, T0, i, [`more-${i}`])
      yield* TestClock.adjust("20 days")
      yield* store.enforceRetention
      assert.strictEqual((yield* store.offsets(T0)).logStartOffset, 0)
      yield* endOk("tx", p, true)
      yield* store.enforceRetention
      assert.isAbove((yield* store.offsets(T0)).logStartOffset, 0)

      const q = yield* initOk("tx", 2_000_000_000)
      yield* addOk("tx", q, [T1])
      yield* produceOk("tx", q, T1, 0, ["a"])
      yield* produceOk("tx", q, T1, 1, ["b"])
      assert.strictEqual((yield* callResponse(DeleteRecords.make, 1, { topics: [{ name: "events", partitions: [{ partitionIndex: 1, offset: 1 }] }], timeoutMs: 0 })).topics[0]!.partitions[0]!.errorCode, 0)
      const offsets = yield* store.offsets(T1)
      assert.deepStrictEqual([offsets.logStartOffset, offsets.lastStableOffset], [1, 1])
    }).pipe(Effect.provide(broker(MemoryFileSystem.make(), {
      "log.segment.bytes": "100",
      "log.retention.ms": "1000",
      "transaction.max.timeout.ms": "2000000000",
      // Fewer wake-ups while the test clock runs through days (retention is run by the test).
      "transaction.abort.timed.out.transaction.cleanup.interval.ms": "86400000",
      "log.retention.check.interval.ms": "86400000"
    }))))
})
