// Idempotent producers, per partition: for each producer id its current epoch and the last few batches it wrote
// (sequence range and offsets), as Kafka keeps them, so that a retried batch is answered with the offset it
// already has instead of being written again, and a batch that does not follow on is refused. Pure: the log
// store calls `check` and the returned `record` under the partition's lock, and `observe` for every batch
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
//   than the five remembered.
import type { SnapshotEntry } from "../../protocol/logdir/LogFiles.ts"
import { CONTROL, type BatchHeader } from "../../protocol/RecordBatch.ts"
import { InvalidProducerEpoch, OutOfOrderSequence } from "../Errors.ts"

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
}

/** One partition's producers by id. Mutable; owned by the partition and changed only under its lock. */
export interface ProducerState {
  readonly producers: Map<number, ProducerEntry>
}

/** The header fields the checks read. */
export type SequencedHeader = Pick<BatchHeader, "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta">

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

export type CheckResult = Append | Duplicate | OutOfOrderSequence | InvalidProducerEpoch

export const empty = (): ProducerState => ({ producers: new Map() })

/** Whether batches of this producer id are tracked (Kafka's `hasProducerId`: any id above -1). */
export const isTracked = (producerId: number): boolean => producerId >= 0

/** `sequence + delta`, wrapping past 2^31-1 to 0. */
export const addToSequence = (sequence: number, delta: number): number =>
  sequence > MAX_SEQUENCE - delta ? delta - (MAX_SEQUENCE - sequence) - 1 : sequence + delta

/** The sequence of the last record of a batch. */
export const lastSequenceOf = (header: Pick<BatchHeader, "baseSequence" | "lastOffsetDelta">): number =>
  addToSequence(header.baseSequence, header.lastOffsetDelta)

const nextSequence = (last: number): number => (last === MAX_SEQUENCE ? 0 : last + 1)

const noop = (): void => {}
const untracked: Append = { _tag: "Append", record: noop }

/** Adds a written batch to the producer's entry, starting over when the epoch changed. */
const remember = (
  state: ProducerState,
  producerId: number,
  epoch: number,
  batch: BatchMetadata | undefined
): void => {
  let entry = state.producers.get(producerId)
  if (entry === undefined) {
    entry = { epoch, batches: [] }
    state.producers.set(producerId, entry)
  } else if (entry.epoch !== epoch) {
    entry.epoch = epoch
    entry.batches.length = 0
  }
  if (batch === undefined) return
  if (entry.batches.length === BATCHES_RETAINED) entry.batches.shift()
  entry.batches.push(batch)
}

/**
 * Checks a batch a client produced against the partition's state. `Append`: write it, then call `record`
 * with its base offset. `Duplicate`: a retry of a batch already written; answer its offsets, write nothing.
 * Otherwise the error to answer. Nothing changes until `record` is called.
 */
export const check = (state: ProducerState, header: SequencedHeader): CheckResult => {
  const { producerId, producerEpoch: epoch, baseSequence, lastOffsetDelta } = header
  if (!isTracked(producerId)) return untracked
  const lastSequence = lastSequenceOf(header)
  const entry = state.producers.get(producerId)

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
      // The same epoch with no batch remembered (only a transaction marker seen at recovery) starts at 0.
      const last = entry.batches.at(-1)
      const expected = last === undefined ? 0 : nextSequence(last.lastSequence)
      if (baseSequence !== expected) return new OutOfOrderSequence({ producerId, expected, received: baseSequence })
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
      })
  }
}

/**
 * Takes in a batch read back from the log (at recovery, in log order), without checking it: what is in the
 * log was accepted when it was written. A control batch (a transaction marker) only sets the epoch.
 */
export const observe = (
  state: ProducerState,
  header: Pick<BatchHeader, "baseOffset" | "attributes" | "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta">
): void => {
  if (!isTracked(header.producerId)) return
  const isData = (header.attributes & CONTROL) === 0 && header.baseSequence >= 0
  remember(state, header.producerId, header.producerEpoch, isData
    ? {
      firstSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header),
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta
    }
    : undefined)
}

/** The state after the batches of a log, in order. */
export const rebuild = (
  headers: Iterable<Parameters<typeof observe>[1]>
): ProducerState => {
  const state = empty()
  for (const header of headers) observe(state, header)
  return state
}

/**
 * The state as Kafka snapshots it: per producer its epoch and last batch (older batches are not kept, so after
 * a restart from a snapshot only a retry of the last batch is recognised, as with Kafka).
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
      timestamp: -1
    }
  })

export const fromSnapshot = (entries: Iterable<SnapshotEntry>): ProducerState => {
  const state = empty()
  for (const e of entries) {
    remember(state, e.producerId, e.epoch, e.lastSequence < 0 ? undefined : {
      // Sequences wrap from 2^31-1 to 0, so a batch may start "above" where it ends.
      firstSequence: e.lastSequence - e.offsetDelta < 0 ? e.lastSequence - e.offsetDelta + MAX_SEQUENCE + 1 : e.lastSequence - e.offsetDelta,
      lastSequence: e.lastSequence,
      baseOffset: e.lastOffset - e.offsetDelta,
      lastOffset: e.lastOffset
    })
  }
  return state
}
