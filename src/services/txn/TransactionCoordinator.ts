// The transaction coordinator: the service the transaction APIs ask (InitProducerId with a transactional id,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, the describe and list APIs), and Produce and TxnOffsetCommit ask
// whether a producer may write to a partition inside its transaction. Its state machine is pure
// (Transactions.ts); the live layer (layers/txn/) runs it over `__transaction_state-0`, in Kafka's record
// format, and writes the markers. Which node coordinates an id is a function of the id (Transactions.ts:
// `logPartitionFor`): the leader of the transaction log's partition holding it.
import { Context, type Effect } from "effect"
import type { InvalidRequest, InvalidTransactionTimeout, TransactionalIdNotFound, TxnError } from "../Errors.ts"
import type { TopicPartition } from "../log/LogStore.ts"
import type { ExpectedProducer, TxnListing, TxnState } from "./Transactions.ts"

/** Where the coordinator keeps its state, in Kafka's own name and format. */
export const TRANSACTION_LOG = { topic: "__transaction_state", partition: 0 } as const

export interface ProducerIdAndEpoch {
  readonly producerId: number
  readonly producerEpoch: number
}

export interface TxnDescription {
  readonly transactionalId: string
  readonly state: TxnState
  readonly producerId: number
  readonly producerEpoch: number
  readonly timeoutMs: number
  /** When the open transaction began, or -1. */
  readonly startTimestamp: number
  readonly partitions: ReadonlyArray<TopicPartition>
}

export interface ListFilter {
  /** State names; empty: all. Unknown names are answered back. */
  readonly states: ReadonlyArray<string>
  readonly producerIds: ReadonlyArray<number>
  /** Only transactions running longer than this (-1: all). */
  readonly minDurationMs: number
  /** A regular expression the transactional id must match (null or empty: all). */
  readonly pattern: string | null
}

export class TransactionCoordinator extends Context.Service<TransactionCoordinator, {
  /**
   * InitProducerId with a transactional id: the id's producer id with a bumped epoch, fencing earlier
   * producers; an open transaction is aborted first (CONCURRENT_TRANSACTIONS: retry).
   */
  readonly initProducerId: (
    transactionalId: string,
    timeoutMs: number,
    expected: ExpectedProducer | undefined
  ) => Effect.Effect<ProducerIdAndEpoch, TxnError | InvalidTransactionTimeout>
  /** Adds partitions to the producer's transaction, starting one if none is open. */
  readonly addPartitions: (
    transactionalId: string,
    producer: ProducerIdAndEpoch,
    partitions: ReadonlyArray<TopicPartition>
  ) => Effect.Effect<void, TxnError>
  /** Whether the producer may write transactional batches to the partition now (it is in its open transaction). */
  readonly verify: (transactionalId: string, producer: ProducerIdAndEpoch, tp: TopicPartition) => Effect.Effect<void, TxnError>
  /**
   * Commits or aborts the open transaction: decided durably, then the markers are written to every partition
   * of it. Answers the producer id and epoch to go on with (bumped with transaction version 2).
   */
  readonly endTransaction: (
    transactionalId: string,
    producer: ProducerIdAndEpoch,
    commit: boolean,
    clientTransactionVersion: number
  ) => Effect.Effect<ProducerIdAndEpoch, TxnError>
  readonly describe: (transactionalId: string) => Effect.Effect<TxnDescription, TransactionalIdNotFound | InvalidRequest>
  readonly list: (filter: ListFilter) => Effect.Effect<{
    readonly transactions: ReadonlyArray<TxnListing>
    readonly unknownStates: ReadonlyArray<string>
  }, InvalidRequest>
}>()("kafka/TransactionCoordinator") {}
