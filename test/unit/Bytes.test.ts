import { assert, describe, it } from "@effect/vitest"
import { ByteReader, ByteWriter, MalformedInput, uuidFromString, uuidToString } from "../../src/protocol/Bytes.ts"

const roundTrip = (write: (w: ByteWriter) => void, read: (r: ByteReader) => unknown) => {
  const w = new ByteWriter(4)
  write(w)
  const r = new ByteReader(w.toBytes())
  const value = read(r)
  assert.strictEqual(r.remaining, 0)
  return value
}

describe("Bytes", () => {
  it("writes big-endian integers", () => {
    const w = new ByteWriter(2)
    w.int16(0x0102)
    w.int32(-2)
    w.int64(-1)
    w.int64(2 ** 40 + 5)
    assert.deepStrictEqual(
      [...w.toBytes()],
      [1, 2, 0xff, 0xff, 0xff, 0xfe, ...Array(8).fill(0xff), 0, 0, 1, 0, 0, 0, 0, 5]
    )
  })

  it("round-trips varints at their boundaries", () => {
    for (const v of [0, 1, 63, 64, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 32 - 1]) {
      assert.strictEqual(roundTrip((w) => w.uvarint(v), (r) => r.uvarint()), v)
    }
    for (const v of [0, -1, 1, -64, 64, -(2 ** 31), 2 ** 31 - 1]) {
      assert.strictEqual(roundTrip((w) => w.varint(v), (r) => r.varint()), v)
    }
    for (const v of [0, -1, 1, 2 ** 40, -(2 ** 40), 2 ** 52, -(2 ** 52)]) {
      assert.strictEqual(roundTrip((w) => w.varlong(v), (r) => r.varlong()), v)
    }
  })

  it("encodes varints as Kafka does", () => {
    const w = new ByteWriter()
    w.uvarint(300)
    w.varint(-1)
    w.varint(1)
    assert.deepStrictEqual([...w.toBytes()], [0xac, 0x02, 0x01, 0x02])
  })

  it("keeps large byte arrays by reference and still patches reserved sizes", () => {
    const big = new Uint8Array(20_000).fill(7)
    const w = new ByteWriter()
    const mark = w.reserveInt32()
    w.raw(big)
    w.int8(9)
    w.patchInt32(mark, w.length - 4)
    const chunks = w.finish()
    assert.isTrue(chunks.some((c) => c === big))
    const all = w.toBytes()
    assert.strictEqual(all.length, 4 + 20_000 + 1)
    assert.strictEqual(new DataView(all.buffer).getInt32(0), 20_001)
    assert.strictEqual(all[all.length - 1], 9)
  })

  it("keeps writing after a by-reference chunk fills the buffer exactly", () => {
    const w = new ByteWriter(4)
    w.int32(1)
    w.raw(new Uint8Array(20_000))
    w.int8(2)
    w.int64(3)
    const all = w.toBytes()
    assert.strictEqual(all.length, 4 + 20_000 + 1 + 8)
    assert.strictEqual(all[4 + 20_000], 2)
  })

  it("fails on truncated input instead of reading garbage", () => {
    const r = new ByteReader(new Uint8Array([0, 1]))
    assert.throws(() => r.int32(), MalformedInput)
    assert.throws(() => new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint(), MalformedInput)
  })

  it("formats UUIDs", () => {
    const id = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    assert.strictEqual(uuidToString(uuidFromString(id)), id)
  })
})
