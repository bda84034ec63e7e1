// Primitive readers and writers for Kafka's wire format: big-endian fixed-width integers, zig-zag and
// unsigned varints, UUIDs. int64 values are JavaScript numbers: offsets, timestamps and producer ids stay
// far below 2^53 in practice, and numbers keep the hot path free of BigInt allocation.
import { Effect } from "effect"

/** Thrown when a buffer ends early or holds an impossible length; the connection layer turns it into a close. */
export class MalformedInput extends Error {
  override readonly name = "MalformedInput"
}

const TWO_32 = 4294967296

export class ByteReader {
  readonly bytes: Uint8Array
  readonly view: DataView
  offset: number
  readonly end: number

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  private need(n: number): number {
    const at = this.offset
    if (n < 0 || at + n > this.end) {
      throw new MalformedInput(`need ${n} bytes at offset ${at}, ${this.end - at} left`)
    }
    this.offset = at + n
    return at
  }

  int8(): number {
    return this.view.getInt8(this.need(1))
  }
  int16(): number {
    return this.view.getInt16(this.need(2))
  }
  uint16(): number {
    return this.view.getUint16(this.need(2))
  }
  int32(): number {
    return this.view.getInt32(this.need(4))
  }
  uint32(): number {
    return this.view.getUint32(this.need(4))
  }
  int64(): number {
    const at = this.need(8)
    return this.view.getInt32(at) * TWO_32 + this.view.getUint32(at + 4)
  }
  float64(): number {
    return this.view.getFloat64(this.need(8))
  }
  bool(): boolean {
    return this.bytes[this.need(1)] !== 0
  }

  uvarint(): number {
    let value = 0
    let shift = 0
    for (;;) {
      const b = this.bytes[this.need(1)]!
      if (shift === 28) {
        if (b > 0x0f) throw new MalformedInput("unsigned varint longer than 32 bits")
        return value + b * 2 ** 28
      }
      value |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) return value >>> 0
      shift += 7
    }
  }

  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  /** Zig-zag varlong (record fields); exact for magnitudes up to 2^52. */
  varlong(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      const b = this.bytes[this.need(1)]!
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2
      }
      scale *= 128
    }
    throw new MalformedInput("varlong longer than 10 bytes")
  }

  raw(n: number): Uint8Array {
    const at = this.need(n)
    return this.bytes.subarray(at, at + n)
  }

  uuid(): string {
    return uuidToString(this.raw(16))
  }

  skip(n: number): void {
    this.need(n)
  }
}

/**
 * Bytes a message refers to without holding them: records still in a log segment, read only when the response
 * is written out, so that a response waiting for a slow client costs no memory for its records. The encoder
 * writes their length and keeps the source in its place among the output chunks.
 */
export interface ByteSource {
  readonly length: number
  /** Copies `into.length` bytes, starting `offset` bytes into the source, into `into`. */
  readonly read: (into: Uint8Array, offset: number) => Effect.Effect<void, unknown>
}

export const isByteSource = (value: unknown): value is ByteSource =>
  typeof value === "object" && value !== null && !(value instanceof Uint8Array) && "read" in value

/** One piece of an encoded message: bytes, or a source to read them from when writing. */
export type Chunk = Uint8Array | ByteSource

/** All the bytes of a chunk, a source read whole (for readers inside the broker, and tests). */
export const bytesOf = (chunk: Chunk): Effect.Effect<Uint8Array, unknown> => {
  if (chunk instanceof Uint8Array) return Effect.succeed(chunk)
  const out = new Uint8Array(chunk.length)
  return Effect.as(chunk.read(out, 0), out)
}

const INITIAL = 256
/** Byte arrays at least this long are kept by reference instead of copied (Fetch records). */
const BY_REFERENCE = 16 * 1024

/**
 * A growable output buffer. Large byte fields are appended by reference as separate chunks, so a Fetch
 * response of stored batches is written with one gathered write and no copy.
 */
export class ByteWriter {
  private buf: Uint8Array
  private pos = 0
  private readonly chunks: Array<Chunk> = []
  private flushedLength = 0

  constructor(initial = INITIAL) {
    this.buf = new Uint8Array(initial)
  }

  get length(): number {
    return this.flushedLength + this.pos
  }

  /** Makes room for n bytes and returns where they go; it may replace `buf`, so call it first. */
  private ensure(n: number): number {
    const at = this.pos
    if (at + n > this.buf.length) {
      // After a by-reference chunk the remaining buffer may be empty: never grow from zero.
      let size = Math.max(this.buf.length * 2, INITIAL)
      while (size < at + n) size *= 2
      const next = new Uint8Array(size)
      next.set(this.buf.subarray(0, at))
      this.buf = next
    }
    this.pos = at + n
    return at
  }

  // Integers are written byte by byte: cheaper than a DataView per writer for the small messages of the
  // protocol, and Uint8Array stores keep the low 8 bits of whatever they are given.
  int8(v: number): void {
    const at = this.ensure(1)
    this.buf[at] = v
  }
  int16(v: number): void {
    const at = this.ensure(2)
    const b = this.buf
    b[at] = v >> 8
    b[at + 1] = v
  }
  uint16(v: number): void {
    this.int16(v)
  }
  int32(v: number): void {
    const at = this.ensure(4)
    const b = this.buf
    b[at] = v >> 24
    b[at + 1] = v >> 16
    b[at + 2] = v >> 8
    b[at + 3] = v
  }
  uint32(v: number): void {
    this.int32(v | 0)
  }
  int64(v: number): void {
    const hi = Math.floor(v / TWO_32)
    this.int32(hi | 0)
    this.int32((v - hi * TWO_32) | 0)
  }
  float64(v: number): void {
    const at = this.ensure(8)
    new DataView(this.buf.buffer, this.buf.byteOffset + at, 8).setFloat64(0, v)
  }
  bool(v: boolean): void {
    const at = this.ensure(1)
    this.buf[at] = v ? 1 : 0
  }

  uvarint(v: number): void {
    while (v >= 0x80) {
      const at = this.ensure(1)
      this.buf[at] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    const at = this.ensure(1)
    this.buf[at] = v
  }

  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0)
  }

  varlong(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1)
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length >= BY_REFERENCE) return this.chunk(bytes)
    const at = this.ensure(bytes.length)
    this.buf.set(bytes, at)
  }

  /** Appends bytes held elsewhere, by reference: they are read when the message is written out. */
  source(source: ByteSource): void {
    this.chunk(source)
  }

  private chunk(chunk: Chunk): void {
    this.chunks.push(this.buf.subarray(0, this.pos), chunk)
    this.flushedLength += this.pos + chunk.length
    this.buf = this.buf.subarray(this.pos)
    this.pos = 0
  }

  /** Writes a string known to be ASCII (see `isAscii`), one byte per character. */
  ascii(s: string): void {
    const n = s.length
    const at = this.ensure(n)
    const b = this.buf
    for (let i = 0; i < n; i++) b[at + i] = s.charCodeAt(i)
  }

  uuid(id: string): void {
    this.raw(uuidFromString(id))
  }

  /** Reserves four bytes for a length or size written later with `patchInt32`. */
  reserveInt32(): { readonly chunk: number; readonly at: number } {
    return { chunk: this.chunks.length, at: this.ensure(4) }
  }

  patchInt32(mark: { readonly chunk: number; readonly at: number }, v: number): void {
    const b = mark.chunk === this.chunks.length ? this.buf : this.chunks[mark.chunk]! as Uint8Array
    b[mark.at] = v >> 24
    b[mark.at + 1] = v >> 16
    b[mark.at + 2] = v >> 8
    b[mark.at + 3] = v
  }

  /** The written bytes as chunks to be sent with one gathered write (sources read in their place). */
  finish(): Array<Chunk> {
    const out = this.chunks.slice()
    if (this.pos > 0 || out.length === 0) out.push(this.buf.subarray(0, this.pos))
    return out
  }

  /** The written bytes as one array (copies when large fields were kept by reference). */
  toBytes(): Uint8Array {
    const parts = this.finish()
    if (parts.some(isByteSource)) throw new Error("toBytes: the message refers to bytes it does not hold; read its sources first")
    return parts.length === 1 ? parts[0] as Uint8Array : concat(parts as Array<Uint8Array>)
  }
}

export const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

/** The string of short ASCII bytes without a decoder (names, ids: the common case); undefined otherwise. */
export const asciiString = (bytes: Uint8Array): string | undefined => {
  if (bytes.length > 64) return undefined
  let s = ""
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (c >= 0x80) return undefined
    s += String.fromCharCode(c)
  }
  return s
}

export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export const ZERO_UUID = "00000000-0000-0000-0000-000000000000"

const HEX: Array<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

export const uuidToString = (b: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-"
    s += HEX[b[i]!]
  }
  return s
}

export const uuidFromString = (id: string): Uint8Array => {
  const hex = id.replace(/-/g, "")
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new MalformedInput(`not a UUID: ${id}`)
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
