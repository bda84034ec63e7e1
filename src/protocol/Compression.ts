// The codecs of compressed record batches (attributes bits 0-2): gzip and zstd through Node's zlib, snappy and
// lz4 through the napi-rs bindings of their reference libraries (the `snappy` and `lz4-napi` packages). Kafka's
// snappy is either raw or in the xerial framing of Java's snappy-java (a magic header, then length-prefixed
// blocks); its lz4 is the standard LZ4 frame format.
//
// Decompression is bounded: output beyond `maxBytes` is refused before it is produced (a few kilobytes of
// compressed input must not make the broker allocate gigabytes). For snappy and lz4 the bound is checked from
// the sizes their formats declare, before anything is decompressed.
import * as lz4 from "lz4-napi"
import * as snappy from "snappy"
import * as zlib from "node:zlib"
import { MalformedInput } from "./Bytes.ts"

export const Codec = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const
export type Codec = (typeof Codec)[keyof typeof Codec]

export const codecName = (codec: number): string =>
  ["none", "gzip", "snappy", "lz4", "zstd"][codec] ?? `unknown codec ${codec}`

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const tooLarge = (codec: number, maxBytes: number) =>
  new MalformedInput(`${codecName(codec)} data decompresses to more than ${maxBytes} bytes`)

/** The decompressed bytes of `data`; throws MalformedInput when they are not valid or exceed `maxBytes`. */
export const decompress = (codec: number, data: Uint8Array, maxBytes: number): Uint8Array => {
  try {
    switch (codec) {
      case Codec.Gzip:
        return asBytes(zlib.gunzipSync(data, { maxOutputLength: maxBytes }))
      case Codec.Zstd:
        return asBytes(zlib.zstdDecompressSync(data, { maxOutputLength: maxBytes }))
      case Codec.Snappy:
        return snappyDecompress(data, maxBytes)
      case Codec.Lz4:
        if (lz4Bound(data) > maxBytes) throw tooLarge(codec, maxBytes)
        return asBytes(lz4.decompressFrameSync(asBuffer(data)))
    }
  } catch (e) {
    if (e instanceof MalformedInput) throw e
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(codec, maxBytes)
    throw new MalformedInput(`${codecName(codec)} data is not valid: ${e instanceof Error ? e.message : String(e)}`)
  }
  throw new MalformedInput(`unknown compression codec ${codec}`)
}

/** Compresses `data` with the codec, in the framing Kafka's Java client writes. */
export const compress = (codec: number, data: Uint8Array): Uint8Array => {
  switch (codec) {
    case Codec.None:
      return data
    case Codec.Gzip:
      return asBytes(zlib.gzipSync(data))
    case Codec.Zstd:
      return asBytes(zlib.zstdCompressSync(data))
    case Codec.Snappy:
      return xerialFrame(asBytes(snappy.compressSync(asBuffer(data))))
    case Codec.Lz4:
      return asBytes(lz4.compressFrameSync(asBuffer(data)))
  }
  throw new Error(`unknown compression codec ${codec}`)
}

// ---------------------------------------------------------------------------------------------------------
// Snappy

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]
const XERIAL_HEADER = 16

const isXerial = (data: Uint8Array) => data.length >= XERIAL_HEADER && XERIAL_MAGIC.every((b, i) => data[i] === b)

/** The uncompressed length a raw snappy block declares (its leading varint). */
const snappyLength = (block: Uint8Array): number => {
  let value = 0
  for (let i = 0, shift = 1; i < 5 && i < block.length; i++, shift *= 128) {
    value += (block[i]! & 0x7f) * shift
    if ((block[i]! & 0x80) === 0) return value
  }
  throw new MalformedInput("snappy block without a valid length")
}

const snappyDecompress = (data: Uint8Array, maxBytes: number): Uint8Array => {
  if (!isXerial(data)) {
    if (snappyLength(data) > maxBytes) throw tooLarge(Codec.Snappy, maxBytes)
    return asBytes(snappy.uncompressSync(asBuffer(data), { asBuffer: true }) as Buffer)
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const blocks: Array<Uint8Array> = []
  let total = 0
  for (let at = XERIAL_HEADER; at < data.length;) {
    if (at + 4 > data.length) throw new MalformedInput("xerial snappy block length cut short")
    const n = view.getInt32(at)
    if (n < 0 || at + 4 + n > data.length) throw new MalformedInput(`xerial snappy block of ${n} bytes runs past the data`)
    const block = data.subarray(at + 4, at + 4 + n)
    total += snappyLength(block)
    if (total > maxBytes) throw tooLarge(Codec.Snappy, maxBytes)
    blocks.push(asBytes(snappy.uncompressSync(asBuffer(block), { asBuffer: true }) as Buffer))
    at += 4 + n
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks)
}

/** Raw snappy in xerial framing, one block (as snappy-java's SnappyOutputStream writes small inputs). */
const xerialFrame = (block: Uint8Array): Uint8Array => {
  const out = new Uint8Array(XERIAL_HEADER + 4 + block.length)
  out.set(XERIAL_MAGIC)
  const view = new DataView(out.buffer)
  view.setInt32(8, 1)
  view.setInt32(12, 1)
  view.setInt32(16, block.length)
  out.set(block, 20)
  return out
}

// ---------------------------------------------------------------------------------------------------------
// LZ4 frames

const LZ4_MAGIC = 0x184d2204
/** Block maximum sizes by the BD byte's bits 4-6. */
const LZ4_BLOCK_MAX: Readonly<Record<number, number>> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 }

/**
 * The most an LZ4 frame can decompress to, from its header and block sizes alone: its declared content size,
 * else its number of blocks times the block maximum.
 */
const lz4Bound = (data: Uint8Array): number => {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (data.length < 7 || view.getUint32(0, true) !== LZ4_MAGIC) throw new MalformedInput("not an LZ4 frame")
  const flags = data[4]!
  const blockMax = LZ4_BLOCK_MAX[(data[5]! >> 4) & 0x07]
  if (blockMax === undefined) throw new MalformedInput("LZ4 frame with an invalid block size")
  const hasContentSize = (flags & 0x08) !== 0
  if (hasContentSize) {
    if (data.length < 15) throw new MalformedInput("LZ4 frame header cut short")
    return view.getUint32(6, true) + view.getUint32(10, true) * 4294967296
  }
  const blockChecksum = (flags & 0x10) !== 0 ? 4 : 0
  let at = 6 + ((flags & 0x01) !== 0 ? 4 : 0) + 1
  let blocks = 0
  for (;;) {
    if (at + 4 > data.length) throw new MalformedInput("LZ4 frame cut short")
    const size = view.getUint32(at, true) & 0x7fffffff
    if (size === 0) return blocks * blockMax
    at += 4 + size + blockChecksum
    blocks++
  }
}
