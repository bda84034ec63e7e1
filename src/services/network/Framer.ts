// Kafka's framing, the one implementation: a 4-byte big-endian size, then that many bytes. The broker frames
// requests with it, and the tests and benchmarks frame responses with it. A frame inside one chunk is handed out
// as a view of it (no copy); one spanning chunks is gathered into a buffer of its size (`allocate` chooses
// it), or handed out as its slices (`pushParts`) for readers that look at few bytes of large frames.

import { Schema } from "effect"

/** A frame whose size prefix is negative or above the limit: the stream cannot be framed past it. */
export class FrameTooLarge extends Schema.TaggedError<FrameTooLarge>()("FrameTooLarge", {
  size: Schema.Number,
  limit: Schema.Number
}) {
  override get message() {
    return this.size < 0
      ? `request size ${this.size} is negative`
      : `request of ${this.size} bytes exceeds socket.request.max.bytes=${this.limit}`
  }
}

/** The size prefix of a frame whose bytes are still arriving: its bytes can be reserved before they are read. */
export interface PartialFrame {
  readonly _tag: "PartialFrame"
  readonly size: number
}

export type Framed<F = Uint8Array> = F | FrameTooLarge | PartialFrame

export interface FramerOptions {
  /** The largest frame accepted (default: 2^31 - 1). */
  readonly limit?: number
  /**
   * A buffer for a frame of `size` bytes that spans chunks, given the first chunk it starts in (the broker pools
   * large Produce frames by their api key); default: a new array.
   */
  readonly allocate?: (size: number, first: Uint8Array) => Uint8Array
}

const EMPTY = new Uint8Array(0)
const fresh = (size: number) => new Uint8Array(size)

export class Framer {
  private readonly limit: number
  private readonly allocate: (size: number, first: Uint8Array) => Uint8Array
  private parts: Array<Uint8Array> = []
  private buffered = 0
  /** The size of the frame being received, once announced (-1: none). */
  private announced = -1

  constructor(options: FramerOptions = {}) {
    this.limit = options.limit ?? 0x7fffffff
    this.allocate = options.allocate ?? fresh
  }

  /**
   * The whole frames the chunks complete. When a push ends inside a frame, its size is announced once, as a
   * PartialFrame, after the whole frames of that push.
   */
  push(chunks: ReadonlyArray<Uint8Array>): Array<Framed> {
    return this.frames(chunks, (n) => this.take(n))
  }

  /** As `push`, each frame as the slices of the chunks it arrived in (no copy). */
  pushParts(chunks: ReadonlyArray<Uint8Array>): Array<Framed<Array<Uint8Array>>> {
    return this.frames(chunks, (n) => this.slices(n))
  }

  private frames<F>(chunks: ReadonlyArray<Uint8Array>, frame: (n: number) => F): Array<Framed<F>> {
    for (const c of chunks) {
      if (c.length === 0) continue
      this.parts.push(c)
      this.buffered += c.length
    }
    const out: Array<Framed<F>> = []
    while (this.buffered >= 4) {
      const size = this.peekSize()
      if (size < 0 || size > this.limit) {
        out.push(new FrameTooLarge({ size, limit: this.limit }))
        this.parts = []
        this.buffered = 0
        break
      }
      if (this.buffered < 4 + size) {
        if (this.announced !== size) out.push({ _tag: "PartialFrame", size })
        this.announced = size
        break
      }
      this.announced = -1
      this.skip(4)
      out.push(frame(size))
    }
    return out
  }

  private peekSize(): number {
    const first = this.parts[0]!
    if (first.length >= 4) return ((first[0]! << 24) | (first[1]! << 16) | (first[2]! << 8) | first[3]!)
    const head = this.gather(4, new Uint8Array(4))
    return new DataView(head.buffer).getInt32(0)
  }

  /** The first `into.length` buffered bytes copied into `into` (nothing is consumed). */
  private gather(n: number, into: Uint8Array): Uint8Array {
    let at = 0
    for (const p of this.parts) {
      const k = Math.min(p.length, n - at)
      into.set(p.subarray(0, k), at)
      at += k
      if (at === n) break
    }
    return into
  }

  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY
    const first = this.parts[0]!
    const out = first.length >= n ? first.subarray(0, n) : this.gather(n, this.allocate(n, first))
    this.skip(n)
    return out
  }

  private slices(n: number): Array<Uint8Array> {
    const out: Array<Uint8Array> = []
    let left = n
    while (left > 0) {
      const p = this.parts[0]!
      const k = Math.min(p.length, left)
      out.push(p.subarray(0, k))
      left -= k
      if (k === p.length) this.parts.shift()
      else this.parts[0] = p.subarray(k)
    }
    this.buffered -= n
    return out
  }

  /** Drops the first n buffered bytes. */
  private skip(n: number): void {
    let left = n
    while (left > 0) {
      const p = this.parts[0]!
      if (p.length <= left) {
        this.parts.shift()
        left -= p.length
      } else {
        this.parts[0] = p.subarray(left)
        left = 0
      }
    }
    this.buffered -= n
  }
}
