// A coordinator's log read from where the coordinator last read it: at start from the beginning; over storage
// other brokers write too (services/cluster/Coordination.ts), again whenever they append and whenever the live
// brokers change, the coordinator handing over the keys it loses and taking up those it gains. Following, the
// batches the coordinator appended itself are passed over: it applied them as it wrote them.
import { Duration, Effect, Semaphore } from "effect"
import { bytesOf } from "../../protocol/Bytes.ts"
import { type BatchHeader, scanBatches } from "../../protocol/RecordBatch.ts"
import type { ClusterShape } from "../../services/cluster/Cluster.ts"
import type { Ownership } from "../../services/cluster/Coordination.ts"
import { describeFailure, StorageError } from "../../services/Errors.ts"
import { type LogStore, partitionName, type TopicPartition } from "../../services/log/LogStore.ts"

/** What is read at a time. */
const CHUNK = 8 * 1024 * 1024
/** The longest a follower waits between looks at the live brokers. */
const LOOK = Duration.millis(500)

export interface CoordinatorLog {
  /** Reads what was appended since the last read (one reader at a time), each batch to the coordinator's replay. */
  readonly catchUp: Effect.Effect<void, StorageError>
  /** The coordinator appended a batch at `baseOffset` (and applied it): following, it is not replayed. */
  readonly wrote: (baseOffset: number) => void
  /**
   * Forever: waits for appends (or half a second), moves the coordinator's ownership to the live brokers
   * (`lose`: the keys it no longer serves; `gain`: those it now serves, once the log is read up to its end).
   */
  readonly follow: (options: {
    readonly cluster: ClusterShape
    readonly ownership: Ownership
    readonly lose: (lost: (key: string) => boolean) => Effect.Effect<void>
    readonly gain: (gained: (key: string) => boolean) => Effect.Effect<void>
  }) => Effect.Effect<never>
}

export const make = (store: LogStore["Service"], tp: TopicPartition, replay: (header: BatchHeader, batch: Uint8Array) => void): CoordinatorLog => {
  let next = 0
  let following = false
  const own = new Set<number>()
  const lock = Semaphore.makeUnsafe(1)
  const asStorageError = (cause: unknown) => cause instanceof StorageError ? cause : new StorageError({ partition: partitionName(tp), cause })

  const catchUp = lock.withPermits(1)(Effect.gen(function*() {
    const { logStartOffset, logEndOffset } = yield* store.offsets(tp)
    // Records deleted below the log start (DeleteRecords) are not there to read.
    if (next < logStartOffset) next = logStartOffset
    while (next < logEndOffset) {
      const read = yield* store.read(tp, next, CHUNK, true)
      const records = yield* bytesOf(read.records)
      if (records.length === 0) break
      scanBatches(records, (header, position) => {
        next = header.baseOffset + header.lastOffsetDelta + 1
        if (!own.delete(header.baseOffset)) replay(header, records.subarray(position, position + header.size))
      })
    }
  })).pipe(Effect.mapError(asStorageError))

  // A batch already read past was read before its append returned: applied twice, the same record.
  const wrote = (baseOffset: number) => {
    if (following && baseOffset >= next) own.add(baseOffset)
  }

  const follow: CoordinatorLog["follow"] = ({ cluster, ownership, lose, gain }) => {
    following = true
    let failing = false
    const step = Effect.gen(function*() {
      const moving = ownership.begin(cluster.live())
      if (moving) yield* lose(ownership.lost)
      const read = yield* Effect.result(catchUp)
      if (read._tag === "Failure") {
        // The storage is away: one line, then a look every second until it is back (the move waits too).
        if (!failing) yield* Effect.logWarning(`${partitionName(tp)}: following the coordinator log failed: ${describeFailure(read.failure)}`)
        failing = true
        return yield* Effect.sleep(Duration.seconds(1))
      }
      if (failing) yield* Effect.logInfo(`${partitionName(tp)}: following the coordinator log again`)
      failing = false
      if (moving) yield* gain(ownership.commit())
      yield* store.awaitAppend([{ ...tp, logEndOffset: next }], LOOK)
    })
    return Effect.forever(step)
  }

  return { catchUp, wrote, follow }
}
