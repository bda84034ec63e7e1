// Large buffers, reused. Every new large ArrayBuffer counts against V8's external memory, and every few dozen
// megabytes of them set off a full garbage collection: a consumer fetching 32 MiB at a time would pay one per
// request. Buffers of a megabyte or more come from here and go back when their bytes have been written out
// (`release`); a buffer never released is simply collected. At most `IDLE_LIMIT` bytes wait here unused.
/**
 * Pooled buffers are at least this large. A socket holds no more than 16 KiB before reporting backpressure, so a
 * write of a pooled buffer that completed has reached the kernel: the buffer can be released after it.
 */
export const MIN_POOLED = 1 << 20
const GRANULE = 1 << 20
/** Must hold one whole fetch read (consumers' fetch.max.bytes defaults to 50 MiB): a smaller limit would let every large fetch allocate afresh. */
const IDLE_LIMIT = 64 << 20

const idle = new Map<number, Array<ArrayBuffer>>()
const idleSet = new Set<ArrayBuffer>()
const ours = new WeakSet<ArrayBuffer>()
let idleBytes = 0

/**
 * `n` bytes, not zeroed when they come from the pool: the caller fills them. Sizes from `min` up are pooled
 * (smaller ones only where no socket write will hold them; see MIN_POOLED).
 */
export const acquire = (n: number, min = MIN_POOLED): Uint8Array => {
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
}

/** Gives back the buffer under `bytes` (any view of it) once nothing reads it any more. */
export const release = (bytes: Uint8Array): void => {
  const buffer = bytes.buffer as ArrayBuffer
  if (!ours.has(buffer) || idleSet.has(buffer) || idleBytes + buffer.byteLength > IDLE_LIMIT) return
  let list = idle.get(buffer.byteLength)
  if (list === undefined) idle.set(buffer.byteLength, (list = []))
  list.push(buffer)
  idleSet.add(buffer)
  idleBytes += buffer.byteLength
}
