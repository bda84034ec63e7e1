// Log lines an effect writes, captured (and kept off the console) so that tests can check what a user would
// read in the broker's log.
import { Effect, Logger } from "effect"

export interface LogLine {
  readonly level: string
  readonly message: string
}

/** Runs `self` collecting every log line. */
export const withLogs = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<LogLine> = []
    const capture = Logger.make((options) => {
      const m = options.message
      lines.push({ level: options.logLevel, message: Array.isArray(m) ? m.join(" ") : String(m) })
    })
    const result = yield* self.pipe(Effect.provide(Logger.layer([capture])))
    return [result, lines] as const
  })

export const quietly = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.map(withLogs(self), ([a]) => a)
