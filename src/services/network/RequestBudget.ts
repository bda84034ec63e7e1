// The broker-wide budget of request bytes (`queued.max.request.bytes`): a connection reserves a frame's bytes as
// soon as its size is known and gives them back once the request is handled, and reads no further while the
// budget is spent. Kafka's memory pool for requests works the same way.
import { Effect } from "effect"

/**
 * Bytes of requests read but not yet handled, shared by every connection of a broker (`queued.max.request.bytes`).
 * Taking more than is left waits, in order, until others give theirs back.
 */
export class RequestBudget {
  readonly limit: number
  private available: number
  private readonly waiting: Array<{ readonly n: number; readonly grant: () => void }> = []

  constructor(limit: number) {
    this.limit = limit
    this.available = limit
  }

  /** Takes `n` bytes at once if they are there and nobody waits before. */
  tryTake(n: number): boolean {
    if (n > this.available || this.waiting.length > 0) return false
    this.available -= n
    return true
  }

  /** Takes `n` bytes, waiting for them; interrupted, it takes nothing. */
  take(n: number): Effect.Effect<void> {
    return Effect.suspend(() => (this.tryTake(n) ? Effect.void : this.wait(n)))
  }

  private wait(n: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      let granted = false
      const entry = { n, grant: () => {
        granted = true
        resume(Effect.void)
      } }
      this.waiting.push(entry)
      return Effect.sync(() => {
        if (granted) return this.release(n)
        const i = this.waiting.indexOf(entry)
        if (i >= 0) this.waiting.splice(i, 1)
        this.wake()
      })
    })
  }

  release(n: number): void {
    this.available += n
    this.wake()
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.n <= this.available) {
      const next = this.waiting.shift()!
      this.available -= next.n
      next.grant()
    }
  }
}
