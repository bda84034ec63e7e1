// RecordBatch v2 (magic 2), the unit Kafka stores and serves. The broker stores a batch as produced: it
// reads the 61-byte header, walks the records once to validate them (RecordValidation.ts, as Kafka's
// LogValidator), and patches the header in place; the CRC-32C covers `attributes` (byte 21) to the end, so
// patching `baseOffset` (byte 0) or `partitionLeaderEpoch` (byte 12) needs no new checksum. Encoding and
// decoding individual records is here for the metadata log, for timestamp lookups and for tests.
import { crc32c } from "@node-rs/crc32"
import { ByteReader, ByteWriter, MalformedInput } from "./Bytes.ts"
import { compress, decompress } from "./Compression.ts"

export const HEADER_SIZE = 61
/** Bytes before `batchLength` counts: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12
export const MAGIC = 2

const OFFSET_LEADER_EPOCH = 12
const OFFSET_MAGIC = 16
export const OFFSET_CRC = 17
const OFFSET_ATTRIBUTES = 21

export const COMPRESSION_MASK = 0x07
export const TIMESTAMP_TYPE_LOG_APPEND = 0x08
export const TRANSACTIONAL = 0x10
export const CONTROL = 0x20
/** The batch's base timestamp is the log cleaner's delete horizon for its tombstones and markers (KIP-534). */
export const DELETE_HORIZON = 0x40

export interface BatchHeader {
  readonly baseOffset: number
  /** Size of the whole batch in bytes, header included. */
  readonly size: number
  readonly partitionLeaderEpoch: number
  readonly magic: number
  readonly crc: number
  readonly attributes: number
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordCount: number
}

export const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const int64 = (v: DataView, at: number) => v.getInt32(at) * 4294967296 + v.getUint32(at + 4)

/** Reads the header of the batch starting at `at`; the caller checks that `size` bytes are there. */
export const readHeader = (bytes: Uint8Array, at = 0): BatchHeader => {
  if (bytes.length - at < HEADER_SIZE) throw new MalformedInput(`batch header needs ${HEADER_SIZE} bytes`)
  const v = view(bytes)
  return {
    baseOffset: int64(v, at),
    size: v.getInt32(at + 8) + LOG_OVERHEAD,
    partitionLeaderEpoch: v.getInt32(at + OFFSET_LEADER_EPOCH),
    magic: v.getInt8(at + OFFSET_MAGIC),
    crc: v.getUint32(at + OFFSET_CRC),
    attributes: v.getInt16(at + OFFSET_ATTRIBUTES),
    lastOffsetDelta: v.getInt32(at + 23),
    baseTimestamp: int64(v, at + 27),
    maxTimestamp: int64(v, at + 35),
    producerId: int64(v, at + 43),
    producerEpoch: v.getInt16(at + 51),
    baseSequence: v.getInt32(at + 53),
    recordCount: v.getInt32(at + 57)
  }
}

/** The checksum a batch should carry: CRC-32C of everything from `attributes` to its end. */
export const computeCrc = (batch: Uint8Array): number => crc32c(batch.subarray(OFFSET_ATTRIBUTES)) >>> 0

export const setBaseOffset = (bytes: Uint8Array, at: number, baseOffset: number): void => {
  const v = view(bytes)
  const hi = Math.floor(baseOffset / 4294967296)
  v.setInt32(at, hi)
  v.setUint32(at + 4, baseOffset - hi * 4294967296)
}

export const setPartitionLeaderEpoch = (bytes: Uint8Array, at: number, epoch: number): void => {
  view(bytes).setInt32(at + OFFSET_LEADER_EPOCH, epoch)
}

/** Why a sequence of bytes is not a well-formed batch, or undefined when it is. */
export type BatchProblem =
  | { readonly kind: "truncated"; readonly detail: string }
  | { readonly kind: "corrupt"; readonly detail: string }
  | { readonly kind: "invalid"; readonly detail: string }
  | { readonly kind: "old-format"; readonly detail: string }

/**
 * Walks the batches in `bytes`: each header, its declared length and its CRC. Returns the headers or the
 * first problem. `truncated` means the bytes end inside a batch (a torn write at the tail of a log).
 */
export const scanBatches = (
  bytes: Uint8Array,
  onBatch: (header: BatchHeader, position: number) => void
): { readonly validBytes: number; readonly problem: BatchProblem | undefined } => {
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < HEADER_SIZE) {
      return { validBytes: at, problem: { kind: "truncated", detail: `${bytes.length - at} bytes of a batch header` } }
    }
    const header = readHeader(bytes, at)
    if (header.magic !== MAGIC) {
      return { validBytes: at, problem: { kind: "corrupt", detail: `magic ${header.magic} at position ${at}` } }
    }
    if (header.size < HEADER_SIZE) {
      return { validBytes: at, problem: { kind: "corrupt", detail: `batch length ${header.size} at position ${at}` } }
    }
    if (at + header.size > bytes.length) {
      return {
        validBytes: at,
        problem: { kind: "truncated", detail: `batch of ${header.size} bytes with ${bytes.length - at} present` }
      }
    }
    const crc = computeCrc(bytes.subarray(at, at + header.size))
    if (crc !== header.crc) {
      return { validBytes: at, problem: { kind: "corrupt", detail: `CRC mismatch at position ${at}` } }
    }
    onBatch(header, at)
    at += header.size
  }
  return { validBytes: at, problem: undefined }
}

/**
 * Checks a produced batch as the broker accepts it: exactly one v2 batch filling `bytes`, a matching CRC,
 * and a record count consistent with its offset deltas.
 */
export const validateProduced = (bytes: Uint8Array): BatchHeader | BatchProblem => {
  // Message sets v0 and v1 keep their magic byte where v2 does (after offset, size and CRC).
  const magic = bytes.length > OFFSET_MAGIC ? bytes[OFFSET_MAGIC] : undefined
  if (magic === 0 || magic === 1) {
    return { kind: "old-format", detail: `message format v${magic}: only v2 record batches are stored` }
  }
  if (bytes.length < HEADER_SIZE) {
    return { kind: "corrupt", detail: `${bytes.length} bytes is shorter than a batch header` }
  }
  const header = readHeader(bytes)
  if (header.magic !== MAGIC) return { kind: "corrupt", detail: `magic ${header.magic}` }
  if (header.size < HEADER_SIZE || header.size > bytes.length) {
    return { kind: "corrupt", detail: `batch length ${header.size} with ${bytes.length} bytes present` }
  }
  if (header.size < bytes.length) return { kind: "invalid", detail: "more than one batch for the partition" }
  if (computeCrc(bytes) !== header.crc) return { kind: "corrupt", detail: "CRC mismatch" }
  if (header.recordCount <= 0 || header.lastOffsetDelta !== header.recordCount - 1) {
    return {
      kind: "invalid",
      detail: `record count ${header.recordCount} with last offset delta ${header.lastOffsetDelta}`
    }
  }
  return header
}

export const isProblem = (x: BatchHeader | BatchProblem): x is BatchProblem => "kind" in x

// ---------------------------------------------------------------------------------------------------------
// Records (uncompressed batches)

export interface RecordHeader {
  readonly key: string
  readonly value: Uint8Array | null
}

export interface LogRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers: ReadonlyArray<RecordHeader>
}

export interface NewRecord {
  readonly key?: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers?: ReadonlyArray<RecordHeader>
  readonly timestamp?: number
}

export interface BatchOptions {
  readonly baseOffset?: number
  readonly partitionLeaderEpoch?: number
  readonly attributes?: number
  readonly producerId?: number
  readonly producerEpoch?: number
  readonly baseSequence?: number
  /** Used for records without a timestamp. */
  readonly timestamp?: number
  /** A codec of protocol/Compression.ts for the records (default: none). */
  readonly compression?: number
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** Encodes a RecordBatch v2 with a valid CRC, its records compressed with `options.compression`. */
export const encodeBatch = (records: ReadonlyArray<NewRecord>, options: BatchOptions = {}): Uint8Array => {
  if (records.length === 0) throw new Error("a batch holds at least one record")
  const now = options.timestamp ?? Date.now()
  const timestamps = records.map((r) => r.timestamp ?? now)
  const baseTimestamp = timestamps[0]!
  const maxTimestamp = Math.max(...timestamps)
  const body = new ByteWriter(1024)
  records.forEach((record, i) => {
    const r = new ByteWriter(64)
    r.int8(0)
    r.varlong(timestamps[i]! - baseTimestamp)
    r.varint(i)
    writeVarBytes(r, record.key ?? null)
    writeVarBytes(r, record.value)
    const headers = record.headers ?? []
    r.varint(headers.length)
    for (const h of headers) {
      writeVarBytes(r, utf8.encode(h.key))
      writeVarBytes(r, h.value)
    }
    const bytes = r.toBytes()
    body.varint(bytes.length)
    body.raw(bytes)
  })
  const codec = options.compression ?? 0
  return assembleBatch({
    baseOffset: options.baseOffset ?? 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    attributes: ((options.attributes ?? 0) & ~COMPRESSION_MASK) | codec,
    lastOffsetDelta: records.length - 1,
    baseTimestamp,
    maxTimestamp,
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? -1,
    baseSequence: options.baseSequence ?? -1,
    recordCount: records.length
  }, compress(codec, body.toBytes()))
}

/** The header fields a batch is written with (the rest: size, magic and CRC, follow from them). */
export type BatchFields = Omit<BatchHeader, "size" | "magic" | "crc">

/** A RecordBatch v2 of these header fields over already encoded (and compressed) records, with its CRC. */
export const assembleBatch = (h: BatchFields, recordBytes: Uint8Array): Uint8Array => {
  const w = new ByteWriter(HEADER_SIZE + recordBytes.length)
  w.int64(h.baseOffset)
  w.int32(HEADER_SIZE - LOG_OVERHEAD + recordBytes.length)
  w.int32(h.partitionLeaderEpoch)
  w.int8(MAGIC)
  w.uint32(0)
  w.int16(h.attributes)
  w.int32(h.lastOffsetDelta)
  w.int64(h.baseTimestamp)
  w.int64(h.maxTimestamp)
  w.int64(h.producerId)
  w.int16(h.producerEpoch)
  w.int32(h.baseSequence)
  w.int32(h.recordCount)
  w.raw(recordBytes)
  const batch = w.toBytes()
  view(batch).setUint32(OFFSET_CRC, computeCrc(batch))
  return batch
}

const writeVarBytes = (w: ByteWriter, b: Uint8Array | null) => {
  if (b === null) return w.varint(-1)
  w.varint(b.length)
  w.raw(b)
}

const readVarBytes = (r: ByteReader): Uint8Array | null => {
  const n = r.varint()
  return n < 0 ? null : r.raw(n)
}

/** Compressed records a batch is decoded from may inflate to at most this. */
const MAX_DECODED_BYTES = 256 * 1024 * 1024

/** Decodes the records of one batch (its header must already be validated), decompressing them if needed. */
export const decodeRecords = (batch: Uint8Array): Array<LogRecord> => {
  const header = readHeader(batch)
  const codec = header.attributes & COMPRESSION_MASK
  const r = codec === 0
    ? new ByteReader(batch, HEADER_SIZE, header.size)
    : new ByteReader(decompress(codec, batch.subarray(HEADER_SIZE, header.size), MAX_DECODED_BYTES))
  // Under LogAppendTime every record has the batch's timestamp, as Kafka reads it.
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0
  const out: Array<LogRecord> = []
  for (let i = 0; i < header.recordCount; i++) {
    const length = r.varint()
    const end = r.offset + length
    if (length < 0 || end > r.end) throw new MalformedInput(`record length ${length}`)
    const rec = new ByteReader(r.bytes, r.offset, end)
    rec.int8()
    const delta = rec.varlong()
    const timestamp = logAppendTime ? header.maxTimestamp : header.baseTimestamp + delta
    const offset = header.baseOffset + rec.varint()
    const key = readVarBytes(rec)
    const value = readVarBytes(rec)
    const headerCount = rec.varint()
    const headers: Array<RecordHeader> = []
    for (let h = 0; h < headerCount; h++) {
      const k = readVarBytes(rec)
      headers.push({ key: k === null ? "" : fromUtf8.decode(k), value: readVarBytes(rec) })
    }
    out.push({ offset, timestamp, key, value, headers })
    r.offset = end
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Stored records, for rewriting batches (the log cleaner)

/** A record as a batch stores it: what filtering needs, and its bytes from the offset delta on, copied as they are. */
export interface StoredRecord {
  readonly offset: number
  /** The batch's base timestamp plus the record's delta (under LogAppendTime readers see the batch's instead). */
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly hasValue: boolean
  readonly attributes: number
  readonly tail: Uint8Array
}

/** The records of a batch (header validated), decompressed, each with its encoded tail. */
export const storedRecords = (batch: Uint8Array): Array<StoredRecord> => {
  const header = readHeader(batch)
  const codec = header.attributes & COMPRESSION_MASK
  const r = codec === 0
    ? new ByteReader(batch, HEADER_SIZE, header.size)
    : new ByteReader(decompress(codec, batch.subarray(HEADER_SIZE, header.size), MAX_DECODED_BYTES))
  const out: Array<StoredRecord> = []
  for (let i = 0; i < header.recordCount; i++) {
    const length = r.varint()
    const end = r.offset + length
    if (length < 0 || end > r.end) throw new MalformedInput(`record length ${length}`)
    const rec = new ByteReader(r.bytes, r.offset, end)
    const attributes = rec.int8()
    const timestamp = header.baseTimestamp + rec.varlong()
    const tailStart = rec.offset
    const offset = header.baseOffset + rec.varint()
    const key = readVarBytes(rec)
    const valueLength = rec.varint()
    out.push({ offset, timestamp, key, hasValue: valueLength >= 0, attributes, tail: r.bytes.subarray(tailStart, end) })
    r.offset = end
  }
  return out
}

/**
 * The batch `header` with only `records` (some of its own), its last offset, producer, sequence and codec kept
 * (the last sequence must survive for idempotence); `baseTimestamp` and `attributes` as given, the timestamp
 * deltas rewritten against the new base. No records: an empty batch, uncompressed, as Kafka writes one.
 */
export const rebuildBatch = (
  header: BatchHeader,
  records: ReadonlyArray<StoredRecord>,
  baseTimestamp: number,
  attributes: number
): Uint8Array => {
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0
  const fields = { ...header, attributes, baseTimestamp, recordCount: records.length }
  if (records.length === 0) {
    return assembleBatch({ ...fields, attributes: attributes & ~COMPRESSION_MASK, baseTimestamp: header.maxTimestamp }, new Uint8Array(0))
  }
  const body = new ByteWriter(1024)
  let maxTimestamp = -1
  for (const rec of records) {
    const w = new ByteWriter(rec.tail.length + 12)
    w.int8(rec.attributes)
    w.varlong(rec.timestamp - baseTimestamp)
    w.raw(rec.tail)
    const bytes = w.toBytes()
    body.varint(bytes.length)
    body.raw(bytes)
    if (rec.timestamp > maxTimestamp) maxTimestamp = rec.timestamp
  }
  return assembleBatch(
    { ...fields, maxTimestamp: logAppendTime ? header.maxTimestamp : maxTimestamp },
    compress(attributes & COMPRESSION_MASK, body.toBytes())
  )
}
