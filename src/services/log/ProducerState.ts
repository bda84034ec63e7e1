// Idempotent and transactional producers, per partition: for each producer id its current epoch, the last few
// batches it wrote (sequence range and offsets), the epoch of the coordinator that wrote its last transaction
// marker and the first offset of its open transaction, as Kafka keeps them; and the partition's open
// transactions in offset order, whose first is where the last stable offset stops. Pure: the log store calls
// `check` / `checkMarker` and the returned `record` under the partition's lock, and `observe` for every batch
// it reads back at recovery, so the state is rebuilt from the log itself.
//
// The rules (Kafka's ProducerStateEntry / ProducerAppendInfo for appends coming from clients):
// - batches without a producer id (-1) are not tracked;
// - a batch with the current epoch and exactly the sequence range of one of the last five batches is a
//   duplicate;
// - an epoch older than the current one is refused (InvalidProducerEpoch, 47);
// - a producer the partition has no state for may start at any sequence;
// - a newer epoch must start at sequence 0; the same epoch must continue at the last sequence + 1, where
//   2^31-1 is followed by 0; anything else is OutOfOrderSequence (45), including a retry of a batch older
//   than the five remembered;
// - a transactional batch opens a transaction unless its producer has one open; a non-transactional batch from
//   a producer with an open transaction is refused (InvalidTxnState, 48);
// - a marker (a control batch written by the transaction coordinator) with an older producer epoch is refused
//   (47), one from an older coordinator epoch too (TransactionCoordinatorFenced, 52); it closes the producer's
//   open transaction, if any, and takes the marker's epoch.
import type { Marker } from "../../protocol/ControlRecords.ts"
import type { SnapshotEntry } from "../../protocol/logdir/LogFiles.ts"
import { type BatchHeader, CONTROL, TRANSACTIONAL } from "../../protocol/RecordBatch.ts"
import { InvalidProducerEpoch, InvalidTxnState, OutOfOrderSequence, TransactionCoordinatorFenced } from "../Errors.ts"

/** How many of a producer's batches are remembered for recognising retries (Kafka's NUM_BATCHES_TO_RETAIN). */
export const BATCHES_RETAINED = 5

const MAX_SEQUENCE = 2147483647

export interface BatchMetadata {
  readonly firstSequence: number
  readonly lastSequence: number
  readonly baseOffset: number
  readonly lastOffset: number
}

export interface ProducerEntry {
  epoch: number
  /** Oldest first, at most BATCHES_RETAINED; cleared when the epoch changes. */
  readonly batches: Array<BatchMetadata>
  /** The epoch of the coordinator that wrote this producer's last marker (-1: none yet). */
  coordinatorEpoch: number
  /** The first offset of this producer's open transaction in the partition (-1: none open). */
  currentTxnFirstOffset: number
  /** The largest timestamp of its last batch or marker (-1: unknown). */
  lastTimestamp: number
}

/** One partition's producers by id. Mutable; owned by the partition and changed only under its lock. */
export interface ProducerState {
  readonly producers: Map<number, ProducerEntry>
  /** Open transactions: producer id → first offset, in offset order (they open in log order). */
  readonly ongoing: Map<number, number>
}

/** The header fields the checks read. */
export type SequencedHeader = Pick<BatchHeader, "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta" | "attributes"> & {
  readonly maxTimestamp?: number
}

export interface Append {
  readonly _tag: "Append"
  /** Remembers the batch once it is written at `baseOffset`; not called when the write fails. */
  readonly record: (baseOffset: number) => void
}

export interface Duplicate {
  readonly _tag: "Duplicate"
  /** Where the original of the retried batch was written. */
  readonly baseOffset: number
  readonly lastOffset: number
}

/** A transaction a marker closed: its producer, where it began, where its marker is, and how it ended. */
export interface CompletedTxn {
  readonly producerId: number
  readonly firstOffset: number
  readonly lastOffset: number
  readonly aborted: boolean
}

export interface MarkerAppend {
  readonly _tag: "Append"
  /** Takes the marker in once written at `offset`: the transaction it closed, if the producer had one open. */
  readonly record: (offset: number) => CompletedTxn | undefined
}

export type CheckResult = Append | Duplicate | OutOfOrderSequence | InvalidProducerEpoch | InvalidTxnState

export const empty = (): ProducerState => ({ producers: new Map(), ongoing: new Map() })

/** Whether batches of this producer id are tracked (Kafka's `hasProducerId`: any id above -1). */
export const isTracked = (producerId: number): boolean => producerId >= 0

/** `sequence + delta`, wrapping past 2^31-1 to 0. */
export const addToSequence = (sequence: number, delta: number): number =>
  sequence > MAX_SEQUENCE - delta ? delta - (MAX_SEQUENCE - sequence) - 1 : sequence + delta

/** The sequence of the last record of a batch. */
export const lastSequenceOf = (header: Pick<BatchHeader, "baseSequence" | "lastOffsetDelta">): number =>
  addToSequence(header.baseSequence, header.lastOffsetDelta)

const nextSequence = (last: number): number => (last === MAX_SEQUENCE ? 0 : last + 1)

/** The first offset of the earliest open transaction, or undefined when none is open. */
export const firstUnstableOffset = (state: ProducerState): number | undefined => {
  for (const offset of state.ongoing.values()) return offset
  return undefined
}

const noop = (): void => {}
const untracked: Append = { _tag: "Append", record: noop }

const entryOf = (state: ProducerState, producerId: number, epoch: number): ProducerEntry => {
  let entry = state.producers.get(producerId)
  if (entry === undefined) {
    entry = { epoch, batches: [], coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestamp: -1 }
    state.producers.set(producerId, entry)
  } else if (entry.epoch !== epoch) {
    entry.epoch = epoch
    entry.batches.length = 0
  }
  return entry
}

/**
 * Adds a written data batch to the producer's entry (`batch` undefined: one without sequences, written by a
 * coordinator), opening a transaction at `txnOffset` when the batch is transactional and none is open.
 */
const remember = (
  state: ProducerState,
  producerId: number,
  epoch: number,
  batch: BatchMetadata | undefined,
  txnOffset: number | undefined,
  timestamp: number
): void => {
  const entry = entryOf(state, producerId, epoch)
  if (timestamp >= 0) entry.lastTimestamp = timestamp
  if (batch !== undefined) {
    if (entry.batches.length === BATCHES_RETAINED) entry.batches.shift()
    entry.batches.push(batch)
  }
  if (txnOffset !== undefined && entry.currentTxnFirstOffset < 0) {
    entry.currentTxnFirstOffset = txnOffset
    state.ongoing.set(producerId, txnOffset)
  }
}

/** Closes the producer's open transaction with the marker written at `offset`. */
const closeTxn = (state: ProducerState, marker: Marker, offset: number, timestamp: number): CompletedTxn | undefined => {
  const entry = entryOf(state, marker.producerId, marker.producerEpoch)
  entry.coordinatorEpoch = marker.coordinatorEpoch
  if (timestamp >= 0) entry.lastTimestamp = timestamp
  const firstOffset = entry.currentTxnFirstOffset
  if (firstOffset < 0) return undefined
  entry.currentTxnFirstOffset = -1
  state.ongoing.delete(marker.producerId)
  return { producerId: marker.producerId, firstOffset, lastOffset: offset, aborted: !marker.commit }
}

/**
 * Checks a batch against the partition's state. `Append`: write it, then call `record` with its base offset.
 * `Duplicate`: a retry of a batch already written; answer its offsets, write nothing. Otherwise the error to
 * answer. Nothing changes until `record` is called. A batch without sequences (-1) is a coordinator's (the
 * group coordinator's transactional offset commits; clients' are refused before): only its epoch is checked.
 */
export const check = (state: ProducerState, header: SequencedHeader): CheckResult => {
  const { producerId, producerEpoch: epoch, baseSequence, lastOffsetDelta } = header
  if (!isTracked(producerId)) return untracked
  const transactional = (header.attributes & TRANSACTIONAL) !== 0
  const lastSequence = lastSequenceOf(header)
  const entry = state.producers.get(producerId)
  const timestamp = header.maxTimestamp ?? -1

  if (baseSequence < 0) {
    if (entry !== undefined && epoch < entry.epoch) return new InvalidProducerEpoch({ producerId, epoch, current: entry.epoch })
    return {
      _tag: "Append",
      record: (baseOffset) => remember(state, producerId, epoch, undefined, transactional ? baseOffset : undefined, timestamp)
    }
  }

  if (entry !== undefined) {
    if (epoch === entry.epoch) {
      const original = entry.batches.find((b) => b.firstSequence === baseSequence && b.lastSequence === lastSequence)
      if (original !== undefined) {
        return { _tag: "Duplicate", baseOffset: original.baseOffset, lastOffset: original.lastOffset }
      }
    }
    if (epoch < entry.epoch) {
      return new InvalidProducerEpoch({ producerId, epoch, current: entry.epoch })
    }
    if (epoch > entry.epoch) {
      if (baseSequence !== 0) return new OutOfOrderSequence({ producerId, expected: 0, received: baseSequence })
    } else {
      // The same epoch with no batch remembered (only a transaction marker seen) starts at 0.
      const last = entry.batches.at(-1)
      const expected = last === undefined ? 0 : nextSequence(last.lastSequence)
      if (baseSequence !== expected) return new OutOfOrderSequence({ producerId, expected, received: baseSequence })
    }
    if (!transactional && entry.currentTxnFirstOffset >= 0) {
      return new InvalidTxnState({ detail: `producer ${producerId} wrote a non-transactional batch inside its open transaction` })
    }
  }

  return {
    _tag: "Append",
    record: (baseOffset) =>
      remember(state, producerId, epoch, {
        firstSequence: baseSequence,
        lastSequence,
        baseOffset,
        lastOffset: baseOffset + lastOffsetDelta
      }, transactional ? baseOffset : undefined, timestamp)
  }
}

/** Checks a transaction marker the coordinator writes; nothing changes until `record` is called. */
export const checkMarker = (
  state: ProducerState,
  marker: Marker,
  timestamp: number
): MarkerAppend | InvalidProducerEpoch | TransactionCoordinatorFenced => {
  const entry = state.producers.get(marker.producerId)
  if (entry !== undefined) {
    if (marker.producerEpoch < entry.epoch) {
      return new InvalidProducerEpoch({ producerId: marker.producerId, epoch: marker.producerEpoch, current: entry.epoch })
    }
    if (marker.coordinatorEpoch < entry.coordinatorEpoch) {
      return new TransactionCoordinatorFenced({ producerId: marker.producerId, epoch: marker.coordinatorEpoch, current: entry.coordinatorEpoch })
    }
  }
  return { _tag: "Append", record: (offset) => closeTxn(state, marker, offset, timestamp) }
}

/**
 * Takes in a batch read back from the log (at recovery, in log order), without checking it: what is in the
 * log was accepted when it was written. A control batch comes with the marker it holds (undefined: it holds
 * none, and only its epoch counts); the transaction it closes is answered, for the transaction index.
 */
export const observe = (
  state: ProducerState,
  header: Pick<BatchHeader, "baseOffset" | "attributes" | "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta"> & {
    readonly maxTimestamp?: number
  },
  marker?: Marker
): CompletedTxn | undefined => {
  if (!isTracked(header.producerId)) return undefined
  const timestamp = header.maxTimestamp ?? -1
  if ((header.attributes & CONTROL) !== 0) {
    if (marker !== undefined) return closeTxn(state, marker, header.baseOffset, timestamp)
    remember(state, header.producerId, header.producerEpoch, undefined, undefined, timestamp)
    return undefined
  }
  remember(state, header.producerId, header.producerEpoch, header.baseSequence < 0 ? undefined : {
    firstSequence: header.baseSequence,
    lastSequence: lastSequenceOf(header),
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + header.lastOffsetDelta
  }, (header.attributes & TRANSACTIONAL) !== 0 ? header.baseOffset : undefined, timestamp)
  return undefined
}

/** The state after the batches of a log, in order. */
export const rebuild = (
  batches: Iterable<Parameters<typeof observe>[1] & { readonly marker?: Marker }>
): ProducerState => {
  const state = empty()
  for (const b of batches) observe(state, b, b.marker)
  return state
}

/**
 * The state as Kafka snapshots it: per producer its epoch, last batch, coordinator epoch and open transaction
 * (older batches are not kept, so after a restart from a snapshot only a retry of the last batch is
 * recognised, as with Kafka).
 */
export const toSnapshot = (state: ProducerState): Array<SnapshotEntry> =>
  [...state.producers].map(([producerId, entry]) => {
    const last = entry.batches.at(-1)
    return {
      producerId,
      epoch: entry.epoch,
      lastSequence: last?.lastSequence ?? -1,
      lastOffset: last?.lastOffset ?? -1,
      offsetDelta: last === undefined ? 0 : last.lastOffset - last.baseOffset,
      timestamp: entry.lastTimestamp,
      coordinatorEpoch: entry.coordinatorEpoch,
      currentTxnFirstOffset: entry.currentTxnFirstOffset
    }
  })

export const fromSnapshot = (entries: Iterable<SnapshotEntry>): ProducerState => {
  const state = empty()
  const open: Array<[number, number]> = []
  for (const e of entries) {
    const entry = entryOf(state, e.producerId, e.epoch)
    entry.coordinatorEpoch = e.coordinatorEpoch
    entry.currentTxnFirstOffset = e.currentTxnFirstOffset
    entry.lastTimestamp = e.timestamp
    if (e.currentTxnFirstOffset >= 0) open.push([e.producerId, e.currentTxnFirstOffset])
    if (e.lastSequence >= 0) {
      entry.batches.push({
        // Sequences wrap from 2^31-1 to 0, so a batch may start "above" where it ends.
        firstSequence: e.lastSequence - e.offsetDelta < 0 ? e.lastSequence - e.offsetDelta + MAX_SEQUENCE + 1 : e.lastSequence - e.offsetDelta,
        lastSequence: e.lastSequence,
        baseOffset: e.lastOffset - e.offsetDelta,
        lastOffset: e.lastOffset
      })
    }
  }
  for (const [producerId, offset] of open.sort((a, b) => a[1] - b[1])) state.ongoing.set(producerId, offset)
  return state
}
