// The transaction coordinator's state machine, as Apache Kafka's runs it (TransactionCoordinator,
// TransactionMetadata): per transactional id its producer id and epoch, the transaction's state and partitions.
// A transaction moves Empty → Ongoing (AddPartitionsToTxn) → PrepareCommit / PrepareAbort (EndTxn) →
// CompleteCommit / CompleteAbort (once every partition has its marker), and back to Ongoing with the next
// transaction; InitProducerId bumps the epoch (fencing the previous incarnation), a transaction left open is
// aborted first under a bumped epoch, ids idle longer than `transactional.id.expiration.ms` become Dead and go.
//
// Every change is prepared as a Transit (the state to write to the transaction log), the metadata marked with
// the pending state so that nothing else changes it meanwhile (such requests get CONCURRENT_TRANSACTIONS), and
// applied with `complete` once the log holds it (`abandon` when the write failed). EndTxn v5 clients
// (transaction version 2, KIP-890) get a new epoch with every transaction end. Pure: no clock, no I/O; the
// shell (layers/txn/) writes the log and the markers, and the unit tests drive this directly.
import type { TransactionLogValue } from "../../protocol/TransactionRecords.ts"
import {
  ConcurrentTransactions,
  InvalidProducerIdMapping,
  InvalidTxnState,
  ProducerFenced,
  type TxnError
} from "../Errors.ts"
import type { TopicPartition } from "../log/LogStore.ts"

export type TxnState =
  | "Empty"
  | "Ongoing"
  | "PrepareCommit"
  | "PrepareAbort"
  | "CompleteCommit"
  | "CompleteAbort"
  | "Dead"
  | "PrepareEpochFence"

/** The state numbers of the transaction log (TransactionLogValue.TransactionStatus). */
export const STATES: ReadonlyArray<TxnState> = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence"
]

export const NO_PRODUCER_ID = -1
export const NO_PRODUCER_EPOCH = -1
const MAX_EPOCH = 32767

/** An epoch this high is not handed to a client: the coordinator must always be able to fence with epoch + 1. */
export const isEpochExhausted = (epoch: number): boolean => epoch >= MAX_EPOCH - 1

export interface TxnMetadata {
  readonly transactionalId: string
  producerId: number
  /** The producer id before the last rotation (epoch exhausted), for recognising a retry across it. */
  previousProducerId: number
  /** The producer id a transaction version 2 end rotates to once its markers are written (-1: none). */
  nextProducerId: number
  producerEpoch: number
  /** The epoch before the last bump, for recognising a retried InitProducerId (-1: none). */
  lastProducerEpoch: number
  timeoutMs: number
  state: TxnState
  /** "topic\u0000partition" → the partition. */
  readonly partitions: Map<string, TopicPartition>
  /** When the transaction began (its first partition was added); -1 without one. */
  startTimestamp: number
  lastUpdateTimestamp: number
  /** The client's transaction version (2: EndTxn v5+, the epoch is bumped at every transaction end). */
  clientTransactionVersion: number
  /** The state being written to the log; while set, other changes wait (CONCURRENT_TRANSACTIONS). */
  pending: TxnState | undefined
  /** A fence whose write failed: its bumped epoch was never handed out, so the next fence does not bump again. */
  hasFailedEpochFence: boolean
}

/** A transition to write to the transaction log; `complete` applies it once written. */
export interface Transit {
  readonly producerId: number
  readonly previousProducerId: number
  readonly nextProducerId: number
  readonly producerEpoch: number
  readonly lastProducerEpoch: number
  readonly timeoutMs: number
  readonly state: TxnState
  readonly partitions: ReadonlyArray<TopicPartition>
  readonly startTimestamp: number
  readonly lastUpdateTimestamp: number
  readonly clientTransactionVersion: number
}

export interface Transactions {
  readonly byId: Map<string, TxnMetadata>
}

export const make = (): Transactions => ({ byId: new Map() })

export const partitionKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`

/** Java's String.hashCode, on which Kafka places a transactional id (or group id) in its log's partitions. */
export const javaHash = (s: string): number => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/**
 * The partition of the transaction log that holds this id: the coordinator of the id is that partition's
 * leader (Kafka's `partitionFor`). With one partition, as here, every id lives in partition 0.
 */
export const logPartitionFor = (transactionalId: string, partitions: number): number => {
  const h = javaHash(transactionalId)
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions
}

const supportsEpochBump = (clientTransactionVersion: number): boolean => clientTransactionVersion >= 2

const isPendingTransaction = (state: TxnState): boolean => state === "Ongoing" || state === "PrepareCommit" || state === "PrepareAbort"

/** A transactional id seen for the first time: no epoch yet (the first InitProducerId makes it 0). */
export const create = (txns: Transactions, transactionalId: string, producerId: number, timeoutMs: number, now: number): TxnMetadata => {
  const existing = txns.byId.get(transactionalId)
  if (existing !== undefined) return existing
  const meta: TxnMetadata = {
    transactionalId,
    producerId,
    previousProducerId: NO_PRODUCER_ID,
    nextProducerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs,
    state: "Empty",
    partitions: new Map(),
    startTimestamp: -1,
    lastUpdateTimestamp: now,
    clientTransactionVersion: 0,
    pending: undefined,
    hasFailedEpochFence: false
  }
  txns.byId.set(transactionalId, meta)
  return meta
}

const transitTo = (
  meta: TxnMetadata,
  state: TxnState,
  fields: Partial<Omit<Transit, "state">> & { readonly lastUpdateTimestamp: number }
): Transit => {
  meta.pending = state
  return {
    producerId: meta.producerId,
    previousProducerId: meta.producerId,
    nextProducerId: NO_PRODUCER_ID,
    producerEpoch: meta.producerEpoch,
    lastProducerEpoch: meta.lastProducerEpoch,
    timeoutMs: meta.timeoutMs,
    partitions: [...meta.partitions.values()],
    startTimestamp: meta.startTimestamp,
    clientTransactionVersion: 0,
    ...fields,
    state
  }
}

// ---------------------------------------------------------------------------------------------------------
// InitProducerId

export interface ExpectedProducer {
  readonly producerId: number
  readonly producerEpoch: number
}

/** Whether InitProducerId would rotate to a new producer id (the epoch is used up): the shell allocates one first. */
export const needsNewProducerId = (meta: TxnMetadata, expected: ExpectedProducer | undefined): boolean =>
  (meta.state === "Empty" || meta.state === "CompleteCommit" || meta.state === "CompleteAbort") &&
  isEpochExhausted(meta.producerEpoch) &&
  (expected === undefined || expected.producerEpoch === meta.producerEpoch)

export type InitOutcome =
  /** Write the transit; answer its producer id and epoch. */
  | { readonly _tag: "Write"; readonly transit: Transit }
  /** An open transaction must be aborted first (under a bumped epoch); the client retries. */
  | { readonly _tag: "Fence" }
  | TxnError

/**
 * InitProducerId for an existing id. `expected` is the producer id and epoch a v3+ client says it has (to resume
 * after an error); `newProducerId` is an id allocated in advance when `needsNewProducerId` said so.
 */
export const prepareInit = (
  meta: TxnMetadata,
  timeoutMs: number,
  expected: ExpectedProducer | undefined,
  now: number,
  newProducerId: number | undefined
): InitOutcome => {
  if (meta.pending !== undefined) return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is changing state` })
  // A client resuming with an id and epoch is fenced unless it is this id (the epoch is checked below), the id
  // was just created, or it is the previous id retried after a rotation it never heard of.
  if (
    expected !== undefined &&
    !(meta.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === meta.producerId ||
      (expected.producerId === meta.previousProducerId && isEpochExhausted(expected.producerEpoch)))
  ) {
    return new ProducerFenced({ detail: `producer ${expected.producerId} is not the current producer of ${meta.transactionalId}` })
  }
  switch (meta.state) {
    case "PrepareCommit":
    case "PrepareAbort":
      return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is completing` })
    case "Ongoing":
      return { _tag: "Fence" }
    case "Empty":
    case "CompleteCommit":
    case "CompleteAbort": {
      if (needsNewProducerId(meta, expected)) {
        if (newProducerId === undefined) return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} needs a new producer id` })
        return {
          _tag: "Write",
          transit: transitTo(meta, "Empty", {
            producerId: newProducerId,
            producerEpoch: 0,
            lastProducerEpoch: expected === undefined ? NO_PRODUCER_EPOCH : meta.producerEpoch,
            timeoutMs,
            partitions: [],
            startTimestamp: -1,
            lastUpdateTimestamp: now
          })
        }
      }
      const bumped = meta.producerEpoch + 1
      let epochs: [number, number]
      if (expected === undefined) epochs = [bumped, NO_PRODUCER_EPOCH]
      else if (meta.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === meta.producerEpoch) epochs = [bumped, meta.producerEpoch]
      // A retry of an InitProducerId that succeeded: the same epoch again.
      else if (expected.producerEpoch === meta.lastProducerEpoch) epochs = [meta.producerEpoch, meta.lastProducerEpoch]
      else {
        return new ProducerFenced({
          detail: `epoch ${expected.producerEpoch} of ${meta.transactionalId} is neither the current ${meta.producerEpoch} nor the previous one`
        })
      }
      return {
        _tag: "Write",
        transit: transitTo(meta, "Empty", {
          producerEpoch: epochs[0],
          lastProducerEpoch: epochs[1],
          timeoutMs,
          partitions: [],
          startTimestamp: -1,
          lastUpdateTimestamp: now
        })
      }
    }
    case "Dead":
    case "PrepareEpochFence":
      return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is ${meta.state}` })
  }
}

// ---------------------------------------------------------------------------------------------------------
// AddPartitionsToTxn, AddOffsetsToTxn, verification

const checkProducer = (meta: TxnMetadata, producerId: number, producerEpoch: number): TxnError | undefined =>
  meta.producerId !== producerId
    ? new InvalidProducerIdMapping({ detail: `producer ${producerId} is not the producer of ${meta.transactionalId}` })
    : meta.producerEpoch !== producerEpoch
    ? new ProducerFenced({ detail: `epoch ${producerEpoch} of ${meta.transactionalId} is not the current ${meta.producerEpoch}` })
    : undefined

/** Adds partitions to the transaction (starting it when none is open); undefined when they are all in it already. */
export const prepareAddPartitions = (
  meta: TxnMetadata,
  producerId: number,
  producerEpoch: number,
  partitions: ReadonlyArray<TopicPartition>,
  now: number
): Transit | undefined | TxnError => {
  const wrong = checkProducer(meta, producerId, producerEpoch)
  if (wrong !== undefined) return wrong
  if (meta.pending !== undefined || meta.state === "PrepareCommit" || meta.state === "PrepareAbort") {
    return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is completing` })
  }
  if (meta.state === "Ongoing" && partitions.every((tp) => meta.partitions.has(partitionKey(tp)))) return undefined
  if (meta.state === "Dead" || meta.state === "PrepareEpochFence") {
    return new InvalidTxnState({ detail: `transaction ${meta.transactionalId} is ${meta.state}` })
  }
  const all = new Map(meta.partitions)
  for (const tp of partitions) all.set(partitionKey(tp), tp)
  const starting = meta.state !== "Ongoing"
  return transitTo(meta, "Ongoing", {
    partitions: [...all.values()],
    startTimestamp: starting ? now : meta.startTimestamp,
    lastUpdateTimestamp: now
  })
}

/**
 * Whether the producer may write transactional batches to `tp` now (Kafka's verification, KIP-890): its id and
 * epoch are current and the partition is in its open transaction.
 */
export const verify = (meta: TxnMetadata | undefined, producerId: number, producerEpoch: number, tp: TopicPartition): TxnError | undefined => {
  if (meta === undefined) return new InvalidProducerIdMapping({ detail: `producer ${producerId} has no transactional id here` })
  const wrong = checkProducer(meta, producerId, producerEpoch)
  if (wrong !== undefined) return wrong
  if (meta.state === "PrepareCommit" || meta.state === "PrepareAbort") {
    return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is completing` })
  }
  return meta.state === "Ongoing" && meta.partitions.has(partitionKey(tp))
    ? undefined
    : new InvalidTxnState({ detail: `${tp.topic}-${tp.partition} was not added to the transaction of ${meta.transactionalId}` })
}

// ---------------------------------------------------------------------------------------------------------
// EndTxn, and aborts the coordinator decides

export type EndOutcome =
  /** Write the transit (PrepareCommit / PrepareAbort), then the markers, then `prepareComplete`. */
  | { readonly _tag: "Write"; readonly transit: Transit }
  /** A retry of an end that already happened: answer success with the current producer id and epoch. */
  | { readonly _tag: "Done"; readonly producerId: number; readonly producerEpoch: number }
  | TxnError

/** With transaction version 2 the epoch was bumped by the end being retried: the client still has the old one. */
const endBumpedEpoch = (meta: TxnMetadata, producerEpoch: number): boolean =>
  supportsEpochBump(meta.clientTransactionVersion) && meta.producerEpoch === producerEpoch + 1

/**
 * EndTxn from a client (`clientTransactionVersion` 2 for EndTxn v5+). `newProducerId` is allocated in advance
 * for a version 2 end whose bumped epoch would be used up.
 */
export const prepareEnd = (
  meta: TxnMetadata,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  clientTransactionVersion: number,
  now: number,
  newProducerId: number | undefined
): EndOutcome => {
  const v2 = supportsEpochBump(meta.clientTransactionVersion)
  const retryOnOverflow = v2 && meta.previousProducerId === producerId && producerEpoch === MAX_EPOCH - 1 && meta.producerEpoch === 0
  const retryOnBump = endBumpedEpoch(meta, producerEpoch)
  const validEpoch = v2
    ? meta.state === "PrepareCommit" || meta.state === "PrepareAbort"
      ? retryOnBump
      : meta.state === "CompleteCommit" || meta.state === "CompleteAbort"
      ? retryOnBump || retryOnOverflow
      : producerEpoch === meta.producerEpoch
    : producerEpoch === meta.producerEpoch
  if (meta.producerId !== producerId && !retryOnOverflow) {
    return new InvalidProducerIdMapping({ detail: `producer ${producerId} is not the producer of ${meta.transactionalId}` })
  }
  if (!validEpoch) return new ProducerFenced({ detail: `epoch ${producerEpoch} of ${meta.transactionalId} is not current (${meta.producerEpoch})` })
  if (meta.pending !== undefined) return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is changing state` })
  const result = commit ? "commit" : "abort"
  const invalid = () => new InvalidTxnState({ detail: `cannot ${result} transaction ${meta.transactionalId} in state ${meta.state}` })
  switch (meta.state) {
    case "Ongoing": {
      const bump = supportsEpochBump(clientTransactionVersion)
      if (bump && isEpochExhausted(meta.producerEpoch) && newProducerId === undefined) {
        return new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} needs a new producer id` })
      }
      return {
        _tag: "Write",
        transit: transitTo(meta, commit ? "PrepareCommit" : "PrepareAbort", {
          producerEpoch: bump ? meta.producerEpoch + 1 : meta.producerEpoch,
          lastProducerEpoch: bump ? meta.producerEpoch : meta.lastProducerEpoch,
          nextProducerId: bump && isEpochExhausted(meta.producerEpoch) ? newProducerId! : NO_PRODUCER_ID,
          clientTransactionVersion,
          lastUpdateTimestamp: now
        })
      }
    }
    case "CompleteCommit":
      return commit ? { _tag: "Done", producerId: meta.producerId, producerEpoch: meta.producerEpoch } : invalid()
    case "CompleteAbort":
      return commit ? invalid() : { _tag: "Done", producerId: meta.producerId, producerEpoch: meta.producerEpoch }
    case "PrepareCommit":
      return commit ? new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is committing` }) : invalid()
    case "PrepareAbort":
      return commit ? invalid() : new ConcurrentTransactions({ detail: `transaction ${meta.transactionalId} is aborting` })
    case "Empty":
    case "Dead":
    case "PrepareEpochFence":
      return invalid()
  }
}

/**
 * The coordinator aborts the open transaction itself (it timed out, or InitProducerId found it open): the epoch
 * is bumped first so that the producer that left it is fenced, and the abort is written under the new epoch.
 * Undefined when there is nothing to abort (no open transaction, or a change already under way).
 */
export const prepareFenceAndAbort = (meta: TxnMetadata, now: number): Transit | undefined => {
  if (meta.pending !== undefined || meta.state !== "Ongoing") return undefined
  // A fence whose write failed bumped the epoch without handing it out: it is not bumped twice.
  if (!meta.hasFailedEpochFence) meta.producerEpoch = Math.min(meta.producerEpoch + 1, MAX_EPOCH)
  meta.lastProducerEpoch = NO_PRODUCER_EPOCH
  return transitTo(meta, "PrepareAbort", { lastUpdateTimestamp: now })
}

/** The markers are written: the transaction completes (with version 2 after an exhausted epoch, on a new id). */
export const prepareComplete = (meta: TxnMetadata, now: number): Transit => {
  const state = meta.state === "PrepareCommit" ? "CompleteCommit" : "CompleteAbort"
  meta.hasFailedEpochFence = false
  const rotate = supportsEpochBump(meta.clientTransactionVersion) && meta.nextProducerId !== NO_PRODUCER_ID
  return transitTo(meta, state, {
    producerId: rotate ? meta.nextProducerId : meta.producerId,
    producerEpoch: rotate ? 0 : meta.producerEpoch,
    lastProducerEpoch: supportsEpochBump(meta.clientTransactionVersion) ? meta.producerEpoch : meta.lastProducerEpoch,
    nextProducerId: NO_PRODUCER_ID,
    partitions: [],
    clientTransactionVersion: meta.clientTransactionVersion,
    lastUpdateTimestamp: now
  })
}

// ---------------------------------------------------------------------------------------------------------
// Applying transits

/** The transit is in the log: the metadata takes what the transition changes (as Kafka's completeTransitionTo). */
export const complete = (meta: TxnMetadata, t: Transit): void => {
  const v2 = supportsEpochBump(t.clientTransactionVersion)
  switch (t.state) {
    case "Empty":
      meta.producerId = t.producerId
      meta.previousProducerId = t.previousProducerId
      meta.producerEpoch = t.producerEpoch
      meta.lastProducerEpoch = t.lastProducerEpoch
      meta.timeoutMs = t.timeoutMs
      meta.partitions.clear()
      meta.startTimestamp = -1
      break
    case "Ongoing":
      for (const tp of t.partitions) meta.partitions.set(partitionKey(tp), tp)
      meta.startTimestamp = t.startTimestamp
      break
    case "PrepareCommit":
    case "PrepareAbort":
      if (v2) {
        meta.producerEpoch = t.producerEpoch
        meta.lastProducerEpoch = t.lastProducerEpoch
        meta.nextProducerId = t.nextProducerId
      }
      break
    case "CompleteCommit":
    case "CompleteAbort":
      meta.partitions.clear()
      if (v2) {
        meta.producerEpoch = t.producerEpoch
        meta.lastProducerEpoch = t.lastProducerEpoch
        meta.previousProducerId = t.previousProducerId
        meta.producerId = t.producerId
        meta.nextProducerId = t.nextProducerId
      }
      break
    case "Dead":
    case "PrepareEpochFence":
      break
  }
  meta.clientTransactionVersion = t.clientTransactionVersion
  meta.lastUpdateTimestamp = t.lastUpdateTimestamp
  meta.state = t.state
  meta.pending = undefined
}

/**
 * Writing the transit failed: nothing changes, except that a fence (`fenced`) keeps its bumped epoch, which was
 * never handed out, so that the next fence does not bump it again.
 */
export const abandon = (meta: TxnMetadata, fenced = false): void => {
  meta.pending = undefined
  if (fenced) meta.hasFailedEpochFence = true
}

// ---------------------------------------------------------------------------------------------------------
// Timeouts, expiration

/** Open transactions older than their timeout, not already changing: the coordinator aborts them. */
export const timedOut = (txns: Transactions, now: number): Array<TxnMetadata> =>
  [...txns.byId.values()].filter((m) => m.pending === undefined && m.state === "Ongoing" && m.startTimestamp + m.timeoutMs < now)

/** Ids without an open transaction, idle for `expirationMs`: their tombstones are written and they go. */
export const expired = (txns: Transactions, now: number, expirationMs: number): Array<TxnMetadata> =>
  [...txns.byId.values()].filter((m) =>
    m.pending === undefined && (m.state === "Empty" || m.state === "CompleteCommit" || m.state === "CompleteAbort") &&
    m.lastUpdateTimestamp <= now - expirationMs
  )

export const prepareDead = (meta: TxnMetadata): void => {
  meta.pending = "Dead"
}

/** The tombstone is written: the id is gone (unless it was used again meanwhile). */
export const remove = (txns: Transactions, meta: TxnMetadata): void => {
  if (txns.byId.get(meta.transactionalId) === meta && meta.pending === "Dead") txns.byId.delete(meta.transactionalId)
}

// ---------------------------------------------------------------------------------------------------------
// The transaction log

export const toLogValue = (t: Transit): TransactionLogValue => {
  const byTopic = new Map<string, Array<number>>()
  for (const tp of t.partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
  return {
    producerId: t.producerId,
    previousProducerId: t.previousProducerId,
    nextProducerId: t.nextProducerId,
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.timeoutMs,
    transactionStatus: STATES.indexOf(t.state),
    transactionPartitions: t.state === "Empty" ? null : [...byTopic].map(([topic, partitionIds]) => ({ topic, partitionIds })),
    transactionLastUpdateTimestampMs: t.lastUpdateTimestamp,
    transactionStartTimestampMs: t.startTimestamp,
    clientTransactionVersion: t.clientTransactionVersion
  }
}

/** A record of the transaction log read back at start (null: the id's tombstone); the latest per id wins. */
export const replay = (txns: Transactions, transactionalId: string, value: TransactionLogValue | null): void => {
  if (value === null) {
    txns.byId.delete(transactionalId)
    return
  }
  const state = STATES[value.transactionStatus]
  if (state === undefined) throw new Error(`transaction ${transactionalId}: unknown state ${value.transactionStatus}`)
  const partitions = new Map<string, TopicPartition>()
  if (state !== "Empty") {
    for (const t of value.transactionPartitions ?? []) {
      for (const partition of t.partitionIds) partitions.set(partitionKey({ topic: t.topic, partition }), { topic: t.topic, partition })
    }
  }
  txns.byId.set(transactionalId, {
    transactionalId,
    producerId: value.producerId,
    previousProducerId: value.previousProducerId ?? NO_PRODUCER_ID,
    nextProducerId: value.nextProducerId ?? NO_PRODUCER_ID,
    producerEpoch: value.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs: value.transactionTimeoutMs,
    state,
    partitions,
    startTimestamp: value.transactionStartTimestampMs,
    lastUpdateTimestamp: value.transactionLastUpdateTimestampMs,
    clientTransactionVersion: value.clientTransactionVersion ?? 0,
    pending: undefined,
    hasFailedEpochFence: false
  })
}

/** After a replay: transactions that were preparing to commit or abort when the broker stopped, to complete now. */
export const toComplete = (txns: Transactions): Array<TxnMetadata> =>
  [...txns.byId.values()].filter((m) => m.state === "PrepareCommit" || m.state === "PrepareAbort")

// ---------------------------------------------------------------------------------------------------------
// Reading

export interface TxnListing {
  readonly transactionalId: string
  readonly producerId: number
  readonly state: TxnState
}

/** ListTransactions: every id but the dying, filtered by state, producer id, age and id pattern when given. */
export const list = (
  txns: Transactions,
  filter: {
    readonly states: ReadonlySet<TxnState>
    readonly producerIds: ReadonlySet<number>
    readonly minDurationMs: number
    readonly pattern: RegExp | undefined
  },
  now: number
): Array<TxnListing> =>
  [...txns.byId.values()]
    .filter((m) =>
      m.state !== "Dead" &&
      (filter.producerIds.size === 0 || filter.producerIds.has(m.producerId)) &&
      (filter.states.size === 0 || filter.states.has(m.state)) &&
      (filter.minDurationMs < 0 || now - m.startTimestamp > filter.minDurationMs) &&
      (filter.pattern === undefined || filter.pattern.test(m.transactionalId))
    )
    .map((m) => ({ transactionalId: m.transactionalId, producerId: m.producerId, state: m.state }))

/** Whether a transaction is open or completing (its partitions may hold records no marker has closed yet). */
export const hasPendingTransaction = (meta: TxnMetadata): boolean => isPendingTransaction(meta.state)
