// A segment and a partition as values that decide, with no file in sight: what goes in the indexes and where a
// lookup starts, when a segment rolls, which index files can be trusted, which segments retention drops.
import { assert, describe, it } from "@effect/vitest"
import { Semaphore } from "effect"
import { encodeOffsetIndex, encodeTimeIndex } from "../../src/protocol/logdir/LogFiles.ts"
import { encodeBatch, readHeader } from "../../src/protocol/RecordBatch.ts"
import { type Partition, segmentsToDrop } from "../../src/services/log/Partition.ts"
import * as ProducerState from "../../src/services/log/ProducerState.ts"
import * as Segment from "../../src/services/log/Segment.ts"

const NOW = 1_700_000_000_000
const header = (records: number, timestamp = NOW) =>
  readHeader(encodeBatch(Array.from({ length: records }, () => ({ value: new Uint8Array(100) })), { timestamp }))

/** A segment at `base` with batches of `records` records each appended at increasing positions. */
const filled = (base: number, batches: ReadonlyArray<number>, interval = 0) => {
  const s = Segment.newSegment("/d", base)
  s.size = 0
  Segment.emptyIndexes(s)
  let offset = base
  for (const n of batches) {
    const h = header(n, NOW + offset)
    Segment.indexBatch(s, h, s.size, interval, offset)
    s.size += h.size
    offset += n
  }
  return s
}

describe("Segment", () => {
  it("indexes a batch every index.interval.bytes, and a lookup starts at the last indexed batch at or before the offset", () => {
    const s = filled(100, [1, 2, 3, 1, 1], 150)
    assert.strictEqual(s.nextOffset, 108)
    const entries = Array.from({ length: s.offsetIndex!.count }, (_, i) => Segment.entryAt(s, i))
    assert.isAbove(entries.length, 1)
    for (let i = 1; i < entries.length; i++) assert.isAbove(entries[i]!.position, entries[i - 1]!.position)
    // Offset 105 lies in the batch 103-105: the walk starts at the last entry whose batch ends at or before it.
    const e = Segment.entryFor(s, 105)
    assert.isAtMost(Segment.entryAt(s, e).lastOffset, 105)
    assert.strictEqual(Segment.entryFor(s, 100), -1, "before the first entry the walk starts at the segment's start")
    assert.strictEqual(s.largestTimestamp, NOW + 107)
  })

  it("rolls a non-empty segment when a batch would pass segment.bytes or segment.ms has passed since its first append", () => {
    const s = filled(0, [1])
    assert.isFalse(Segment.shouldRoll(s, 100, NOW, 10_000, 60_000))
    assert.isTrue(Segment.shouldRoll(s, 10_000, NOW, 10_000, 60_000))
    s.firstAppendAt = NOW
    assert.isTrue(Segment.shouldRoll(s, 1, NOW + 60_000, 10_000, 60_000))
    const empty = Segment.newSegment("/d", 0)
    empty.size = 0
    assert.isFalse(Segment.shouldRoll(empty, 1_000_000, NOW, 10_000, 60_000), "an empty segment takes any batch")
  })

  it("trusts index files only when whole, in order and inside the segment", () => {
    const s = filled(10, [1, 1, 1, 1], 0)
    s.nextOffset = 14
    const good = encodeOffsetIndex(new Int32Array([0, 2]), new Int32Array([0, 300]), 2)
    const times = encodeTimeIndex(new Float64Array([NOW, NOW + 5]), new Int32Array([0, 2]), 2)
    assert.isUndefined(Segment.indexProblem(s, good, times))
    assert.include(Segment.indexProblem(s, good.subarray(0, 13), times)!, "not whole entries")
    const backwards = encodeOffsetIndex(new Int32Array([2, 1]), new Int32Array([0, 300]), 2)
    assert.include(Segment.indexProblem(s, backwards, times)!, "out of order")
    const outside = encodeOffsetIndex(new Int32Array([0, 2]), new Int32Array([0, s.size + 1]), 2)
    assert.include(Segment.indexProblem(s, outside, times)!, "outside the segment")
    const beyond = encodeOffsetIndex(new Int32Array([0, 9]), new Int32Array([0, 300]), 2)
    assert.include(Segment.indexProblem(s, beyond, times)!, "outside the segment")
    const timeBack = encodeTimeIndex(new Float64Array([NOW + 5, NOW]), new Int32Array([0, 2]), 2)
    assert.include(Segment.indexProblem(s, good, timeBack)!, "out of order")
  })

  it("knows a batch header from damage: bad magic, a length under a header, or one past the segment", () => {
    const batch = encodeBatch([{ value: new Uint8Array(10) }])
    assert.isDefined(Segment.validHeader(batch, 0, 0, batch.length))
    assert.isUndefined(Segment.validHeader(batch, 0, 0, batch.length - 1))
    const bad = batch.slice()
    new DataView(bad.buffer).setInt32(8, -12)
    assert.isUndefined(Segment.validHeader(bad, 0, 0, 1_000_000))
    bad.set(batch)
    bad[16] = 1
    assert.isUndefined(Segment.validHeader(bad, 0, 0, 1_000_000))
  })
})

describe("Partition", () => {
  const partition = (segments: Array<Segment.Segment>, logStartOffset = 0): Partition => ({
    tp: { topic: "t", partition: 0 },
    name: "t-0",
    dir: "/d",
    dirMade: true,
    lock: Semaphore.makeUnsafe(1),
    segments,
    producers: ProducerState.empty(),
    logStartOffset,
    recoveryPoint: 0,
    checkpointedRecoveryPoint: 0,
    unflushedMessages: 0,
    unflushed: new Set(),
    deleted: false
  })
  const settings = (retentionMs: number, retentionBytes: number) =>
    ({ segmentBytes: 1e9, segmentMs: 1e12, indexIntervalBytes: 4096, retentionMs, retentionBytes, deletes: true, compacts: false, minCleanableRatio: 0.5, minCompactionLagMs: 0, maxCompactionLagMs: Infinity, deleteRetentionMs: 0, fileDeleteDelayMs: 0, flushMessages: Infinity })

  it("retention drops the oldest segments past retention.ms or retention.bytes, never the active one", () => {
    const aged = (base: number, largest: number, size = 1000) => {
      const s = Segment.newSegment("/d", base)
      s.size = size
      s.largestTimestamp = largest
      return s
    }
    const segs = () => [aged(0, NOW - 5000), aged(10, NOW - 3000), aged(20, NOW - 1000), aged(30, NOW)]
    assert.strictEqual(segmentsToDrop(partition(segs()), NOW, settings(2000, Infinity)), 2)
    assert.strictEqual(segmentsToDrop(partition(segs()), NOW, settings(Infinity, 2000)), 2)
    assert.strictEqual(segmentsToDrop(partition(segs()), NOW, settings(0, Infinity)), 3, "the active segment stays")
    // Below the log start (DeleteRecords), whatever the retention.
    const below = segs()
    for (let i = 0; i < 3; i++) below[i]!.nextOffset = below[i + 1]!.baseOffset
    assert.strictEqual(segmentsToDrop(partition(below, 20), NOW, undefined), 2)
  })
})
