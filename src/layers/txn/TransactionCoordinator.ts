// The live transaction coordinator: the pure machine (services/txn/Transactions.ts) run over
// `__transaction_state-0`. Every transition is appended there in Kafka's record format and fsynced before it is
// acknowledged or applied; at start the log is replayed (the latest record per transactional id wins, a
// tombstone removes it) and transactions that were preparing to commit or abort are completed. An end is
// decided by its PrepareCommit / PrepareAbort record; then each partition of the transaction gets its marker
// (`__consumer_offsets` through the group coordinator, which settles the transaction's offsets), retried while
// the log fails, and the Complete record follows. EndTxn (and the abort of a fenced transaction, and the start)
// waits for that up to a few seconds, the outcome being decided either way. Background fibers on Effect's Clock
// abort transactions open longer than their timeout and forget ids idle longer than
// `transactional.id.expiration.ms`. Over storage other brokers write too (SharedCoordinators,
// services/cluster/Coordination.ts) it follows the whole transaction log, serves the ids the live brokers place
// here, and finishes the ends of those it takes over; a producer's writes elsewhere are checked against the
// followed state, read again before one is refused.
import { Clock, Duration, Effect, Fiber, Layer, Schedule } from "effect"
import { type BatchHeader, decodeRecords, encodeBatch, readHeader } from "../../protocol/RecordBatch.ts"
import { decodeTransactionKey, decodeTransactionValue, encodeTransactionKey, encodeTransactionValue } from "../../protocol/TransactionRecords.ts"
import { ownership, SharedCoordinators } from "../../services/cluster/Coordination.ts"
import { BrokerConfig } from "../../services/config/BrokerConfig.ts"
import {
  ConcurrentTransactions,
  CoordinatorLoadInProgress,
  InvalidProducerIdMapping,
  InvalidRequest,
  InvalidTransactionTimeout,
  NotCoordinator,
  StorageError,
  TransactionalIdNotFound
} from "../../services/Errors.ts"
import { GroupCoordinator, OFFSETS_PARTITION } from "../../services/group/GroupCoordinator.ts"
import { LogStore, partitionName, type TopicPartition } from "../../services/log/LogStore.ts"
import { ProducerIds } from "../../services/metadata/ProducerIds.ts"
import { TRANSACTION_LOG, TransactionCoordinator, type TxnDescription } from "../../services/txn/TransactionCoordinator.ts"
import * as Txn from "../../services/txn/Transactions.ts"
import * as CoordinatorLog from "../cluster/CoordinatorLog.ts"

/** The coordinator's epoch in the markers it writes: one coordinator, never replaced by another. */
const COORDINATOR_EPOCH = 0
/** How long an end is waited for before answering or serving (the outcome is decided already). */
const END_WAIT = Duration.seconds(5)
/** Between attempts to write a marker or record while the log fails. */
const RETRY = Schedule.spaced(Duration.seconds(1))

export const make = Effect.gen(function*() {
  const config = yield* BrokerConfig
  const store = yield* LogStore
  const groups = yield* GroupCoordinator
  const producerIds = yield* ProducerIds
  const scope = yield* Effect.scope
  const txns = Txn.make()
  const log = CoordinatorLog.make(store, TRANSACTION_LOG, (header, batch) => replay(header, batch))
  const peers = yield* Effect.serviceOption(SharedCoordinators)
  const own = ownership(config.nodeId, peers._tag === "Some" ? peers.value.live() : undefined)
  /** Fails the request unless this broker serves the transactional id now. */
  const serving = (transactionalId: string) =>
    own.owns(transactionalId)
      ? Effect.void
      : Effect.fail(own.moving(transactionalId) ? new CoordinatorLoadInProgress({ key: transactionalId }) : new NotCoordinator({ key: transactionalId }))
  const asStorageError = (e: unknown) =>
    e instanceof StorageError ? e : new StorageError({ partition: partitionName(TRANSACTION_LOG), cause: e })

  /** Appends records to the transaction log and fsyncs them. */
  const appendLog = (records: ReadonlyArray<{ key: Uint8Array; value: Uint8Array | null }>) =>
    Effect.gen(function*() {
      const batch = encodeBatch(records.map((r) => ({ key: r.key, value: r.value })), { timestamp: yield* Clock.currentTimeMillis })
      const { baseOffset } = yield* store.append(TRANSACTION_LOG, batch, readHeader(batch))
      log.wrote(baseOffset)
      yield* store.flush(TRANSACTION_LOG)
    }).pipe(Effect.mapError(asStorageError))

  /** Writes a prepared transit and applies it; a failed write leaves the metadata as it was. */
  const write = (meta: Txn.TxnMetadata, transit: Txn.Transit, fenced = false) =>
    appendLog([{ key: encodeTransactionKey(meta.transactionalId), value: encodeTransactionValue(Txn.toLogValue(transit)) }]).pipe(
      Effect.tapError((e) => Effect.logError(`transaction ${meta.transactionalId}: writing ${transit.state} failed: ${e.message}`)),
      Effect.onError(() => Effect.sync(() => Txn.abandon(meta, fenced))),
      Effect.andThen(Effect.sync(() => Txn.complete(meta, transit)))
    )

  /** The marker of one partition, written until it is (a partition deleted meanwhile needs none). */
  const writeMarker = (tp: TopicPartition, producerId: number, producerEpoch: number, commit: boolean) => {
    const marker = { producerId, producerEpoch, commit, coordinatorEpoch: COORDINATOR_EPOCH }
    const write = tp.topic === OFFSETS_PARTITION.topic ? groups.completeTransaction(marker) : Effect.asVoid(store.writeMarker(tp, marker))
    return write.pipe(
      Effect.catchTag("UnknownTopicOrPartition", () => Effect.logInfo(`transaction marker for ${partitionName(tp)}: the partition is gone`)),
      Effect.catchTag(["InvalidProducerEpoch", "TransactionCoordinatorFenced"], (e) =>
        Effect.logWarning(`transaction marker for ${partitionName(tp)} not written: ${e.message}`)),
      Effect.tapError((e) => Effect.logError(`transaction marker for ${partitionName(tp)}: ${e.message}; retrying`)),
      Effect.retry(RETRY)
    )
  }

  /** After PrepareCommit / PrepareAbort: every partition's marker, then the Complete record. */
  const completeEnd = (meta: Txn.TxnMetadata) =>
    Effect.gen(function*() {
      const commit = meta.state === "PrepareCommit"
      const { producerId, producerEpoch } = meta
      yield* Effect.forEach([...meta.partitions.values()], (tp) => writeMarker(tp, producerId, producerEpoch, commit), { discard: true })
      yield* Effect.flatMap(Clock.currentTimeMillis, (now) => write(meta, Txn.prepareComplete(meta, now))).pipe(Effect.retry(RETRY))
      yield* Effect.logDebug(`transaction ${meta.transactionalId} ${commit ? "committed" : "aborted"}`)
    })

  /**
   * Completes the prepared end in the background (it must finish even when its request goes away), waiting a
   * few seconds for it: a local write is quick, and a client asking again right after finds it done.
   */
  const startCompletion = (meta: Txn.TxnMetadata) =>
    Effect.flatMap(Effect.forkIn(completeEnd(meta), scope), (fiber) => Effect.asVoid(Fiber.join(fiber).pipe(Effect.timeoutOption(END_WAIT))))

  const metaOf = (transactionalId: string) =>
    Effect.suspend(() => {
      const meta = txns.byId.get(transactionalId)
      return meta === undefined || meta.pending === "Dead"
        ? Effect.fail(new InvalidProducerIdMapping({ detail: `transactional id ${transactionalId} is not known` }))
        : Effect.succeed(meta)
    })

  /** Aborts an open transaction under a bumped epoch, fencing the producer that left it. */
  const fenceAndAbort = (meta: Txn.TxnMetadata, now: number, why: string) =>
    Effect.gen(function*() {
      const transit = Txn.prepareFenceAndAbort(meta, now)
      if (transit === undefined) return
      yield* Effect.logInfo(`transaction ${meta.transactionalId} (producer ${meta.producerId}): ${why}; aborting it, epoch now ${meta.producerEpoch}`)
      yield* write(meta, transit, true)
      yield* startCompletion(meta)
    })

  const initProducerId = (transactionalId: string, timeoutMs: number, expected: Txn.ExpectedProducer | undefined) =>
    Effect.gen(function*() {
      if (transactionalId === "") return yield* new InvalidRequest({ detail: "empty transactional id" })
      yield* serving(transactionalId)
      if (timeoutMs <= 0 || timeoutMs > config.transactionMaxTimeoutMs) {
        return yield* new InvalidTransactionTimeout({ timeoutMs, maxMs: config.transactionMaxTimeoutMs })
      }
      let meta = txns.byId.get(transactionalId)
      if (meta === undefined || meta.pending === "Dead") {
        const producerId = yield* producerIds.next
        meta = Txn.create(txns, transactionalId, producerId, timeoutMs, yield* Clock.currentTimeMillis)
      }
      const rotate = Txn.needsNewProducerId(meta, expected) ? yield* producerIds.next : undefined
      const now = yield* Clock.currentTimeMillis
      const outcome = Txn.prepareInit(meta, timeoutMs, expected, now, rotate)
      if (outcome._tag === "Fence") {
        yield* fenceAndAbort(meta, now, "a new producer is initialising while its transaction is open")
        return yield* new ConcurrentTransactions({ detail: `transaction ${transactionalId} is being aborted` })
      }
      if (outcome._tag !== "Write") return yield* outcome
      yield* write(meta, outcome.transit)
      yield* Effect.logInfo(`transactional id ${transactionalId}: producer ${meta.producerId} epoch ${meta.producerEpoch}`)
      return { producerId: meta.producerId, producerEpoch: meta.producerEpoch }
    })

  const addPartitions = (transactionalId: string, producer: Txn.ExpectedProducer, partitions: ReadonlyArray<TopicPartition>) =>
    Effect.gen(function*() {
      yield* serving(transactionalId)
      const meta = yield* metaOf(transactionalId)
      const transit = Txn.prepareAddPartitions(meta, producer.producerId, producer.producerEpoch, partitions, yield* Clock.currentTimeMillis)
      if (transit === undefined) return
      if ("_tag" in transit) return yield* transit
      yield* write(meta, transit)
    })

  const check = (transactionalId: string, producer: Txn.ExpectedProducer, tp: TopicPartition) =>
    Effect.suspend(() => {
      const error = Txn.verify(txns.byId.get(transactionalId), producer.producerId, producer.producerEpoch, tp)
      return error === undefined ? Effect.void : Effect.fail(error)
    })

  // The id's coordinator may be another broker that added the partition an instant ago (this broker's view of
  // who coordinates it may be a heartbeat behind): the log is read up to its end before the write is refused.
  const verify = (transactionalId: string, producer: Txn.ExpectedProducer, tp: TopicPartition) =>
    peers._tag === "None"
      ? check(transactionalId, producer, tp)
      : check(transactionalId, producer, tp).pipe(Effect.catch(() => Effect.andThen(log.catchUp, check(transactionalId, producer, tp))))

  const endTransaction = (transactionalId: string, producer: Txn.ExpectedProducer, commit: boolean, clientTransactionVersion: number) =>
    Effect.gen(function*() {
      if (transactionalId === "") return yield* new InvalidRequest({ detail: "empty transactional id" })
      yield* serving(transactionalId)
      const meta = yield* metaOf(transactionalId)
      const v2Exhausted = clientTransactionVersion >= 2 && meta.state === "Ongoing" && Txn.isEpochExhausted(meta.producerEpoch)
      const newProducerId = v2Exhausted ? yield* producerIds.next : undefined
      const outcome = Txn.prepareEnd(meta, producer.producerId, producer.producerEpoch, commit, clientTransactionVersion, yield* Clock.currentTimeMillis, newProducerId)
      if (outcome._tag === "Done") return { producerId: outcome.producerId, producerEpoch: outcome.producerEpoch }
      if (outcome._tag !== "Write") return yield* outcome
      yield* write(meta, outcome.transit)
      const answer = meta.nextProducerId !== Txn.NO_PRODUCER_ID
        ? { producerId: meta.nextProducerId, producerEpoch: 0 }
        : { producerId: meta.producerId, producerEpoch: meta.producerEpoch }
      yield* startCompletion(meta)
      return answer
    })

  const describe = (transactionalId: string) =>
    Effect.suspend((): Effect.Effect<TxnDescription, InvalidRequest | TransactionalIdNotFound> => {
      if (transactionalId === "") return Effect.fail(new InvalidRequest({ detail: "empty transactional id" }))
      const meta = txns.byId.get(transactionalId)
      if (meta === undefined || meta.state === "Dead" || meta.pending === "Dead") return Effect.fail(new TransactionalIdNotFound({ transactionalId }))
      return Effect.succeed({
        transactionalId,
        state: meta.state,
        producerId: meta.producerId,
        producerEpoch: meta.producerEpoch,
        timeoutMs: meta.timeoutMs,
        startTimestamp: meta.startTimestamp,
        partitions: [...meta.partitions.values()]
      })
    })

  const list = (filter: { states: ReadonlyArray<string>; producerIds: ReadonlyArray<number>; minDurationMs: number; pattern: string | null }) =>
    Effect.gen(function*() {
      let pattern: RegExp | undefined
      if (filter.pattern !== null && filter.pattern !== "") {
        try {
          pattern = new RegExp(`^(?:${filter.pattern})$`)
        } catch (e) {
          return yield* new InvalidRequest({ detail: `transactional id pattern ${filter.pattern}: ${String(e)}` })
        }
      }
      const states = new Set<Txn.TxnState>()
      const unknownStates: Array<string> = []
      for (const name of filter.states) {
        if ((Txn.STATES as ReadonlyArray<string>).includes(name)) states.add(name as Txn.TxnState)
        else unknownStates.push(name)
      }
      const transactions = Txn.list(txns, { states, producerIds: new Set(filter.producerIds), minDurationMs: filter.minDurationMs, pattern }, yield* Clock.currentTimeMillis)
      return { transactions, unknownStates }
    })

  // The transaction log replayed: all of it at start; then, following it, what the other brokers append.
  const replay = (_: BatchHeader, batch: Uint8Array) => {
    for (const record of decodeRecords(batch)) {
      const id = record.key === null ? undefined : decodeTransactionKey(record.key)
      if (id !== undefined) Txn.replay(txns, id, record.value === null ? null : decodeTransactionValue(record.value))
    }
  }
  yield* log.catchUp
  const unfinished = Txn.toComplete(txns).filter((m) => own.owns(m.transactionalId))
  yield* Effect.logInfo(`transaction coordinator: ${txns.byId.size} transactional ids, ${unfinished.length} ends to complete`)
  yield* Effect.forEach(unfinished, startCompletion, { concurrency: "unbounded", discard: true })

  const every = (ms: number, task: Effect.Effect<void>) =>
    Effect.forkIn(Effect.schedule(task, Schedule.spaced(Duration.millis(ms))), scope)

  // Transactions open past their timeout are aborted, their producers fenced.
  yield* every(config.transactionAbortTimedOutIntervalMs, Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    for (const meta of Txn.timedOut(txns, now).filter((m) => own.owns(m.transactionalId))) {
      yield* fenceAndAbort(meta, now, `open for more than its timeout of ${meta.timeoutMs} ms`).pipe(Effect.ignore)
    }
  }))

  // Ids idle past `transactional.id.expiration.ms` are forgotten: a tombstone each, then gone.
  yield* every(config.transactionRemoveExpiredIntervalMs, Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const expired = Txn.expired(txns, now, config.transactionalIdExpirationMs).filter((m) => own.owns(m.transactionalId))
    if (expired.length === 0) return
    for (const meta of expired) Txn.prepareDead(meta)
    yield* appendLog(expired.map((m) => ({ key: encodeTransactionKey(m.transactionalId), value: null }))).pipe(
      Effect.matchEffect({
        onFailure: (e) => Effect.as(Effect.logError(`expiring transactional ids: ${e.message}`), expired.forEach((m) => Txn.abandon(m))),
        onSuccess: () =>
          Effect.andThen(
            Effect.sync(() => expired.forEach((m) => Txn.remove(txns, m))),
            Effect.logInfo(`expired ${expired.length} transactional ids`)
          )
      })
    )
  }))

  if (peers._tag === "Some") {
    yield* Effect.forkIn(log.follow({
      cluster: peers.value,
      ownership: own,
      // Ends begun here go on to completion; the new coordinator completes them too (a second marker for a
      // producer without an open transaction ends nothing).
      lose: () => Effect.void,
      gain: (gained) =>
        Effect.gen(function*() {
          const taken = Txn.toComplete(txns).filter((m) => gained(m.transactionalId))
          if (taken.length > 0) yield* Effect.logInfo(`transaction coordinator: completing ${taken.length} ends taken over`)
          yield* Effect.forEach(taken, startCompletion, { concurrency: "unbounded", discard: true })
        }).pipe(Effect.catch((e) => Effect.logError(`transaction coordinator: completing ends taken over: ${e.message}`)))
    }), scope)
  }

  return TransactionCoordinator.of({ initProducerId, addPartitions, verify, endTransaction, describe, list })
})

export const layer = Layer.effect(TransactionCoordinator, make)

