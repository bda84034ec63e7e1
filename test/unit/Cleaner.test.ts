// The log cleaner over the in-memory file system, as a user of a compacted topic sees it: each key's latest
// record once below the active segment, offsets unchanged, tombstones kept for delete.retention.ms and then
// removed, the compaction lags and the dirty ratio, small segments merged, idempotent producers surviving a
// clean and a restart, every codec kept, aborted transactions removed with their markers, and a crash at every
// step of a swap leaving each group of segments as it was before the clean or as it is after it.
import { assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect, Exit, FileSystem, Layer, Scope } from "effect"
import { createHash } from "node:crypto"
import { type PlatformError, systemError } from "effect/PlatformError"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { Codec } from "../../src/protocol/Compression.ts"
import { CLEANER_OFFSETS, parseCheckpoint } from "../../src/protocol/logdir/LogFiles.ts"
import {
  COMPRESSION_MASK,
  decodeRecords,
  DELETE_HORIZON,
  encodeBatch,
  HEADER_SIZE,
  readHeader,
  TRANSACTIONAL
} from "../../src/protocol/RecordBatch.ts"
import * as Core from "../../src/services/log/Cleaner.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { newSegment } from "../../src/services/log/Segment.ts"
import { quietly } from "../support/Logs.ts"
import { batchesIn, type BrokerServices, layer, LOG_DIR } from "../support/TestLayers.ts"

const NOW = 1_700_000_000_000
const digest = (key: Uint8Array) => createHash("md5").update(key).digest("base64")
const DAY = 86_400_000
const TP = { topic: "kv", partition: 0 }
const DIR = `${LOG_DIR}/kv-0`
const text = new TextEncoder()
const fromText = new TextDecoder()

const COMPACTED = {
  "cleanup.policy": "compact",
  "segment.bytes": "2000",
  "min.cleanable.dirty.ratio": "0.01",
  "delete.retention.ms": String(DAY),
  "file.delete.delay.ms": "0"
}

// The background cleaner waits on the test clock: the tests clean when they choose.
const broker = (fs: FileSystem.FileSystem, configs: Record<string, string> = {}, properties: Record<string, string> = {}) =>
  layer(fs, {
    topics: { kv: 1 },
    topicConfigs: { kv: { ...COMPACTED, ...configs } },
    properties: { "log.cleaner.backoff.ms": String(100 * DAY), "log.index.interval.bytes": "200", ...properties }
  })

const run = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, configs?: Record<string, string>, properties?: Record<string, string>) =>
  // The clock is set before the broker starts: its timers would otherwise all fire at the jump.
  Effect.andThen(TestClock.setTime(NOW), Effect.provide(body, broker(fs, configs, properties)))

const store = Effect.service(LogStore)

type Entry = readonly [key: string, value: string | null]

interface BatchOptions {
  readonly compression?: number
  readonly producerId?: number
  readonly baseSequence?: number
  readonly transactional?: boolean
}

const batch = (entries: ReadonlyArray<Entry>, o: BatchOptions = {}) =>
  encodeBatch(entries.map(([k, v]) => ({ key: text.encode(k), value: v === null ? null : text.encode(v), timestamp: NOW })), {
    compression: o.compression ?? Codec.None,
    ...(o.producerId === undefined ? {} : { producerId: o.producerId, producerEpoch: 0, baseSequence: o.baseSequence ?? 0 }),
    attributes: o.transactional === true ? TRANSACTIONAL : 0
  })

/** Every record appended in the current test, at its offset. */
const history: Array<Read> = []
beforeEach(() => {
  history.length = 0
})

const append = (bytes: Uint8Array) =>
  Effect.gen(function*() {
    const r = yield* (yield* store).append(TP, bytes, readHeader(bytes))
    decodeRecords(bytes).forEach((rec, i) =>
      history.push({ offset: r.baseOffset + i, key: fromText.decode(rec.key!), value: rec.value === null ? null : fromText.decode(rec.value) }))
    return r.baseOffset
  }).pipe(Effect.orDie)

/** `rounds` overwrites of `keys` keys, one record a batch; answers each key's last value and its offset. */
const overwrite = (keys: number, rounds: number, tag = "v") =>
  Effect.gen(function*() {
    const latest = new Map<string, { value: string; offset: number }>()
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < keys; k++) {
        const key = `key-${k}`
        const value = `${tag}${r}-${k}`
        latest.set(key, { value, offset: yield* append(batch([[key, value]])) })
      }
    }
    return latest
  })

interface Read {
  readonly offset: number
  readonly key: string
  readonly value: string | null
}

/** Every record from the log start, batch by batch, as a consumer reads it; and the batches' headers. */
const readAll = Effect.gen(function*() {
  const s = yield* store
  const records: Array<Read> = []
  const headers: Array<ReturnType<typeof readHeader>> = []
  const { logStartOffset, logEndOffset } = yield* s.offsets(TP)
  let offset = logStartOffset
  while (offset < logEndOffset) {
    const r = yield* s.read(TP, offset, 1024 * 1024, true)
    const bytes = r.records instanceof Uint8Array ? r.records : new Uint8Array(0)
    if (bytes.length === 0) break
    for (let at = 0; at + HEADER_SIZE <= bytes.length;) {
      const h = readHeader(bytes, at)
      headers.push(h)
      for (const rec of decodeRecords(bytes.subarray(at, at + h.size))) {
        if (rec.offset >= offset) records.push({ offset: rec.offset, key: fromText.decode(rec.key!), value: rec.value === null ? null : fromText.decode(rec.value) })
      }
      offset = Math.max(offset, h.baseOffset + h.lastOffsetDelta + 1)
      at += h.size
    }
  }
  return { records, headers }
}).pipe(Effect.orDie)

const logFiles = (fs: FileSystem.FileSystem) => Effect.map(Effect.orDie(fs.readDirectory(DIR)), (names) => names.filter((n) => n.endsWith(".log")).sort())
const dirBytes = (fs: FileSystem.FileSystem) =>
  Effect.gen(function*() {
    let total = 0
    for (const name of yield* logFiles(fs)) total += Number((yield* Effect.orDie(fs.stat(`${DIR}/${name}`))).size)
    return total
  })

const clean = Effect.flatMap(store, (s) => s.clean)

/** The records below `upTo` must be, once each, every key's last record written below it, at its offset. */
const assertCompacted = (records: ReadonlyArray<Read>, upTo: number) => {
  const latest = new Map<string, Read>()
  for (const r of history) if (r.offset < upTo) latest.set(r.key, r)
  const below = records.filter((r) => r.offset < upTo)
  const keys = below.map((r) => r.key)
  assert.strictEqual(new Set(keys).size, keys.length, "every key once below the active segment")
  assert.deepStrictEqual(
    below,
    [...latest.values()].filter((r) => r.value !== null || below.some((b) => b.offset === r.offset)).sort((a, b) => a.offset - b.offset),
    "each key's latest record below the active segment, at its offset"
  )
}

// ---------------------------------------------------------------------------------------------------------

describe("the cleaner core", () => {
  it("builds each key's latest offset, bounded by the dedupe buffer", () => {
    const map = new Core.OffsetMap(24 * 10 / 0.9, digest)
    assert.strictEqual(map.slots, 10)
    const txns = new Core.TxnTracker([])
    const b = batch(Array.from({ length: 12 }, (_, i): Entry => [`k${i % 11}`, "x"]))
    assert.isFalse(Core.mapBatch(map, txns, b, 0, 100), "an eleventh key does not fit")
    assert.strictEqual(map.size, 10)
    assert.strictEqual(map.get(text.encode("k3")), 3)
    assert.strictEqual(map.latestOffset, -1, "a batch not wholly mapped does not count")
    const long = new Uint8Array(100).fill(7)
    const big = new Core.OffsetMap(1 << 20, digest)
    assert.isTrue(big.put(long, 5))
    assert.strictEqual(big.get(long.slice()), 5, "long keys are found by their hash")
  })

  it("decides by the dirty ratio, the compaction lags and the last stable offset", () => {
    const seg = (base: number, next: number, size: number, largest: number) => Object.assign(newSegment("/d", base), { nextOffset: next, size, largestTimestamp: largest })
    const p = {
      segments: [seg(0, 10, 1000, NOW - 5000), seg(10, 20, 1000, NOW - 3000), seg(20, 30, 1000, NOW - 1000), seg(30, 30, 0, -1)],
      logStartOffset: 0,
      producers: { producers: new Map(), ongoing: new Map() }
    } as never
    const settings = { minCleanableRatio: 0.5, minCompactionLagMs: 0, maxCompactionLagMs: Infinity } as never
    const all = Core.cleanable(p, undefined, settings, NOW, -1)
    assert.deepInclude(all, { firstDirty: 0, firstUncleanable: 30, cleanBytes: 0, dirtyBytes: 3000, ratio: 1 })
    const cleaned = Core.cleanable(p, 20, settings, NOW, -1)
    assert.deepInclude(cleaned, { firstDirty: 20, cleanBytes: 2000, dirtyBytes: 1000 })
    assert.isFalse(Core.needsCleaning(cleaned, settings), "a third dirty is below the ratio")
    const lagged = Core.cleanable(p, undefined, { ...(settings as object), minCompactionLagMs: 2000 } as never, NOW, -1)
    assert.strictEqual(lagged.firstUncleanable, 20, "segments younger than min.compaction.lag.ms wait")
    const forced = Core.cleanable(p, 20, { ...(settings as object), maxCompactionLagMs: 60_000 } as never, NOW, NOW - 120_000)
    assert.isTrue(forced.forced && Core.needsCleaning(forced, settings), "records older than max.compaction.lag.ms force a clean")
    const open = Core.cleanable({ ...(p as object), producers: { producers: new Map(), ongoing: new Map([[7, 15]]) } } as never, undefined, settings, NOW, -1)
    assert.strictEqual(open.firstUncleanable, 15, "an open transaction bounds the clean")
  })

  it("groups consecutive segments up to segment.bytes", () => {
    const seg = (base: number, size: number) => Object.assign(newSegment("/d", base), { nextOffset: base + 10, size })
    const groups = Core.groupBySize([seg(0, 400), seg(10, 500), seg(20, 200), seg(30, 900), seg(40, 50)], 1000)
    assert.deepStrictEqual(groups.map((g) => g.map((s) => s.baseOffset)), [[0, 10], [20], [30, 40]])
  })

  it("keeps a producer's last batch as an empty batch with its last offset and sequence", () => {
    const b = encodeBatch([{ key: text.encode("a"), value: text.encode("1") }, { key: text.encode("b"), value: text.encode("2") }], {
      baseOffset: 10,
      producerId: 9,
      producerEpoch: 2,
      baseSequence: 40
    })
    const map = new Core.OffsetMap(1 << 16, digest)
    map.put(text.encode("a"), 50)
    map.put(text.encode("b"), 51)
    map.updateLatestOffset(60)
    const ctx = (last: number) => ({ map, txns: new Core.TxnTracker([]), now: NOW, deleteRetentionMs: DAY, lastDataOffsets: new Map([[9, last]]) })
    const kept = Core.cleanBatch(ctx(11), b)
    const h = readHeader(kept.bytes!)
    assert.deepInclude(h, { baseOffset: 10, lastOffsetDelta: 1, recordCount: 0, producerId: 9, producerEpoch: 2, baseSequence: 40 })
    assert.strictEqual(Core.cleanBatch(ctx(99), b).bytes, undefined, "not the producer's last: it goes")
  })
})

describe("the log cleaner", () => {
  it.effect("leaves every key's latest value once below the active segment, at its offset; the disk shrinks", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* run(fs, Effect.gen(function*() {
        yield* overwrite(40, 15)
        const before = yield* dirBytes(fs)
        const segmentsBefore = (yield* logFiles(fs)).length
        const [stats] = yield* clean
        assert.isDefined(stats)
        const after = yield* dirBytes(fs)
        assert.isBelow(after, before / 4, `the log shrank: ${before} → ${after} bytes`)
        assert.strictEqual((yield* logFiles(fs)).length, segmentsBefore, "full segments are cleaned one by one")
        const { records, headers } = yield* readAll
        const { logStartOffset, logEndOffset } = yield* (yield* store).offsets(TP).pipe(Effect.orDie)
        assert.strictEqual(logStartOffset, 0, "the log start does not move")
        assert.strictEqual(logEndOffset, 600)
        assertCompacted(records, stats!.end)
        assert.deepStrictEqual(records.filter((r) => r.offset >= stats!.end).map((r) => r.offset),
          Array.from({ length: 600 - stats!.end }, (_, i) => stats!.end + i), "the active segment is untouched")
        // A read at a removed offset gets the next surviving batch.
        const present = new Set(records.map((r) => r.offset))
        let removed = 0
        while (present.has(removed)) removed++
        const next = headers.find((h) => h.baseOffset + h.lastOffsetDelta >= removed)!
        const r = yield* (yield* store).read(TP, removed, 1024, true).pipe(Effect.orDie)
        assert.strictEqual(readHeader(r.records as Uint8Array).baseOffset, next.baseOffset, "a read in a gap gets the next batch")
        // Batches the cleaner emptied (kept for their last offset) are read past: a read at one gets records.
        const onDisk: Array<ReturnType<typeof readHeader>> = []
        for (const name of yield* logFiles(fs)) onDisk.push(...batchesIn(yield* Effect.orDie(fs.readFile(`${DIR}/${name}`))).map((b) => b.header))
        const emptied = onDisk.find((h, i) => h.recordCount === 0 && onDisk.slice(i + 1).some((n) => n.recordCount > 0))
        assert.isDefined(emptied, "the clean left an emptied batch")
        const past = yield* (yield* store).read(TP, emptied!.baseOffset, 1024, true).pipe(Effect.orDie)
        assert.isAbove(readHeader(past.records as Uint8Array).recordCount, 0, "a read at an emptied batch gets the records after it")
        // Progress is Kafka's cleaner-offset-checkpoint.
        const checkpoint = parseCheckpoint(yield* Effect.orDie(fs.readFileString(`${LOG_DIR}/${CLEANER_OFFSETS}`)))
        assert.deepStrictEqual(checkpoint, [{ topic: "kv", partition: 0, offset: stats!.end }])
        assert.deepStrictEqual(yield* clean, [], "nothing dirty: nothing to clean")
        // The next clean merges the small cleaned segments, up to segment.bytes.
        yield* overwrite(40, 15, "w")
        const [again] = yield* clean
        assert.isBelow(again!.segmentsAfter, again!.segmentsBefore - 10, "the small cleaned segments merged")
        const sizes = yield* Effect.forEach(yield* logFiles(fs), (n) => Effect.map(Effect.orDie(fs.stat(`${DIR}/${n}`)), (st) => Number(st.size)))
        assert.isTrue(sizes.every((n) => n <= 2000), "none beyond segment.bytes")
        assertCompacted((yield* readAll).records, again!.end)
      }))
      // The same after a restart.
      yield* run(fs, Effect.gen(function*() {
        const { records } = yield* readAll
        const keys = records.filter((r) => r.offset < 1160).map((r) => r.key)
        assert.strictEqual(new Set(keys).size, keys.length)
        assert.deepStrictEqual(yield* clean, [], "the checkpoint survives the restart")
      }))
    }))

  it.effect("keeps tombstones for delete.retention.ms after the clean that first kept them, then removes them", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* run(fs, Effect.gen(function*() {
        yield* append(batch([["gone", "a"], ["stays", "b"]]))
        yield* append(batch([["gone", null]]))
        yield* overwrite(20, 3)
        yield* clean
        let { records, headers } = yield* readAll
        assert.deepStrictEqual(records.filter((r) => r.key === "gone").map((r) => r.value), [null], "the value goes, its tombstone stays")
        assert.isTrue(headers.some((h) => (h.attributes & DELETE_HORIZON) !== 0 && h.baseTimestamp === NOW + DAY), "the batch carries its delete horizon")
        // Within delete.retention.ms, another clean keeps it.
        yield* overwrite(20, 3, "w")
        yield* TestClock.adjust(DAY - 1000)
        yield* clean
        ;({ records } = yield* readAll)
        assert.deepStrictEqual(records.filter((r) => r.key === "gone").map((r) => r.value), [null])
        // Past it, the next clean removes it; other keys keep their latest value.
        yield* overwrite(20, 3, "x")
        yield* TestClock.adjust(2000)
        yield* clean
        ;({ records } = yield* readAll)
        assert.deepStrictEqual(records.filter((r) => r.key === "gone"), [], "the tombstone is gone")
        assert.deepStrictEqual(records.filter((r) => r.key === "stays").map((r) => r.value), ["b"])
      }))
    }))

  it.effect("honours min.cleanable.dirty.ratio and min.compaction.lag.ms", () =>
    Effect.gen(function*() {
      yield* run(MemoryFileSystem.make(), Effect.gen(function*() {
        yield* overwrite(10, 10)
        assert.deepStrictEqual(yield* clean, [], "a log with a dirty ratio of 1 is not dirtier than 1")
      }), { "min.cleanable.dirty.ratio": "1" })
      yield* run(MemoryFileSystem.make(), Effect.gen(function*() {
        yield* overwrite(10, 10)
        assert.deepStrictEqual(yield* clean, [], "records younger than min.compaction.lag.ms wait")
        yield* TestClock.adjust(60_001)
        assert.strictEqual((yield* clean).length, 1, "then they are cleaned")
      }), { "min.compaction.lag.ms": "60000" })
    }))

  it.effect("forces a clean of records older than max.compaction.lag.ms whatever the ratio", () =>
    run(MemoryFileSystem.make(), Effect.gen(function*() {
      yield* overwrite(10, 10)
      assert.deepStrictEqual(yield* clean, [])
      yield* TestClock.adjust(120_000)
      assert.strictEqual((yield* clean).length, 1)
    }), { "min.cleanable.dirty.ratio": "1", "max.compaction.lag.ms": "60000" }))

  it.effect("keeps an idempotent producer's sequence across a clean and a restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const pid = 77
      const produced = (seq: number) => batch([["p", `value-${seq}`]], { producerId: pid, baseSequence: seq })
      yield* run(fs, Effect.gen(function*() {
        for (let seq = 0; seq < 30; seq++) yield* append(produced(seq))
        yield* overwrite(10, 5)
        yield* clean
        const s = yield* store
        const retry = yield* s.append(TP, produced(29), readHeader(produced(29))).pipe(Effect.orDie)
        assert.isTrue(retry.duplicate, "a retry of the last batch is still a duplicate")
        const { headers } = yield* readAll
        const last = headers.filter((h) => h.producerId === pid && h.recordCount > 0)
        assert.strictEqual(last.length, 1, "older batches of the producer went")
        assert.strictEqual(last[0]!.baseSequence, 29, "its last batch stays, with its sequence")
      }))
      yield* run(fs, Effect.gen(function*() {
        const next = yield* (yield* store).append(TP, produced(30), readHeader(produced(30))).pipe(Effect.orDie)
        assert.isFalse(next.duplicate, "after a restart the producer continues at the next sequence")
        const outOfOrder = yield* (yield* store).append(TP, produced(40), readHeader(produced(40))).pipe(Effect.flip)
        assert.strictEqual(outOfOrder._tag, "OutOfOrderSequence")
      }))
    }))

  it.effect.each([Codec.Gzip, Codec.Snappy, Codec.Lz4, Codec.Zstd])("keeps the codec of batches it rewrites (codec %d)", (codec) =>
    run(MemoryFileSystem.make(), Effect.gen(function*() {
      const latest = new Map<string, { value: string; offset: number }>()
      for (let r = 0; r < 8; r++) {
        const entries = Array.from({ length: 10 }, (_, k): Entry => [`key-${(k * 3 + r) % 15}`, `r${r}-k${k}`.padEnd(60, "-")])
        const base = yield* append(batch(entries, { compression: codec }))
        entries.forEach(([key, value], i) => latest.set(key, { value: value!, offset: base + i }))
      }
      yield* overwrite(1, 30)
      const [stats] = yield* clean
      const { records, headers } = yield* readAll
      assert.isTrue(headers.filter((h) => h.recordCount > 1).every((h) => (h.attributes & COMPRESSION_MASK) === codec), "rewritten batches keep their codec")
      assert.isTrue(headers.some((h) => h.recordCount > 0 && h.recordCount < 10 && (h.attributes & COMPRESSION_MASK) === codec), "some batch was rewritten")
      assertCompacted(records, stats!.end)
    })))

  it.effect("removes aborted transactions' records, then their markers once no batch of them is left", () =>
    run(MemoryFileSystem.make(), Effect.gen(function*() {
      const s = yield* store
      yield* append(batch([["t", "aborted"]], { producerId: 5, transactional: true }))
      yield* s.writeMarker(TP, { producerId: 5, producerEpoch: 0, commit: false, coordinatorEpoch: 0 }).pipe(Effect.orDie)
      yield* append(batch([["c", "committed"]], { producerId: 6, transactional: true }))
      yield* s.writeMarker(TP, { producerId: 6, producerEpoch: 0, commit: true, coordinatorEpoch: 0 }).pipe(Effect.orDie)
      // The aborting producer goes on: its last batch (which the cleaner keeps) is a later one.
      yield* append(batch([["t2", "next"]], { producerId: 5, baseSequence: 1, transactional: true }))
      yield* s.writeMarker(TP, { producerId: 5, producerEpoch: 0, commit: true, coordinatorEpoch: 0 }).pipe(Effect.orDie)
      yield* overwrite(20, 3)
      yield* clean
      let { records, headers } = yield* readAll
      assert.deepStrictEqual(records.filter((r) => r.key === "t" || r.key === "c").map((r) => r.value), ["committed"])
      const controls = () => headers.filter((h) => (h.attributes & 0x20) !== 0 && h.recordCount > 0).length
      assert.strictEqual(controls(), 3, "the markers stay while their transactions had batches")
      yield* overwrite(20, 3, "w")
      yield* clean
      ;({ headers } = yield* readAll)
      assert.strictEqual(controls(), 3, "markers stay until their delete horizon")
      assert.isTrue(headers.some((h) => (h.attributes & 0x20) !== 0 && (h.attributes & DELETE_HORIZON) !== 0 && h.producerId === 5),
        "the abort marker, whose transaction has no batch left, got its delete horizon")
      yield* TestClock.adjust(DAY + 1)
      yield* overwrite(20, 3, "x")
      yield* clean
      ;({ records, headers } = yield* readAll)
      assert.strictEqual(controls(), 2, "past the horizon the abort marker goes; committed records keep their markers")
      assert.deepStrictEqual(records.filter((r) => r.key === "c").map((r) => r.value), ["committed"])
    })))
})

// ---------------------------------------------------------------------------------------------------------
// Crashes during a swap

/** `fs` whose renames and removals fail from the `n`th rename on, and whose writes fail too: a power cut. */
const cutAfterRenames = (fs: FileSystem.FileSystem, n: number) => {
  let renames = 0
  let cut = false
  const guard = <A, E>(method: string, path: string, effect: Effect.Effect<A, E>) =>
    Effect.suspend((): Effect.Effect<A, E | PlatformError> =>
      cut ? Effect.fail(systemError({ _tag: "Unknown", module: "FileSystem", method, pathOrDescriptor: path, description: "power cut" })) : effect
    )
  const wrapped = FileSystem.make({
    ...fs,
    open: (path, options) =>
      Effect.map(fs.open(path, options), (f): FileSystem.File => ({
        [FileSystem.FileTypeId]: FileSystem.FileTypeId,
        stat: f.stat,
        seek: (offset, from) => f.seek(offset, from),
        read: (buffer, o) => f.read(buffer, o),
        readAlloc: (size, o) => f.readAlloc(size, o),
        sync: guard("sync", path, f.sync),
        write: (b) => guard("write", path, f.write(b)),
        writeAll: (b) => guard("write", path, f.writeAll(b)),
        truncate: (l) => guard("truncate", path, f.truncate(l))
      })),
    writeFile: (path, data, options) => guard("writeFile", path, fs.writeFile(path, data, options)),
    remove: (path, options) => guard("remove", path, fs.remove(path, options)),
    rename: (from, to) =>
      Effect.suspend(() => {
        if (!cut && from.includes(".cleaned") || from.includes(".swap") || to.endsWith(".deleted")) {
          if (renames++ >= n) cut = true
        }
        return guard("rename", from, fs.rename(from, to))
      })
  })
  return { fs: wrapped, wasCut: () => cut }
}

describe("a crash during a swap", () => {
  const prepare = (fs: FileSystem.FileSystem) => run(fs, Effect.gen(function*() {
    yield* append(batch([["gone", "a"]]))
    yield* append(batch([["gone", null]]))
    return yield* overwrite(30, 8)
  }))
  const contents = (fs: FileSystem.FileSystem) => quietly(run(fs, Effect.map(readAll, (r) => r.records)))

  it.effect("leaves each group of segments as it was or as cleaned, at every step, and nothing else", () =>
    Effect.gen(function*() {
      // The log before and after an uninterrupted clean.
      const reference = MemoryFileSystem.make()
      yield* prepare(reference)
      const before = yield* contents(reference)
      yield* run(reference, clean)
      const after = yield* contents(reference)
      assert.isBelow(after.length, before.length)
      let step = 0
      for (;; step++) {
        const fs = MemoryFileSystem.make()
        yield* prepare(fs)
        const { fs: cutting, wasCut } = cutAfterRenames(fs, step)
        // The broker stops when the power goes: nothing it would write at shutdown reaches the files.
        yield* TestClock.setTime(NOW)
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(broker(cutting), scope)
        yield* quietly(Effect.provideContext(clean, context))
        yield* quietly(Scope.close(scope, Exit.void))
        const now = yield* contents(fs)
        // Each group of segments is swapped on its own: every group holds its old records or its cleaned ones.
        const key = (r: Read) => JSON.stringify(r)
        const old = new Set(before.map(key))
        const offsets = now.map((r) => r.offset)
        assert.isTrue(now.every((r) => old.has(key(r))), `a cut after ${step} renames: every record is one the log held`)
        const held = new Set(now.map(key))
        assert.isTrue(after.every((r) => held.has(key(r))), `a cut after ${step} renames: nothing the clean keeps is lost`)
        assert.isTrue(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `a cut after ${step} renames: no record twice`)
        const names = yield* Effect.orDie(fs.readDirectory(DIR))
        assert.isFalse(names.some((f) => /\.(cleaned|swap|deleted)$/.test(f)), `no leftovers after a start: ${names.join(" ")}`)
        if (!wasCut()) break
      }
      assert.isAbove(step, 4, "every rename of the swap was cut once")
    }))
})
