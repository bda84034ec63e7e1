// Kafka framing for the benchmark tools (load generator and reference server): a 4-byte big-endian size, then
// that many bytes. A frame that lies inside one socket chunk is handed out as a view of it (no copy); a frame
// that spans chunks is copied once, into a buffer of its exact size allocated as soon as its size is known.

export class FrameReader {
  private readonly head = Buffer.alloc(4)
  private headLength = 0
  private frame: Buffer | null = null
  private filled = 0
  private readonly onFrame: (frame: Buffer) => void
  private readonly limit: number

  constructor(onFrame: (frame: Buffer) => void, limit = 1 << 30) {
    this.onFrame = onFrame
    this.limit = limit
  }

  push(chunk: Buffer): void {
    let at = 0
    const n = chunk.length
    while (at < n) {
      const frame = this.frame
      if (frame !== null) {
        const k = Math.min(n - at, frame.length - this.filled)
        chunk.copy(frame, this.filled, at, at + k)
        this.filled += k
        at += k
        if (this.filled === frame.length) {
          this.frame = null
          this.onFrame(frame)
        }
        continue
      }
      let size: number
      if (this.headLength === 0 && n - at >= 4) {
        size = chunk.readInt32BE(at)
        at += 4
      } else {
        const k = Math.min(4 - this.headLength, n - at)
        chunk.copy(this.head, this.headLength, at, at + k)
        this.headLength += k
        at += k
        if (this.headLength < 4) return
        this.headLength = 0
        size = this.head.readInt32BE(0)
      }
      if (size < 0 || size > this.limit) throw new Error(`frame of ${size} bytes`)
      if (n - at >= size) {
        const view = chunk.subarray(at, at + size)
        at += size
        this.onFrame(view)
      } else {
        this.frame = Buffer.allocUnsafeSlow(size)
        this.filled = 0
      }
    }
  }
}

/**
 * The same framing without the copy: a frame arrives as the list of socket-chunk slices it spans, for readers
 * that only look at a few places in large frames (the Fetch consumer reads its header and the batch headers).
 */
export class ChunkedFrameReader {
  private readonly head = Buffer.alloc(4)
  private headLength = 0
  private size = -1
  private have = 0
  private parts: Array<Buffer> = []
  private readonly onFrame: (frame: Parts) => void

  constructor(onFrame: (frame: Parts) => void) {
    this.onFrame = onFrame
  }

  push(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length || this.size === 0) {
      if (this.size < 0) {
        const k = Math.min(4 - this.headLength, chunk.length - at)
        chunk.copy(this.head, this.headLength, at, at + k)
        this.headLength += k
        at += k
        if (this.headLength < 4) return
        this.headLength = 0
        this.size = this.head.readInt32BE(0)
        if (this.size < 0) throw new Error(`frame of ${this.size} bytes`)
        continue
      }
      const k = Math.min(chunk.length - at, this.size - this.have)
      if (k > 0) this.parts.push(chunk.subarray(at, at + k))
      this.have += k
      at += k
      if (this.have === this.size) {
        const frame = new Parts(this.parts, this.size)
        this.parts = []
        this.size = -1
        this.have = 0
        this.onFrame(frame)
      }
    }
  }
}

/** A frame held as slices: reads a few bytes anywhere (a copy only when they straddle two slices). */
export class Parts {
  readonly parts: ReadonlyArray<Buffer>
  readonly length: number
  private readonly starts: Array<number> = []
  private last = 0

  constructor(parts: ReadonlyArray<Buffer>, length: number) {
    this.parts = parts
    this.length = length
    let at = 0
    for (const p of parts) {
      this.starts.push(at)
      at += p.length
    }
  }

  /** `n` bytes at `at`, as a view when they lie in one slice. */
  bytes(at: number, n: number): Buffer {
    if (at < 0 || at + n > this.length) throw new Error(`bytes ${at}-${at + n} of a ${this.length}-byte frame`)
    let i = this.starts[this.last]! <= at ? this.last : 0
    while (i + 1 < this.parts.length && this.starts[i + 1]! <= at) i++
    this.last = i
    const offset = at - this.starts[i]!
    const part = this.parts[i]!
    if (offset + n <= part.length) return part.subarray(offset, offset + n)
    const out = Buffer.allocUnsafe(n)
    let done = 0
    while (done < n) {
      const p = this.parts[i]!
      const from = done === 0 ? offset : 0
      const k = Math.min(p.length - from, n - done)
      p.copy(out, done, from, from + k)
      done += k
      i++
    }
    return out
  }
}
