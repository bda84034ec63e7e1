// Record-level validation of produced batches, as Kafka's LogValidator does it, seen as a producer sees it: the
// error code and `record_errors` of the partition, nothing written and the high watermark unmoved for a batch
// that is refused, and what is stored for one that is accepted (the max timestamp corrected, LogAppendTime
// stamped). Every codec is decompressed for it; decompression is bounded.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { ByteWriter } from "../../src/protocol/Bytes.ts"
import { Codec, compress } from "../../src/protocol/Compression.ts"
import {
  computeCrc,
  CONTROL,
  decodeRecords,
  encodeBatch,
  HEADER_SIZE,
  LOG_OVERHEAD,
  readHeader,
  TIMESTAMP_TYPE_LOG_APPEND,
  validateProduced
} from "../../src/protocol/RecordBatch.ts"
import { type RecordRules, validateRecords } from "../../src/protocol/RecordValidation.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { batchesIn, callResponse, layer, readLog } from "../support/TestLayers.ts"

const NOW = 1_700_000_000_000
const HOUR = 3_600_000
const text = new TextEncoder()
const T0 = { topic: "events", partition: 0 }

/** Puts the right CRC into a batch changed by hand: the broker then has to look at its records. */
const withCrc = (batch: Uint8Array): Uint8Array => {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, computeCrc(batch))
  return batch
}

const setInt32 = (batch: Uint8Array, at: number, v: number) => new DataView(batch.buffer, batch.byteOffset).setInt32(at, v)

interface RawRecord {
  readonly offsetDelta: number
  readonly timestampDelta?: number
  readonly key?: string | null
  readonly value?: string
}

/** One record's bytes (length prefix included), written field by field so that a test can make any of them wrong. */
const recordBytes = (r: RawRecord): Uint8Array => {
  const body = new ByteWriter(64)
  body.int8(0)
  body.varlong(r.timestampDelta ?? 0)
  body.varint(r.offsetDelta)
  const key = r.key === undefined ? "k" : r.key
  if (key === null) body.varint(-1)
  else {
    body.varint(key.length)
    body.raw(text.encode(key))
  }
  const value = text.encode(r.value ?? "v")
  body.varint(value.length)
  body.raw(value)
  body.varint(0)
  const bytes = body.toBytes()
  const w = new ByteWriter(bytes.length + 5)
  w.varint(bytes.length)
  w.raw(bytes)
  return w.toBytes()
}

/** A batch header over `records` (the bytes after the header), with a count and last offset delta as given. */
const batchOver = (records: Uint8Array, count: number, options: { lastOffsetDelta?: number; attributes?: number; maxTimestamp?: number } = {}) => {
  const w = new ByteWriter(HEADER_SIZE + records.length)
  w.int64(0)
  w.int32(HEADER_SIZE - LOG_OVERHEAD + records.length)
  w.int32(-1)
  w.int8(2)
  w.uint32(0)
  w.int16(options.attributes ?? 0)
  w.int32(options.lastOffsetDelta ?? count - 1)
  w.int64(NOW)
  w.int64(options.maxTimestamp ?? NOW)
  w.int64(-1)
  w.int16(-1)
  w.int32(-1)
  w.int32(count)
  w.raw(records)
  return withCrc(w.toBytes())
}

const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))
const rawBatch = (records: ReadonlyArray<RawRecord>) => batchOver(concat(records.map(recordBytes)), records.length)

const produce = (batch: Uint8Array, topic = "events", version = 9) =>
  Effect.map(
    callResponse(Produce.make, version, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  )

const highWatermark = (topic = "events") =>
  Effect.gen(function*() {
    return (yield* (yield* LogStore).offsets({ topic, partition: 0 })).logEndOffset
  })

const broker = (topics: Record<string, number> = { events: 1 }) => layer(MemoryFileSystem.make(), { topics })

/** A refused batch: the partition's code, and nothing of it stored. */
const refused = (batch: Uint8Array, code: number, topic = "events") =>
  Effect.gen(function*() {
    const r = yield* produce(batch, topic)
    assert.strictEqual(r.errorCode, code, r.errorMessage ?? "")
    assert.strictEqual(r.baseOffset, -1)
    assert.strictEqual(yield* highWatermark(topic), 0)
    assert.strictEqual((yield* readLog({ topic, partition: 0 })).length, 0)
    return r
  })

describe("record validation on produce", () => {
  it.effect("a batch whose header claims 5 records but holds 1 is refused with 87 and moves nothing", () =>
    Effect.gen(function*() {
      const batch = encodeBatch([{ value: text.encode("only one") }])
      setInt32(batch, 23, 4) // last offset delta
      setInt32(batch, 57, 5) // record count
      const r = yield* refused(withCrc(batch), 87)
      assert.include(r.errorMessage!, "premature EOF")
      // A good batch afterwards starts at offset 0.
      assert.strictEqual((yield* produce(encodeBatch([{ value: text.encode("next") }]))).baseOffset, 0)
    }).pipe(Effect.provide(broker())))

  it.effect("a record whose length varint is wrong is refused with 87", () =>
    Effect.gen(function*() {
      const batch = rawBatch([{ offsetDelta: 0 }, { offsetDelta: 1 }])
      batch[HEADER_SIZE] += 2 // zig-zag: the first record claims one byte more than it has
      const r = yield* refused(withCrc(batch), 87)
      assert.include(r.errorMessage!, "Invalid record size")
    }).pipe(Effect.provide(broker())))

  it.effect("bytes left after the last record are refused with 87", () =>
    Effect.gen(function*() {
      const records = concat([recordBytes({ offsetDelta: 0 }), new Uint8Array([1, 2, 3])])
      const r = yield* refused(batchOver(records, 1), 87)
      assert.include(r.errorMessage!, "records still remaining")
    }).pipe(Effect.provide(broker())))

  it.effect("a negative key length, or a header count beyond the record, is refused with 87", () =>
    Effect.gen(function*() {
      const record = recordBytes({ offsetDelta: 0, key: "abc" })
      // Length, attributes, timestamp delta, offset delta, then the key length (zig-zag 3 = 6): make it -2.
      const bad = record.slice()
      bad[4] = 3
      yield* refused(batchOver(bad, 1), 87)
      const headers = record.slice()
      headers[headers.length - 1] = 100 // 50 headers, no bytes for them
      yield* refused(batchOver(headers, 1), 87)
    }).pipe(Effect.provide(broker())))

  it.effect("records numbered out of sequence are refused with 87, each named in record_errors", () =>
    Effect.gen(function*() {
      const r = yield* refused(rawBatch([{ offsetDelta: 0 }, { offsetDelta: 5 }, { offsetDelta: 2 }, { offsetDelta: 1 }]), 87)
      assert.deepStrictEqual(r.recordErrors.map((e) => e.batchIndex), [1, 3])
      assert.include(r.recordErrors[0]!.batchIndexErrorMessage!, "offset delta 5")
      assert.include(r.errorMessage!, "2 record errors")
    }).pipe(Effect.provide(broker())))

  it.effect("a compacted topic refuses records without a key with 87 and their indexes", () =>
    Effect.gen(function*() {
      const batch = rawBatch([{ offsetDelta: 0, key: null }, { offsetDelta: 1, key: "k" }, { offsetDelta: 2, key: null }])
      const r = yield* refused(batch, 87, "compacted")
      assert.deepStrictEqual(r.recordErrors.map((e) => [e.batchIndex, e.batchIndexErrorMessage]), [
        [0, "Compacted topic cannot accept message without key"],
        [2, "Compacted topic cannot accept message without key"]
      ])
      // Keyed records are taken.
      assert.strictEqual((yield* produce(rawBatch([{ offsetDelta: 0, key: "a" }]), "compacted")).errorCode, 0)
    }).pipe(Effect.provide(layer(MemoryFileSystem.make(), { topics: { compacted: 1 }, topicConfigs: { compacted: { "cleanup.policy": "compact" } } }))))

  it.effect("timestamps outside message.timestamp.before/after.max.ms are refused with 32, per record", () =>
    atNow(Effect.gen(function*() {
      const batch = rawBatch([
        { offsetDelta: 0, timestampDelta: 0 },
        { offsetDelta: 1, timestampDelta: -2 * HOUR },
        { offsetDelta: 2, timestampDelta: 2 * HOUR }
      ])
      const r = yield* refused(batch, 32, "bounded")
      assert.deepStrictEqual(r.recordErrors.map((e) => e.batchIndex), [1, 2])
      assert.include(r.recordErrors[0]!.batchIndexErrorMessage!, "out of range")
      assert.strictEqual(r.errorMessage, "One or more records have been rejected due to invalid timestamp")
      // Within an hour either way: accepted. A topic without bounds takes any timestamp.
      assert.strictEqual((yield* produce(rawBatch([{ offsetDelta: 0, timestampDelta: -HOUR / 2 }]), "bounded")).errorCode, 0)
      assert.strictEqual((yield* produce(rawBatch([{ offsetDelta: 0, timestampDelta: -1000 * HOUR }]))).errorCode, 0)
    }).pipe(Effect.provide(boundedBroker()))))

  it.effect("LogAppendTime: the stored batch carries the broker's clock and the timestamp-type bit, with a valid CRC", () =>
    atNow(Effect.gen(function*() {
      yield* TestClock.adjust(5_000)
      const r = yield* produce(rawBatch([{ offsetDelta: 0, timestampDelta: -HOUR }, { offsetDelta: 1 }]), "stamped")
      assert.strictEqual(r.errorCode, 0)
      assert.strictEqual(r.logAppendTimeMs, NOW + 5_000)
      const [stored] = batchesIn(yield* readLog({ topic: "stamped", partition: 0 }))
      assert.strictEqual(stored!.header.maxTimestamp, NOW + 5_000)
      assert.notStrictEqual(stored!.header.attributes & TIMESTAMP_TYPE_LOG_APPEND, 0)
      // CreateTime topics answer -1 and refuse a producer that sets the LogAppendTime bit itself.
      const ordinary = yield* produce(rawBatch([{ offsetDelta: 0 }]))
      assert.strictEqual(ordinary.logAppendTimeMs, -1)
      const bit = batchOver(recordBytes({ offsetDelta: 0 }), 1, { attributes: TIMESTAMP_TYPE_LOG_APPEND })
      assert.strictEqual((yield* produce(bit)).errorCode, 32)
    }).pipe(Effect.provide(stampedBroker()))))

  it.effect("a header's max timestamp that is not its records' largest is corrected as Kafka does, CRC included", () =>
    Effect.gen(function*() {
      const records = concat([recordBytes({ offsetDelta: 0, timestampDelta: 10 }), recordBytes({ offsetDelta: 1, timestampDelta: 70 })])
      const r = yield* produce(batchOver(records, 2, { maxTimestamp: NOW + 9_999 }))
      assert.strictEqual(r.errorCode, 0)
      const [stored] = batchesIn(yield* readLog(T0))
      assert.strictEqual(stored!.header.maxTimestamp, NOW + 70)
    }).pipe(Effect.provide(broker())))

  it.effect("a control batch from a client is refused with 87", () =>
    Effect.gen(function*() {
      const r = yield* refused(batchOver(recordBytes({ offsetDelta: 0 }), 1, { attributes: CONTROL }), 87)
      assert.include(r.errorMessage!, "control records")
    }).pipe(Effect.provide(broker())))

  const codecs = [
    { name: "gzip", codec: Codec.Gzip },
    { name: "snappy", codec: Codec.Snappy },
    { name: "lz4", codec: Codec.Lz4 },
    { name: "zstd", codec: Codec.Zstd }
  ]

  it.effect.each(codecs)("$name: a valid batch is stored as sent; one whose records do not hold together is refused", ({ codec }) =>
    Effect.gen(function*() {
      const values = Array.from({ length: 50 }, (_, i) => ({ key: text.encode(`k${i}`), value: text.encode(`value ${i}`.repeat(20)) }))
      const good = encodeBatch(values, { compression: codec, timestamp: NOW })
      const r = yield* produce(good)
      assert.strictEqual(r.errorCode, 0)
      const [stored] = batchesIn(yield* readLog(T0))
      assert.strictEqual(stored!.header.attributes & 7, codec)
      assert.deepStrictEqual(decodeRecords(stored!.bytes).map((rec) => new TextDecoder().decode(rec.key!)), values.map((_, i) => `k${i}`))
      // The same records, compressed, under a header claiming one more.
      const inner = concat(values.slice(0, 3).map((_, i) => recordBytes({ offsetDelta: i })))
      const lying = batchOver(compress(codec, inner), 4, { attributes: codec })
      assert.strictEqual((yield* produce(lying)).errorCode, 87)
      // Bytes that are no valid data of the codec, under a right CRC: corrupt.
      const garbage = batchOver(new Uint8Array(64).fill(0x5a), 1, { attributes: codec })
      assert.strictEqual((yield* produce(garbage)).errorCode, 2)
      assert.strictEqual(yield* highWatermark(), 50)
    }).pipe(Effect.provide(broker())))

  it("raw snappy (librdkafka) and xerial-framed snappy (the Java client) both decompress", () => {
    const inner = concat([0, 1, 2].map((i) => recordBytes({ offsetDelta: i })))
    const xerial = compress(Codec.Snappy, inner)
    const raw = xerial.subarray(20) // the one block, without the xerial header and block length
    for (const data of [xerial, raw]) {
      const batch = batchOver(data, 3, { attributes: Codec.Snappy })
      assert.isTrue(validateRecords(batch, validateHeader(batch), rules()).ok)
    }
  })

  it.each(codecs)("$name: a batch that would decompress beyond the bound is refused as corrupt before it is inflated", ({ codec }) => {
    const inner = concat(Array.from({ length: 2000 }, (_, i) => recordBytes({ offsetDelta: i, value: "x".repeat(1000) })))
    const batch = batchOver(compress(codec, inner), 2000, { attributes: codec })
    const verdict = validateRecords(batch, validateHeader(batch), { ...rules(), maxDecompressedBytes: 1 << 20 })
    assert.isFalse(verdict.ok)
    if (!verdict.ok) {
      assert.strictEqual(verdict.kind, "corrupt")
      assert.include(verdict.detail, "decompresses to more than 1048576 bytes")
    }
    assert.isTrue(validateRecords(batch, validateHeader(batch), { ...rules(), maxDecompressedBytes: 4 << 20 }).ok)
  })
})

/** Runs `effect` (and builds its broker) with the test clock at NOW: moving the clock under a running broker would run its periodic work for every interval in between. */
const atNow = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.andThen(TestClock.setTime(NOW), effect)

const rules = (): RecordRules => ({
  now: NOW,
  logAppendTime: false,
  timestampBeforeMaxMs: Infinity,
  timestampAfterMaxMs: Infinity,
  requireKeys: false,
  maxDecompressedBytes: 64 << 20
})

const validateHeader = (batch: Uint8Array) => {
  const header = validateProduced(batch)
  if ("kind" in header) throw new Error(header.detail)
  return readHeader(batch)
}

const boundedBroker = () =>
  layer(MemoryFileSystem.make(), { topics: { events: 1, bounded: 1 }, topicConfigs: { bounded: { "message.timestamp.before.max.ms": String(HOUR), "message.timestamp.after.max.ms": String(HOUR) } } })
const stampedBroker = () =>
  layer(MemoryFileSystem.make(), { topics: { events: 1, stamped: 1 }, topicConfigs: { stamped: { "message.timestamp.type": "LogAppendTime" } } })
