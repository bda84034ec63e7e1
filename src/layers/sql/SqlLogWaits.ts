// Long polls over PostgreSQL: one LISTEN per broker on the channel every append, marker, create and delete of a
// partition log NOTIFYs in its transaction (delivered at commit, to every broker). A poll registers, then reads
// the log ends of its partitions; a notification for one of them wakes it, so an append through any broker ends
// the wait, without polling. When the listening connection fails, every poll is woken (to read again) and the
// LISTEN is made anew.
import type { PgClient } from "@effect/sql-pg/PgClient"
import { Deferred, Duration, Effect, Queue, type Scope } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { partitionName, type SeenEnd, type TopicPartition } from "../../services/log/LogStore.ts"

/** The channel appends notify on; the payload is `<log end> <topic>-<partition>`. */
export const APPEND_CHANNEL = "kafka_log_append"

const num = (v: unknown): number => (v === null || v === undefined ? -1 : Number(v))

/** Listens (confirmed before it returns, for as long as the scope lasts) and answers the store's awaitAppend. */
export const make = (pg: PgClient, sql: SqlClient): Effect.Effect<{
  readonly awaitAppend: (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) => Effect.Effect<void>
}, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
    const wake = (name: string) => {
      const set = waiters.get(name)
      if (set === undefined) return
      waiters.delete(name)
      for (const d of set) Deferred.doneUnsafe(d, Effect.void)
    }
    const wakeAll = () => {
      for (const name of [...waiters.keys()]) wake(name)
    }
    // LISTEN is confirmed before the store is made, so no append committed after a poll's check goes unseen.
    // When the listening connection fails, every poll is woken (to read again) and the LISTEN is made anew.
    const drain = (queue: Queue.Dequeue<{ readonly payload: string }, SqlError>) =>
      Effect.forever(Effect.map(Queue.take(queue), (n) => {
        const space = n.payload.indexOf(" ")
        if (space > 0) wake(n.payload.slice(space + 1))
      }))
    // One line when the notifications stop and one when they are back; tries again every second meanwhile.
    let down = false
    const relisten = (e: SqlError): Effect.Effect<never> =>
      Effect.suspend(() => {
        const first = !down
        down = true
        return first ? Effect.logWarning(`log notifications lost: ${e.message}; listening again`) : Effect.void
      }).pipe(
        Effect.andThen(Effect.sync(wakeAll)),
        Effect.andThen(Effect.sleep(Duration.seconds(1))),
        // Listening again: the polls that came meanwhile read again, then wait for notifications.
        Effect.andThen(Effect.scoped(Effect.flatMap(pg.listen(APPEND_CHANNEL), (queue) =>
          Effect.andThen(
            Effect.suspend(() => {
              down = false
              wakeAll()
              return Effect.logInfo("log notifications: listening again")
            }),
            drain(queue)
          )))),
        Effect.catch(relisten)
      )
    const queue = yield* pg.listen(APPEND_CHANNEL)
    yield* Effect.forkScoped(drain(queue).pipe(Effect.catch(relisten)))

    const awaitAppend = (seen: ReadonlyArray<SeenEnd>, timeout: Duration.Input) =>
      Effect.suspend(() => {
        const d = Deferred.makeUnsafe<void>()
        const names = seen.map(partitionName)
        for (const name of names) {
          let set = waiters.get(name)
          if (set === undefined) waiters.set(name, (set = new Set()))
          set.add(d)
        }
        // Registered first, then checked: an append committed after the check wakes it.
        const changed = ends(seen).pipe(
          Effect.map((current) => seen.some((s, i) => current.get(names[i]!) !== s.logEndOffset)),
          Effect.catch(() => Effect.succeed(true))
        )
        return Effect.flatMap(changed, (yes) => (yes ? Effect.void : Effect.asVoid(Effect.timeoutOption(Deferred.await(d), timeout)))).pipe(
          Effect.ensuring(Effect.sync(() => {
            for (const name of names) {
              const set = waiters.get(name)
              set?.delete(d)
              if (set?.size === 0) waiters.delete(name)
            }
          }))
        )
      })

    /** The log ends of these partitions (0 before a first append, -1 when deleted). */
    const ends = (seen: ReadonlyArray<TopicPartition>) =>
      Effect.map(
        sql`SELECT topic, partition, next_offset, deleted FROM log_partitions
          WHERE (topic, partition) IN (SELECT * FROM unnest(${seen.map((s) => s.topic)}::text[], ${seen.map((s) => s.partition)}::int4[]))`,
        (rows) => {
          const out = new Map<string, number>(seen.map((s) => [partitionName(s), 0]))
          for (const r of rows) out.set(partitionName({ topic: String(r.topic), partition: num(r.partition) }), r.deleted === true ? -1 : num(r.next_offset))
          return out
        }
      )

    return { awaitAppend }
  })
