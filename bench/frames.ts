// Kafka framing for the benchmark tools (load generator and reference server), on the broker's own Framer: a
// frame inside one socket chunk is handed out as a view of it (no copy); one spanning chunks is gathered once
// into a buffer of its size, or (`partsReader`) handed out as the slices it arrived in, for readers that look at
// a few places in large frames (the Fetch consumer reads its header and the batch headers).
import { Framer, FrameTooLarge } from "../src/services/network/Framer.ts"

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length)

/** A 'data' listener calling `onFrame` with each whole frame (size prefix excluded). */
export const frameReader = (onFrame: (frame: Buffer) => void, limit = 1 << 30) => {
  const framer = new Framer({ limit, allocate: (size) => Buffer.allocUnsafeSlow(size) })
  return (chunk: Buffer): void => {
    for (const f of framer.push([chunk])) {
      if (f instanceof FrameTooLarge) throw f
      if (f instanceof Uint8Array) onFrame(asBuffer(f))
    }
  }
}

/** A 'data' listener calling `onFrame` with each whole frame as its slices. */
export const partsReader = (onFrame: (frame: Parts) => void) => {
  const framer = new Framer()
  return (chunk: Buffer): void => {
    for (const f of framer.pushParts([chunk])) {
      if (f instanceof FrameTooLarge) throw f
      if (Array.isArray(f)) onFrame(new Parts(f.map(asBuffer), f.reduce((n, p) => n + p.length, 0)))
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
