// The records of a produced batch checked as Kafka's LogValidator checks a client's append, in one pass over
// the bytes (a compressed batch decompressed first), and the header corrected where Kafka corrects it.
import { ByteReader, MalformedInput } from "./Bytes.ts"
import { decompress } from "./Compression.ts"
import { type BatchHeader, COMPRESSION_MASK, computeCrc, CONTROL, HEADER_SIZE, OFFSET_CRC, TIMESTAMP_TYPE_LOG_APPEND, view } from "./RecordBatch.ts"

const OFFSET_ATTRIBUTES = 21
const OFFSET_MAX_TIMESTAMP = 35


/** What the topic accepts, as Kafka's LogValidator is configured for it. */
export interface RecordRules {
  /** The broker's clock. */
  readonly now: number
  /** `message.timestamp.type=LogAppendTime`: the batch takes the broker's clock as its timestamp. */
  readonly logAppendTime: boolean
  /** `message.timestamp.before.max.ms` / `after.max.ms` (Infinity: no bound), for CreateTime topics. */
  readonly timestampBeforeMaxMs: number
  readonly timestampAfterMaxMs: number
  /** Compacted topics refuse records without a key. */
  readonly requireKeys: boolean
  /** The most a compressed batch may decompress to. */
  readonly maxDecompressedBytes: number
}

/** One rejected record of a batch (Produce v8+ `record_errors`). */
export interface RejectedRecord {
  readonly batchIndex: number
  readonly message: string | null
}

export type RecordsVerdict =
  /** Valid; `header` as the batch now reads, `logAppendTime` the timestamp it took (-1 for CreateTime). */
  | { readonly ok: true; readonly header: BatchHeader; readonly logAppendTime: number }
  | {
    readonly ok: false
    /** `invalid` → INVALID_RECORD, `timestamp` → INVALID_TIMESTAMP, `corrupt` → CORRUPT_MESSAGE. */
    readonly kind: "invalid" | "timestamp" | "corrupt"
    readonly detail: string
    readonly recordErrors: ReadonlyArray<RejectedRecord>
  }

const refuse = (kind: "invalid" | "timestamp" | "corrupt", detail: string, recordErrors: ReadonlyArray<RejectedRecord> = []): RecordsVerdict => ({
  ok: false,
  kind,
  detail,
  recordErrors
})

/** A record that cannot be read whole: the batch is refused as a whole, as Kafka's InvalidRecordException. */
class BadRecord extends Error {}

/**
 * Checks the records of one produced batch (its header already validated by `validateProduced`) as Kafka's
 * LogValidator does for a client's append, in one pass over the bytes (a compressed batch is decompressed
 * first, within `maxDecompressedBytes`): no control batch; exactly `recordCount` records filling the batch,
 * each with a length, varints and key/value/header lengths that hold together; then per record, offset deltas
 * 0, 1, 2, ... in order, a key on compacted topics, and a CreateTime timestamp within the topic's bounds.
 * Per-record failures are all reported (Produce v8's `record_errors`).
 *
 * A valid batch is then patched as Kafka patches it: its max timestamp becomes its records' largest (or, for
 * LogAppendTime, the broker's clock with the timestamp-type bit set), with a new CRC when that changed it.
 */
export const validateRecords = (batch: Uint8Array, header: BatchHeader, rules: RecordRules): RecordsVerdict => {
  if ((header.attributes & CONTROL) !== 0) return refuse("invalid", "Clients are not allowed to write control records")
  const codec = header.attributes & COMPRESSION_MASK
  let r: ByteReader
  if (codec === 0) {
    r = new ByteReader(batch, HEADER_SIZE, header.size)
  } else {
    try {
      r = new ByteReader(decompress(codec, batch.subarray(HEADER_SIZE, header.size), rules.maxDecompressedBytes))
    } catch (e) {
      if (e instanceof MalformedInput) return refuse("corrupt", e.message)
      throw e
    }
  }
  const logAppendBit = (header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0
  if (logAppendBit && !rules.logAppendTime) {
    return refuse("timestamp", "Invalid timestamp type: producers must not set the timestamp type to LogAppendTime", [
      { batchIndex: 0, message: "Producer should not set timestamp type to LogAppendTime." }
    ])
  }
  const errors: Array<RejectedRecord> = []
  let timestampErrors = false
  let maxTimestamp = -1
  const earliest = rules.now - rules.timestampBeforeMaxMs
  const latest = rules.now + rules.timestampAfterMaxMs
  try {
    for (let i = 0; i < header.recordCount; i++) {
      if (r.remaining === 0) throw new BadRecord("Incorrect declared batch size, premature EOF reached")
      const length = r.varint()
      const start = r.offset
      if (length < 0 || length > r.remaining) {
        throw new BadRecord(`Invalid record size: expected ${length} bytes in record payload, but the batch has only ${r.remaining} remaining bytes`)
      }
      r.skip(1) // attributes
      const timestamp = header.baseTimestamp + r.varlong()
      const offsetDelta = r.varint()
      const keyLength = r.varint()
      if (keyLength < -1) throw new BadRecord(`Invalid key size ${keyLength}`)
      if (keyLength > 0) r.skip(keyLength)
      const valueLength = r.varint()
      if (valueLength < -1) throw new BadRecord(`Invalid value size ${valueLength}`)
      if (valueLength > 0) r.skip(valueLength)
      const headers = r.varint()
      if (headers < 0 || headers > start + length - r.offset) throw new BadRecord(`Found invalid number of record headers ${headers}`)
      for (let h = 0; h < headers; h++) {
        const k = r.varint()
        if (k < 0) throw new BadRecord(`Invalid negative header key size ${k}`)
        r.skip(k)
        const v = r.varint()
        if (v < -1) throw new BadRecord(`Invalid header value size ${v}`)
        if (v > 0) r.skip(v)
      }
      if (r.offset - start !== length) {
        throw new BadRecord(`Invalid record size: expected to read ${length} bytes in record payload, but instead read ${r.offset - start}`)
      }
      if (offsetDelta !== i) {
        errors.push({ batchIndex: i, message: `Record ${i} has offset delta ${offsetDelta}; the records of a batch are numbered 0, 1, 2, ...` })
      } else if (rules.requireKeys && keyLength < 0) {
        errors.push({ batchIndex: i, message: "Compacted topic cannot accept message without key" })
      } else if (!rules.logAppendTime && timestamp !== -1 && (timestamp < earliest || timestamp > latest)) {
        timestampErrors = true
        errors.push({
          batchIndex: i,
          message: `Timestamp ${timestamp} of message with offset delta ${i} is out of range. The timestamp should be within [${earliest}, ${latest}]`
        })
      }
      if (timestamp > maxTimestamp) maxTimestamp = timestamp
    }
  } catch (e) {
    if (e instanceof BadRecord || e instanceof MalformedInput) return refuse("invalid", e.message)
    throw e
  }
  if (r.remaining !== 0) return refuse("invalid", "Incorrect declared batch size, records still remaining in the batch")
  if (errors.length > 0) {
    const shown = errors.slice(0, 3).map((e) => `${e.batchIndex}: ${e.message}`).join("; ")
    return timestampErrors
      ? refuse("timestamp", "One or more records have been rejected due to invalid timestamp", errors)
      : refuse("invalid", `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: ${shown}`, errors)
  }
  // As Kafka's setMaxTimestamp: the header states the truth, with a new CRC only when it changes.
  const stamped = rules.logAppendTime ? rules.now : maxTimestamp
  const logAppendTime = rules.logAppendTime ? rules.now : -1
  if (stamped === header.maxTimestamp && logAppendBit === rules.logAppendTime) return { ok: true, header, logAppendTime }
  const v = view(batch)
  const attributes = rules.logAppendTime ? header.attributes | TIMESTAMP_TYPE_LOG_APPEND : header.attributes
  v.setInt16(OFFSET_ATTRIBUTES, attributes)
  const hi = Math.floor(stamped / 4294967296)
  v.setInt32(OFFSET_MAX_TIMESTAMP, hi)
  v.setUint32(OFFSET_MAX_TIMESTAMP + 4, stamped - hi * 4294967296)
  const crc = computeCrc(batch.subarray(0, header.size))
  v.setUint32(OFFSET_CRC, crc)
  return { ok: true, header: { ...header, attributes, maxTimestamp: stamped, crc }, logAppendTime }
}

