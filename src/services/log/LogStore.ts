// Partition logs. Appends are serialised per partition and assign offsets; batches of idempotent and
// transactional producers are checked against the partition's producer state under the same lock
// (services/log/ProducerState.ts), and transaction markers close their transactions there. Reads serve stored
// batches byte for byte, up to the high watermark or, read committed, the last stable offset (the first offset
// of the earliest open transaction), with the aborted transactions of the range. The live implementation keeps
// Kafka's on-disk layout (`<log.dir>/<topic>-<partition>/*.log`, `.txnindex` for aborted transactions).
import { Context, type Duration, Effect, type Result } from "effect"
import type { ByteSource } from "../../protocol/Bytes.ts"
import type { Marker } from "../../protocol/ControlRecords.ts"
import type { BatchHeader } from "../../protocol/RecordBatch.ts"
import type {
  InvalidProducerEpoch,
  InvalidTxnState,
  OffsetOutOfRange,
  OutOfOrderSequence,
  StorageError,
  TransactionCoordinatorFenced,
  UnknownTopicOrPartition
} from "../Errors.ts"

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export const partitionName = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`

export interface AppendResult {
  /** Where the batch was written; for a duplicate, where its original was. */
  readonly baseOffset: number
  readonly logStartOffset: number
  /** A retry of a batch the producer already wrote (same epoch and sequence range): nothing was written. */
  readonly duplicate: boolean
}

/** One batch of a request for `appendAll`. */
export interface Append {
  readonly tp: TopicPartition
  readonly batch: Uint8Array
  readonly header: BatchHeader
}

export type AppendError = StorageError | UnknownTopicOrPartition | OutOfOrderSequence | InvalidProducerEpoch | InvalidTxnState

/** `appendAll` for a store that appends one batch at a time. */
export const appendEach = (append: (tp: TopicPartition, batch: Uint8Array, header: BatchHeader) => Effect.Effect<AppendResult, AppendError>) =>
(appends: ReadonlyArray<Append>) => Effect.forEach(appends, (a) => Effect.result(append(a.tp, a.batch, a.header)))

export interface PartitionOffsets {
  readonly logStartOffset: number
  /** The next offset to be assigned; with one replica this is also the high watermark. */
  readonly logEndOffset: number
  /** The first offset of the earliest open transaction, else the log end (never below the log start). */
  readonly lastStableOffset: number
}

export interface AbortedTransaction {
  readonly producerId: number
  readonly firstOffset: number
}

export interface ReadResult extends PartitionOffsets {
  /**
   * Whole batches starting with the one holding the requested offset; empty at the end of the log. Large reads
   * come as a source, read from the log when the response is written.
   */
  readonly records: Uint8Array | ByteSource
  /** Read committed: the aborted transactions with records in the range read (for the client to drop them). */
  readonly abortedTransactions: ReadonlyArray<AbortedTransaction>
}

/** read_uncommitted reads up to the high watermark, read_committed up to the last stable offset. */
export type Isolation = "uncommitted" | "committed"

/** A producer the partition keeps state for (DescribeProducers). */
export interface ProducerInfo {
  readonly producerId: number
  readonly producerEpoch: number
  readonly lastSequence: number
  readonly lastTimestamp: number
  readonly coordinatorEpoch: number
  /** The first offset of its open transaction, or -1. */
  readonly currentTxnStartOffset: number
}

export interface SeenEnd extends TopicPartition {
  readonly logEndOffset: number
}

export interface TimestampLookup {
  readonly offset: number
  readonly timestamp: number
}

/** The log dir as DescribeLogDirs describes it. */
export interface LogDirDescription {
  /** Its absolute path. */
  readonly path: string
  /** The bytes of the volume it is on, and those the broker may still use; -1 when not known. */
  readonly totalBytes: number
  readonly usableBytes: number
}

export class LogStore extends Context.Service<LogStore, {
  /** Creates the partition's directory and empty log (nothing happens when it exists). */
  readonly createPartition: (tp: TopicPartition) => Effect.Effect<void, StorageError>
  /**
   * Deletes the partition's log and directory. Appends still waiting for it fail; a later append or read of
   * the name fails with UnknownTopicOrPartition until `createPartition` makes it again.
   */
  readonly deletePartition: (tp: TopicPartition) => Effect.Effect<void, StorageError>
  /**
   * Appends one validated batch (its header already read), patching in its base offset. A batch with a
   * producer id is checked against that producer's epoch and sequence first, under the same lock as the
   * write: a retry of one of its last five batches is answered with the original's offset and not written
   * again; a sequence that does not follow on, or an older epoch, fails and writes nothing.
   */
  readonly append: (
    tp: TopicPartition,
    batch: Uint8Array,
    header: BatchHeader
  ) => Effect.Effect<AppendResult, AppendError>
  /**
   * Appends a request's batches, as `append` does each, and answers each one's result in order: one failing
   * never fails the others. The store may write them in parallel (a produce naming a thousand partitions).
   */
  readonly appendAll: (appends: ReadonlyArray<Append>) => Effect.Effect<ReadonlyArray<Result.Result<AppendResult, AppendError>>>
  /**
   * Writes a transaction marker (a control batch) and fsyncs it: the producer's open transaction in the
   * partition closes, an aborted one is recorded in the transaction index. Answers the marker's offset.
   */
  readonly writeMarker: (
    tp: TopicPartition,
    marker: Marker
  ) => Effect.Effect<number, StorageError | UnknownTopicOrPartition | InvalidProducerEpoch | TransactionCoordinatorFenced>
  /** fsyncs what was appended to the partition (for logs whose appends must be durable when acknowledged). */
  readonly flush: (tp: TopicPartition) => Effect.Effect<void, StorageError | UnknownTopicOrPartition>
  /**
   * Reads whole batches from the one holding `offset`, up to `maxBytes`; with `minOneBatch` the first batch
   * is returned even when it is larger. Read committed, only batches below the last stable offset.
   */
  readonly read: (
    tp: TopicPartition,
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    isolation?: Isolation
  ) => Effect.Effect<ReadResult, OffsetOutOfRange | StorageError | UnknownTopicOrPartition>
  readonly offsets: (tp: TopicPartition) => Effect.Effect<PartitionOffsets, StorageError | UnknownTopicOrPartition>
  /** The producers the partition keeps state for. */
  readonly producers: (tp: TopicPartition) => Effect.Effect<ReadonlyArray<ProducerInfo>, StorageError | UnknownTopicOrPartition>
  /** The first record whose timestamp is at or after `timestamp` (-3: the record with the largest timestamp). */
  readonly offsetForTimestamp: (
    tp: TopicPartition,
    timestamp: number
  ) => Effect.Effect<TimestampLookup | undefined, StorageError | UnknownTopicOrPartition>
  /**
   * Completes when the log end of any of the partitions differs from the one the caller saw (at once if it
   * already does, so an append between a read and this call is never missed), or after `timeout`.
   */
  readonly awaitAppend: (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) => Effect.Effect<void>
  /**
   * Moves the log start offset up to `offset` (-1: the log end), deleting the segments wholly below it; answers
   * the new log start offset. Beyond the log end → OffsetOutOfRange.
   */
  readonly deleteRecords: (
    tp: TopicPartition,
    offset: number
  ) => Effect.Effect<number, OffsetOutOfRange | StorageError | UnknownTopicOrPartition>
  /** Deletes the whole segments that retention (time and size, per topic) no longer keeps; runs periodically too. */
  readonly enforceRetention: Effect.Effect<void>
  /**
   * One pass of the log cleaner: every compacted log dirty enough is cleaned once, the dirtiest first (the
   * background cleaner runs such passes when `log.cleaner.enable`). Answers what each clean did.
   */
  readonly clean: Effect.Effect<ReadonlyArray<CleanStats>>
  /** The log dir, with the size of the volume it is on. */
  readonly describeLogDir: Effect.Effect<LogDirDescription>
  /**
   * The bytes of the partition's segment files (`.log`), what Kafka counts as a log's size: 0 before its first
   * append makes one. Reads sizes only, never loads the partition.
   */
  readonly partitionSize: (tp: TopicPartition) => Effect.Effect<number, StorageError | UnknownTopicOrPartition>
}>()("kafka/LogStore") {}

/** What one clean of a partition did. */
export interface CleanStats {
  readonly tp: TopicPartition
  /** The dirty section cleaned, [firstDirty, end): the next clean starts at `end`. */
  readonly firstDirty: number
  readonly end: number
  readonly bytesRead: number
  readonly bytesWritten: number
  readonly recordsRead: number
  readonly recordsKept: number
  readonly segmentsBefore: number
  readonly segmentsAfter: number
  readonly ms: number
}
