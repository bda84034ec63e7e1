// The open files of log segments, never more than `log.max.open.files` at once. A segment's file is opened when a
// read or an append needs it and stays open while it is used again; beyond the limit the least recently used
// file that nothing is using is closed, to be reopened on its next use. A broker with tens of thousands of
// partitions thus holds a bounded number of file descriptors, as Kafka's are bounded by the segments it keeps
// open. A deleted segment's file stays usable for reads already under way for a while, then closes.
import { Duration, Effect, Exit, type FileSystem, Scope } from "effect"
import { systemError, type PlatformError } from "effect/PlatformError"
import { logPath, type Segment } from "../../services/log/Segment.ts"

/** How long the file of a deleted segment stays open for reads that started before (Kafka's file.delete.delay.ms). */
const DELETE_DELAY = Duration.seconds(60)

export interface SegmentFiles {
  /**
   * Runs `f` with the segment's file open, opening it if needed (`create`: appends make a missing file; reads
   * fail on one, so that a segment deleted under a read never comes back, empty).
   */
  readonly use: <A, E, R>(
    s: Segment,
    f: (file: FileSystem.File) => Effect.Effect<A, E, R>,
    create?: boolean
  ) => Effect.Effect<A, E | PlatformError, R>
  /** The segment is deleted: its file closes once the delay has passed and nothing uses it. */
  readonly retire: (s: Segment) => Effect.Effect<void>
  /** Closes the file now if nothing uses it (the partition is gone). */
  readonly close: (s: Segment) => Effect.Effect<void>
  /** How many files are open. */
  readonly openCount: () => number
}

export const make = (fs: FileSystem.FileSystem, parent: Scope.Scope, limit: number): SegmentFiles => {
  /** Open segments, least recently used first (a Map iterates in insertion order; a use re-inserts). */
  const open = new Map<Segment, Scope.Closeable>()
  /** Segments whose file should close as soon as their last user is done. */
  const closing = new Set<Segment>()

  const closeNow = (s: Segment): Effect.Effect<void> => {
    const scope = open.get(s)
    open.delete(s)
    closing.delete(s)
    s.file = undefined
    return scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
  }

  /** Closes the least recently used idle files until at most `limit` are open. */
  const evict = Effect.suspend(() => {
    if (open.size <= limit) return Effect.void
    const victims: Array<Segment> = []
    let excess = open.size - limit
    for (const s of open.keys()) {
      if (excess === 0) break
      if (s.users === 0) {
        victims.push(s)
        excess--
      }
    }
    return Effect.forEach(victims, closeNow, { discard: true })
  })

  const openFile = (s: Segment, create: boolean): Effect.Effect<FileSystem.File, PlatformError> =>
    Effect.gen(function*() {
      if (s.deleted) {
        return yield* Effect.fail(systemError({
          _tag: "NotFound",
          module: "FileSystem",
          method: "open",
          pathOrDescriptor: logPath(s),
          description: "the segment was deleted"
        }))
      }
      const scope = yield* Scope.fork(parent)
      const file = yield* Scope.provide(fs.open(logPath(s), { flag: create ? "a+" : "r+" }), scope).pipe(
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      if (s.file !== undefined) {
        // Another fiber opened it meanwhile: keep one handle.
        yield* Scope.close(scope, Exit.void)
        return s.file
      }
      s.file = file
      open.set(s, scope)
      if (s.size < 0) s.size = Number((yield* file.stat).size)
      return file
    })

  const done = (s: Segment) =>
    Effect.suspend(() => {
      s.users--
      return s.users === 0 && closing.has(s) ? closeNow(s) : Effect.void
    })

  const use = <A, E, R>(s: Segment, f: (file: FileSystem.File) => Effect.Effect<A, E, R>, create = false) =>
    Effect.suspend(() => {
      const file = s.file
      if (file !== undefined) {
        // Most recently used now.
        const scope = open.get(s)!
        open.delete(s)
        open.set(s, scope)
        s.users++
        return Effect.ensuring(f(file), done(s))
      }
      return Effect.flatMap(openFile(s, create), (opened) => {
        s.users++
        return Effect.ensuring(Effect.andThen(evict, f(opened)), done(s))
      })
    })

  const close = (s: Segment) =>
    Effect.suspend(() => {
      if (s.users === 0) return closeNow(s)
      closing.add(s)
      return Effect.void
    })

  const retire = (s: Segment) =>
    Effect.suspend(() => {
      s.deleted = true
      if (s.file === undefined) return Effect.void
      return Effect.forkIn(Effect.andThen(Effect.sleep(DELETE_DELAY), close(s)), parent).pipe(Effect.asVoid)
    })

  return { use, retire, close, openCount: () => open.size }
}
