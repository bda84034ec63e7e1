// Coordinators over logs other brokers append to as well (brokers over PostgreSQL, layers/sql): every broker's
// group and transaction coordinators follow the whole of their log (`__consumer_offsets-0`,
// `__transaction_state-0`), so whichever broker a key moves to has its state, and each serves only the keys the
// live brokers place on it (Cluster.ts's `coordinatorOf`). Without `SharedCoordinators` in their context (a lone
// broker, or the embedded cluster whose nodes share one coordinator) they serve every key they are asked for.
//
// When the live brokers change, a coordinator goes from the view it served by to the new one in three steps:
// the keys it loses stop being served at once (parked requests answered NOT_COORDINATOR, timers dropped); it
// reads its log to the end (what the keys' old coordinators wrote last); then it serves by the new view and
// takes up the keys it gained (sessions, unfinished transaction ends). Meanwhile the keys that move answer
// COORDINATOR_LOAD_IN_PROGRESS, as Kafka's coordinator does while it loads a partition of its log, and the
// client retries.
import { Context } from "effect"
import { type ClusterShape, coordinatorOf } from "./Cluster.ts"

/** The cluster whose brokers write the same coordinator logs; present only when they are other processes. */
export class SharedCoordinators extends Context.Service<SharedCoordinators, ClusterShape>()("kafka/SharedCoordinators") {}

export interface Ownership {
  /** Whether this broker serves `key` now: placed here by the view it serves by and by the one it moves to. */
  readonly owns: (key: string) => boolean
  /** Whether `key` is moving to or from this broker. */
  readonly moving: (key: string) => boolean
  /** Moves towards the live set `live` (a move begun goes there instead); answers whether a move is under way. */
  readonly begin: (live: ReadonlyArray<number>) => boolean
  /** Keys this broker loses in the move under way (served before, not after). */
  readonly lost: (key: string) => boolean
  /** Ends the move: serves by the new view; answers which keys it gained. */
  readonly commit: () => (key: string) => boolean
}

const same = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.length === b.length && a.every((n, i) => b[i] === n)

/** The keys `self` coordinates, starting from the live set `initial`; undefined live: every key (no peers). */
export const ownership = (self: number, initial: ReadonlyArray<number> | undefined): Ownership => {
  if (initial === undefined) {
    const all = () => true
    const none = () => false
    return { owns: all, moving: none, begin: none, lost: none, commit: () => none }
  }
  let view = initial
  let next = initial
  const at = (live: ReadonlyArray<number>, key: string) => coordinatorOf(live, key) === self
  return {
    owns: (key) => at(view, key) && (next === view || at(next, key)),
    moving: (key) => next !== view && at(view, key) !== at(next, key),
    begin: (live) => {
      if (!same(live, next)) next = live
      return next !== view
    },
    lost: (key) => at(view, key) && !at(next, key),
    commit: () => {
      const before = view
      view = next
      return (key) => !at(before, key) && at(view, key)
    }
  }
}
