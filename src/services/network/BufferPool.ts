// Large buffers, reused. Every new large ArrayBuffer counts against V8's external memory, and every few dozen
// megabytes of them set off a full garbage collection: a broker gathering megabyte Produce requests or streaming
// large Fetch answers would pay one every few requests. The broker owns one pool (a service, provided with the
// broker's layers): connections take Produce frames and the pieces of streamed answers from it, the log store its
// large reads, and each gives a buffer back when nothing reads it any more. A buffer never given back is simply
// collected. At most `IDLE_LIMIT` bytes wait in the pool unused.
import { Context, Layer } from "effect"

/**
 * Pooled buffers are at least this large. A socket holds no more than 16 KiB before reporting backpressure, so a
 * write of a pooled buffer that completed has reached the kernel: the buffer can be given back after it.
 */
export const MIN_POOLED = 1 << 20
const GRANULE = 1 << 20
/** Must hold one whole large read: a smaller limit would let every large read allocate afresh. */
const IDLE_LIMIT = 64 << 20

export interface Pool {
  /**
   * `n` bytes, not zeroed when they come from the pool: the caller fills them. Sizes from `min` up are pooled
   * (smaller ones only where no socket write will hold them; see MIN_POOLED).
   */
  readonly acquire: (n: number, min?: number) => Uint8Array
  /** Gives back the buffer under `bytes` (any view of it) once nothing reads it any more. */
  readonly release: (bytes: Uint8Array) => void
}

export const make = (): Pool => {
  const idle = new Map<number, Array<ArrayBuffer>>()
  const idleSet = new Set<ArrayBuffer>()
  const ours = new WeakSet<ArrayBuffer>()
  let idleBytes = 0
  return {
    acquire: (n, min = MIN_POOLED) => {
      if (n < min) return new Uint8Array(n)
      const size = Math.ceil(n / GRANULE) * GRANULE
      const buffer = idle.get(size)?.pop()
      if (buffer !== undefined) {
        idleSet.delete(buffer)
        idleBytes -= size
        return new Uint8Array(buffer, 0, n)
      }
      const fresh = new ArrayBuffer(size)
      ours.add(fresh)
      return new Uint8Array(fresh, 0, n)
    },
    release: (bytes) => {
      const buffer = bytes.buffer as ArrayBuffer
      if (!ours.has(buffer) || idleSet.has(buffer) || idleBytes + buffer.byteLength > IDLE_LIMIT) return
      let list = idle.get(buffer.byteLength)
      if (list === undefined) idle.set(buffer.byteLength, (list = []))
      list.push(buffer)
      idleSet.add(buffer)
      idleBytes += buffer.byteLength
    }
  }
}

export class BufferPool extends Context.Service<BufferPool, Pool>()("kafka/BufferPool") {
  static readonly layer = Layer.sync(BufferPool, make)
}
