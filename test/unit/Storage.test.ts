// Storage at scale (issue 5) as a user inspecting the log dir sees it, over the live services on the in-memory
// file system: segments rolled at segment.bytes / segment.ms and named by their base offset, the sparse
// .index/.timeindex and lookups through them (Fetch, ListOffsets by timestamp), retention and DeleteRecords
// deleting whole segments and moving the log start offset, a clean restart reading only the active segment's
// tail, and crash recovery from the recovery point (torn tails, corrupt batches, segments after them dropped).
//
// A "crash" is a broker whose file system stops accepting writes before its scope closes: the shutdown cannot
// write indexes, snapshots, checkpoints or the marker, and what was written before stays in the files, as a
// page cache that reached the disk would. A probe around the file system records what a start opens and reads.
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, FileSystem, Layer, Scope } from "effect"
import { systemError } from "effect/PlatformError"
import { TestClock } from "effect/testing"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { type ByteSource, ZERO_UUID } from "../../src/protocol/Bytes.ts"
import {
  CLEAN_SHUTDOWN,
  decodeOffsetIndex,
  decodeTimeIndex,
  LOG_START_OFFSETS,
  parseCheckpoint,
  RECOVERY_POINTS
} from "../../src/protocol/logdir/LogFiles.ts"
import { decodeRecords, encodeBatch, HEADER_SIZE, readHeader, setBaseOffset, setPartitionLeaderEpoch } from "../../src/protocol/RecordBatch.ts"
import * as DeleteRecords from "../../src/services/api/DeleteRecords.ts"
import * as Fetch from "../../src/services/api/Fetch.ts"
import * as ListOffsets from "../../src/services/api/ListOffsets.ts"
import * as Produce from "../../src/services/api/Produce.ts"
import { LogStore } from "../../src/services/log/LogStore.ts"
import { createTopic } from "../../src/services/metadata/Topics.ts"
import { quietly, withLogs } from "../support/Logs.ts"
import { batchesIn, type BrokerOptions, type BrokerServices, callResponse, layer, LOG_DIR, received } from "../support/TestLayers.ts"
import { Codec } from "../../src/protocol/Compression.ts"

// ---------------------------------------------------------------------------------------------------------
// Fixtures

/** A realistic wall clock: segment ages and retention compare against it. */
const NOW = 1_700_000_000_000
const SEGMENT_BYTES = 1000
const INDEX_INTERVAL = 300
/** Small segments and a dense index; retention only when a test asks for it (or sets its own interval). */
const PROPERTIES = {
  "log.segment.bytes": String(SEGMENT_BYTES),
  "log.index.interval.bytes": String(INDEX_INTERVAL),
  "log.retention.check.interval.ms": "3600000"
}
const DIR = `${LOG_DIR}/events-0`
const PID = 4242

const text = new TextEncoder()
const pad = (offset: number) => String(offset).padStart(20, "0")
const file = (base: number, ext: "log" | "index" | "timeindex" | "snapshot") => `${pad(base)}.${ext}`

interface BatchSpec {
  /** One record per timestamp (default: one record at NOW). */
  readonly timestamps?: ReadonlyArray<number>
  /** An idempotent producer's batch (producer PID, epoch 0) starting at this sequence. */
  readonly sequence?: number
  /** Records keyed by their tag, as compacted topics require (the batch is then 7 bytes longer). */
  readonly keyed?: boolean
}

/** A batch whose records carry 100-byte values tagged with `tag`: a one-record batch is 170 bytes. */
const batchOf = (tag: string | number, spec: BatchSpec = {}) =>
  encodeBatch(
    (spec.timestamps ?? [NOW]).map((timestamp, i) => ({
      key: spec.keyed === true ? text.encode(`k${String(tag).padStart(5, "0")}`) : null,
      value: text.encode(`${tag}.${i}`.padEnd(100, ".")),
      timestamp
    })),
    spec.sequence === undefined ? {} : { producerId: PID, producerEpoch: 0, baseSequence: spec.sequence }
  )
const BATCH = batchOf(0).length

/** A batch as the log must hold it: the produced bytes with the assigned base offset patched in. */
interface Written {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly bytes: Uint8Array
}

const same = (records: Uint8Array | ByteSource | null, expected: Uint8Array, what: string) => {
  const actual = received(records)
  assert.isTrue(Buffer.from(actual).equals(Buffer.from(expected)), `${what}: ${actual.length} bytes differ from the ${expected.length} expected`)
}

const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))

// ---------------------------------------------------------------------------------------------------------
// Requests, as clients send them

const produce = (records: Uint8Array, topic = "events", partition = 0) =>
  Effect.map(
    callResponse(Produce.make, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }]
    }),
    (r) => r.responses[0]!.partitionResponses[0]!
  )

/** Produces the batches one by one, each appended, and answers what the log must now hold for each. */
const produceAll = (batches: ReadonlyArray<Uint8Array>, topic = "events") =>
  Effect.forEach(batches, (batch) =>
    Effect.map(produce(batch, topic), (p): Written => {
      assert.strictEqual(p.errorCode, 0)
      const bytes = batch.slice()
      // As the broker writes it: its offset and the partition's leader epoch (0) patched in.
      setBaseOffset(bytes, 0, p.baseOffset)
      setPartitionLeaderEpoch(bytes, 0, 0)
      return { baseOffset: p.baseOffset, lastOffset: p.baseOffset + readHeader(batch).lastOffsetDelta, bytes }
    }))

/** `count` one-record batches tagged from `from` on. */
const singles = (count: number, from = 0, spec: (i: number) => BatchSpec = () => ({})) =>
  Array.from({ length: count }, (_, i) => batchOf(from + i, spec(from + i)))

const fetchAt = (offset: number, partitionMaxBytes = 1, topic = "events") =>
  Effect.map(
    callResponse(Fetch.make, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 50 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic,
        topicId: ZERO_UUID,
        partitions: [{
          partition: 0,
          currentLeaderEpoch: -1,
          fetchOffset: offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes
        }]
      }],
      forgottenTopicsData: [],
      rackId: ""
    }),
    (r) => {
      const p = r.responses[0]!.partitions[0]!
      return { ...p, records: p.records ?? new Uint8Array(0) }
    }
  )

const listOffset = (timestamp: number, topic = "events", version = 7) =>
  Effect.map(
    callResponse(ListOffsets.make, version, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      timeoutMs: 1000
    }),
    (r) => r.topics[0]!.partitions[0]!
  )

const deleteRecords = (version: number, topics: ReadonlyArray<{ name: string; partitions: ReadonlyArray<[number, number]> }>) =>
  Effect.map(
    callResponse(DeleteRecords.make, version, {
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) })),
      timeoutMs: 1000
    }),
    (r) => r.topics.map((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode, p.lowWatermark]))
  )

const newTopic = (name: string, configs: Record<string, string>) =>
  Effect.orDie(createTopic({
    name,
    partitions: 1,
    replicationFactor: 1,
    configs: Object.entries(configs).map(([n, value]) => ({ name: n, value }))
  }))

// ---------------------------------------------------------------------------------------------------------
// The log dir, read past the broker

interface SegmentOnDisk {
  readonly name: string
  readonly base: number
  readonly bytes: Uint8Array
  readonly batches: ReturnType<typeof batchesIn>
}

const listDir = (fs: FileSystem.FileSystem, dir = DIR) =>
  Effect.map(Effect.orDie(fs.readDirectory(dir)), (names) => names.sort())

const filesWith = (fs: FileSystem.FileSystem, ext: string, dir = DIR) =>
  Effect.map(listDir(fs, dir), (names) => names.filter((n) => n.endsWith(`.${ext}`)))

const readFile = (fs: FileSystem.FileSystem, path: string) => Effect.orDie(fs.readFile(path))

/** Every segment of the partition, from its .log file. */
const segmentsOnDisk = (fs: FileSystem.FileSystem, dir = DIR) =>
  Effect.flatMap(filesWith(fs, "log", dir), (names) =>
    Effect.forEach(names, (name) =>
      Effect.map(readFile(fs, `${dir}/${name}`), (bytes): SegmentOnDisk => ({
        name,
        base: Number(name.slice(0, 20)),
        bytes,
        batches: batchesIn(bytes)
      }))))

const checkpointOf = (fs: FileSystem.FileSystem, name: string) =>
  Effect.map(Effect.orDie(fs.readFileString(`${LOG_DIR}/${name}`)), (t) => {
    const entries = parseCheckpoint(t)
    assert.isDefined(entries, `${name} parses`)
    return new Map(entries!.map((e) => [`${e.topic}-${e.partition}`, e.offset]))
  })

/** The segment's index files agree with its log: offset entries at batch starts, time entries inside it. */
const indexesMatchLog = (fs: FileSystem.FileSystem, s: SegmentOnDisk, next: number) =>
  Effect.gen(function*() {
    const offsets = decodeOffsetIndex(yield* readFile(fs, `${DIR}/${file(s.base, "index")}`))
    const times = decodeTimeIndex(yield* readFile(fs, `${DIR}/${file(s.base, "timeindex")}`))
    for (const [i, relative] of offsets.relativeOffsets.entries()) {
      const at = s.batches.find((b) => b.position === offsets.positions[i])
      assert.isDefined(at, `${s.name}: index entry ${i} (position ${offsets.positions[i]}) points at a batch start`)
      assert.strictEqual(at!.header.baseOffset + at!.header.lastOffsetDelta, s.base + relative, `${s.name}: index entry ${i}`)
    }
    for (const relative of times.relativeOffsets) assert.isTrue(s.base + relative < next, `${s.name}: time entry at ${s.base + relative}`)
    return [...offsets.relativeOffsets].map((o, i) => [o, offsets.positions[i]!])
  })

/** The files of closed segments (with the indexes written at their roll) and of the active one (its .log only). */
const filesOf = (closed: ReadonlyArray<number>, active: number) =>
  [...closed.flatMap((b) => [file(b, "index"), file(b, "log"), file(b, "timeindex")]), file(active, "log")].sort()

/** Where Kafka's rule puts each batch: a new segment when a non-empty one would grow past `segmentBytes`. */
const layout = (written: ReadonlyArray<Written>, segmentBytes = SEGMENT_BYTES) => {
  const out: Array<{ base: number; batches: Array<Written> }> = []
  let size = 0
  for (const w of written) {
    if (out.length === 0 || (size > 0 && size + w.bytes.length > segmentBytes)) {
      out.push({ base: out.length === 0 ? 0 : w.baseOffset, batches: [] })
      size = 0
    }
    out.at(-1)!.batches.push(w)
    size += w.bytes.length
  }
  return out
}

/** The batch holding `offset`. */
const holding = (written: ReadonlyArray<Written>, offset: number) =>
  written.find((w) => w.baseOffset <= offset && offset <= w.lastOffset)!

/** Flips a byte inside the records of the batch at `position` in a segment (its CRC no longer matches). */
const corrupt = (fs: FileSystem.FileSystem, segment: number, position: number) =>
  Effect.gen(function*() {
    const path = `${DIR}/${file(segment, "log")}`
    const bytes = yield* readFile(fs, path)
    bytes[position + HEADER_SIZE + 20] ^= 0xff
    yield* Effect.orDie(fs.writeFile(path, bytes))
    return bytes
  })

// ---------------------------------------------------------------------------------------------------------
// Brokers: runs, restarts, crashes, and a probe on the file system

interface Gate {
  readonly op: "open" | "read"
  readonly matches: (path: string) => boolean
  readonly entered: Deferred.Deferred<void>
  readonly release: Deferred.Deferred<void>
}

interface Probe {
  /** Set at the crash: every write, rename, removal, truncation and fsync fails from then on. */
  crashed: boolean
  readonly opened: Array<string>
  readonly readWhole: Array<string>
  /** Bytes read through file handles, per path. */
  readonly bytesRead: Map<string, number>
  /** Holds the next matching operation until released. */
  gate: Gate | undefined
}

const newProbe = (): Probe => ({ crashed: false, opened: [], readWhole: [], bytesRead: new Map(), gate: undefined })

const reset = (probe: Probe) => {
  probe.opened.length = 0
  probe.readWhole.length = 0
  probe.bytesRead.clear()
}

/** What the probe saw under the partition's directory, by file name. */
const seen = (paths: ReadonlyArray<string>, dir = DIR) =>
  [...new Set(paths.filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)))].sort()

const probed = (fs: FileSystem.FileSystem, probe: Probe): FileSystem.FileSystem => {
  const guard = <A>(method: string, path: string, effect: Effect.Effect<A, any>) =>
    Effect.suspend(() =>
      probe.crashed
        ? Effect.fail(systemError({ _tag: "Unknown", module: "FileSystem", method, pathOrDescriptor: path, description: "crashed" }))
        : effect
    )
  const pass = (op: Gate["op"], path: string) =>
    Effect.suspend(() => {
      const gate = probe.gate
      if (gate === undefined || gate.op !== op || !gate.matches(path)) return Effect.void
      probe.gate = undefined
      return Effect.andThen(Deferred.succeed(gate.entered, undefined), Deferred.await(gate.release))
    })
  const count = (path: string, n: number) => probe.bytesRead.set(path, (probe.bytesRead.get(path) ?? 0) + n)
  return FileSystem.make({
    ...fs,
    open: (path, options) =>
      Effect.gen(function*() {
        probe.opened.push(path)
        yield* pass("open", path)
        const f = yield* fs.open(path, options)
        return {
          [FileSystem.FileTypeId]: FileSystem.FileTypeId,
          stat: f.stat,
          seek: (offset, from) => f.seek(offset, from),
          sync: guard("sync", path, f.sync),
          read: (buffer, o) => Effect.andThen(pass("read", path), Effect.tap(f.read(buffer, o), (n) => Effect.sync(() => count(path, n)))),
          readAlloc: (size, o) => Effect.andThen(pass("read", path), f.readAlloc(size, o)),
          truncate: (length) => guard("truncate", path, f.truncate(length)),
          write: (buffer) => guard("write", path, f.write(buffer)),
          writeAll: (buffer) => guard("writeAll", path, f.writeAll(buffer))
        } satisfies FileSystem.File
      }),
    readFile: (path) => Effect.suspend(() => (probe.readWhole.push(path), fs.readFile(path))),
    writeFile: (path, data, options) => guard("writeFile", path, fs.writeFile(path, data, options)),
    rename: (from, to) => guard("rename", from, fs.rename(from, to)),
    remove: (path, options) => guard("remove", path, fs.remove(path, options)),
    truncate: (path, length) => guard("truncate", path, fs.truncate(path, length))
  })
}

const broker = (fs: FileSystem.FileSystem, options: BrokerOptions = {}) =>
  layer(fs, { topics: { events: 1 }, ...options, properties: { ...PROPERTIES, ...options.properties } })

/** Runs `body` on a broker over `fs` that then shuts down cleanly. */
const run = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, options?: BrokerOptions) =>
  Effect.provide(body, broker(fs, options))

/** Runs `body` on a broker over `fs` that then crashes: nothing it would write at shutdown reaches the files. */
const runAndCrash = <A, E>(fs: FileSystem.FileSystem, body: Effect.Effect<A, E, BrokerServices>, options?: BrokerOptions) =>
  Effect.gen(function*() {
    const probe = newProbe()
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(broker(probed(fs, probe), options), scope)
    const result = yield* Effect.provideContext(body, context)
    probe.crashed = true
    yield* Scope.close(scope, Exit.void)
    assert.isFalse(yield* Effect.orDie(fs.exists(`${LOG_DIR}/${CLEAN_SHUTDOWN}`)), "a crash leaves no clean-shutdown marker")
    return result
  })

const store = Effect.service(LogStore)

/** Every offset of the log fetched one batch at a time: the batch holding it, byte for byte. */
const checkEveryOffset = (written: ReadonlyArray<Written>, from = 0) =>
  Effect.gen(function*() {
    const end = written.at(-1)!.lastOffset + 1
    for (let offset = from; offset < end; offset++) {
      const p = yield* fetchAt(offset)
      assert.strictEqual(p.errorCode, 0, `fetch at ${offset}`)
      assert.strictEqual(p.highWatermark, end)
      same(p.records, holding(written, offset).bytes, `fetch at ${offset}`)
    }
    const atEnd = yield* fetchAt(end)
    assert.deepStrictEqual([atEnd.errorCode, atEnd.records.length], [0, 0])
    assert.strictEqual((yield* fetchAt(end + 1)).errorCode, 1)
  })

// ---------------------------------------------------------------------------------------------------------

describe("segment rolling", () => {
  it.effect("log.segment.bytes rolls segments named by their base offset, each of whole batches, offsets continuing", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Batches of 1 to 3 records (170, 279, 388 bytes): segments end where the next batch would pass 1000 bytes.
      const batches = Array.from({ length: 30 }, (_, i) => batchOf(i, { timestamps: Array.from({ length: 1 + (i % 3) }, () => NOW) }))
      const written = yield* run(fs, produceAll(batches))
      assert.deepStrictEqual(written.map((w) => w.baseOffset).slice(0, 5), [0, 1, 3, 6, 7])
      const expected = layout(written)
      assert.isAbove(expected.length, 4)

      const segments = yield* segmentsOnDisk(fs)
      assert.deepStrictEqual(segments.map((s) => s.name), expected.map((s) => file(s.base, "log")))
      assert.deepStrictEqual(segments.map((s) => s.name).slice(0, 3), [
        "00000000000000000000.log",
        "00000000000000000006.log",
        "00000000000000000012.log"
      ])
      let next = 0
      for (const [i, s] of segments.entries()) {
        assert.isAtMost(s.bytes.length, SEGMENT_BYTES, s.name)
        same(s.bytes, concat(expected[i]!.batches.map((w) => w.bytes)), s.name)
        // Each file starts at its name's offset and the offsets run on from the previous file without a gap.
        assert.strictEqual(s.batches[0]!.header.baseOffset, s.base)
        for (const b of s.batches) {
          assert.strictEqual(b.header.baseOffset, next, `${s.name} at ${b.position}`)
          next = b.header.baseOffset + b.header.lastOffsetDelta + 1
        }
      }
      assert.strictEqual(next, written.at(-1)!.lastOffset + 1)
    }))

  it.effect("a topic's segment.bytes beats log.segment.bytes", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* run(fs, Effect.gen(function*() {
        yield* newTopic("small", { "segment.bytes": String(2 * BATCH) })
        yield* newTopic("large", { "segment.bytes": "1048576" })
        for (const topic of ["events", "small", "large"]) yield* produceAll(singles(12), topic)
      }))
      const names = (topic: string) => Effect.map(filesWith(fs, "log", `${LOG_DIR}/${topic}-0`), (n) => n.map((f) => Number(f.slice(0, 20))))
      assert.deepStrictEqual(yield* names("events"), [0, 5, 10])
      assert.deepStrictEqual(yield* names("small"), [0, 2, 4, 6, 8, 10])
      assert.deepStrictEqual(yield* names("large"), [0])
    }))

  it.effect("segment.ms (topic) and log.roll.ms (broker) roll a segment by age, also across a clean restart", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Segments large enough that only age rolls them.
      const options = { properties: { "log.roll.ms": "600000", "log.segment.bytes": "1048576" } }
      yield* TestClock.setTime(NOW)
      const step = (ms: number) =>
        Effect.gen(function*() {
          yield* TestClock.adjust(ms)
          const now = yield* Clock.currentTimeMillis
          for (const topic of ["timed", "events"]) {
            assert.strictEqual((yield* produce(batchOf(now, { timestamps: [now] }), topic)).errorCode, 0)
          }
        })
      const bases = (topic: string) => Effect.map(filesWith(fs, "log", `${LOG_DIR}/${topic}-0`), (n) => n.map((f) => Number(f.slice(0, 20))))
      yield* run(fs, Effect.gen(function*() {
        yield* newTopic("timed", { "segment.ms": "60000" })
        yield* step(0) // offset 0 at +0s
        yield* step(30_000) // 1 at +30s
        assert.deepStrictEqual(yield* bases("timed"), [0])
        yield* step(30_000) // 2 at +60s: the segment is 60 s old
        assert.deepStrictEqual(yield* bases("timed"), [0, 2])
        yield* step(59_000) // 3 at +119s
        assert.deepStrictEqual(yield* bases("timed"), [0, 2])
        yield* step(1_000) // 4 at +120s
        assert.deepStrictEqual(yield* bases("timed"), [0, 2, 4])
        assert.deepStrictEqual(yield* bases("events"), [0])
        yield* step(480_000) // 5 at +600s: events' first segment is 10 minutes old
        assert.deepStrictEqual(yield* bases("events"), [0, 5])
      }), options)
      yield* run(fs, Effect.gen(function*() {
        // The active segments are 10 s and 0 s old: a restart does not make them look older.
        yield* step(10_000) // 6 at +610s
        assert.deepStrictEqual(yield* bases("timed"), [0, 2, 4, 5])
        assert.deepStrictEqual(yield* bases("events"), [0, 5])
        yield* step(40_000) // 7 at +650s
        assert.deepStrictEqual(yield* bases("timed"), [0, 2, 4, 5])
        yield* step(30_000) // 8 at +680s: over 60 s after the segment's first batch, and after the restart
        assert.deepStrictEqual(yield* bases("timed"), [0, 2, 4, 5, 8])
        assert.deepStrictEqual(yield* bases("events"), [0, 5])
      }), options)
    }))
})

describe("indexes", () => {
  it.effect("Fetch at every offset, before and after a restart, answers the batch holding it byte for byte", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const batches = Array.from({ length: 40 }, (_, i) => batchOf(i, { timestamps: Array.from({ length: 1 + (i % 4) }, () => NOW) }))
      const check = (written: ReadonlyArray<Written>) =>
        Effect.gen(function*() {
          yield* checkEveryOffset(written)
          // With room for more, a fetch answers whole batches from the one holding the offset to its segment's end.
          for (const s of layout(written)) {
            for (const offset of [s.base, s.base + 1, s.batches.at(-1)!.lastOffset]) {
              const p = yield* fetchAt(offset, 1024 * 1024)
              const from = s.batches.indexOf(holding(written, offset))
              same(p.records, concat(s.batches.slice(from).map((w) => w.bytes)), `fetch at ${offset} with room`)
            }
          }
        })
      const written = yield* run(fs, Effect.tap(produceAll(batches), check))
      assert.isAbove(layout(written).length, 8)
      yield* run(fs, check(written))
    }))

  it.effect(".index and .timeindex: written at roll and at shutdown, an entry every index.interval.bytes at batch starts", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Increasing timestamps, several per batch: 14 segments of three batches (170 + 279 + 388 bytes).
      const batches = Array.from({ length: 42 }, (_, i) =>
        batchOf(i, { timestamps: Array.from({ length: 1 + (i % 3) }, (_, j) => NOW + i * 1000 + j * 10) }))
      const checkSegment = (s: SegmentOnDisk, next: number, sealed: boolean) =>
        Effect.gen(function*() {
          const offsets = decodeOffsetIndex(yield* readFile(fs, `${DIR}/${file(s.base, "index")}`))
          const times = decodeTimeIndex(yield* readFile(fs, `${DIR}/${file(s.base, "timeindex")}`))
          // Kafka's rule: an entry for a batch once more than index.interval.bytes were appended since the last.
          const expected: Array<[number, number]> = []
          let since = 0
          for (const b of s.batches) {
            if (since > INDEX_INTERVAL) {
              expected.push([b.header.baseOffset + b.header.lastOffsetDelta - s.base, b.position])
              since = 0
            }
            since += b.header.size
          }
          assert.deepStrictEqual([...offsets.relativeOffsets].map((o, i) => [o, offsets.positions[i]]), expected, `${s.name} index`)
          assert.isAbove(expected.length, 0)
          for (const [i, relative] of offsets.relativeOffsets.entries()) {
            const at = s.batches.find((b) => b.position === offsets.positions[i])
            assert.isDefined(at, `${s.name}: index entry ${i} points at a batch start`)
            assert.strictEqual(at!.header.baseOffset + at!.header.lastOffsetDelta, s.base + relative)
            assert.isBelow(s.base + relative, next)
          }
          // Time index: increasing timestamps, each the largest of the records up to its offset in the segment.
          const records = s.batches.flatMap((b) => decodeRecords(b.bytes))
          assert.isAbove(times.timestamps.length, 0)
          for (const [i, ts] of times.timestamps.entries()) {
            const offset = s.base + times.relativeOffsets[i]!
            assert.isTrue(offset >= s.base && offset < next, `${s.name} time entry ${i} offset ${offset}`)
            if (i > 0) assert.isAbove(ts, times.timestamps[i - 1]!)
            assert.strictEqual(ts, Math.max(...records.filter((r) => r.offset <= offset).map((r) => r.timestamp)), `${s.name} time entry ${i}`)
          }
          if (sealed) assert.strictEqual(times.timestamps.at(-1), Math.max(...records.map((r) => r.timestamp)))
        })
      const written = yield* run(fs, Effect.gen(function*() {
        const written = yield* produceAll(batches)
        // While the broker runs, every rolled segment already has its indexes.
        const segments = yield* segmentsOnDisk(fs)
        const names = yield* listDir(fs)
        for (const [i, s] of segments.slice(0, -1).entries()) {
          assert.includeMembers(names, [file(s.base, "index"), file(s.base, "timeindex")])
          yield* checkSegment(s, segments[i + 1]!.base, true)
        }
        return written
      }))
      // After the shutdown the active one has them too.
      const segments = yield* segmentsOnDisk(fs)
      const names = yield* listDir(fs)
      for (const s of segments) assert.includeMembers(names, [file(s.base, "log"), file(s.base, "index"), file(s.base, "timeindex")])
      for (const [i, s] of segments.entries()) {
        yield* checkSegment(s, segments[i + 1]?.base ?? written.at(-1)!.lastOffset + 1, i < segments.length - 1)
      }
    }))

  it.effect("ListOffsets by timestamp finds the record inside a compressed batch, as Kafka decompresses it", () =>
    Effect.gen(function*() {
      const records = [0, 100, 200].map((d, i) => ({ key: null, value: text.encode(`z${i}`), timestamp: NOW + d }))
      const zipped = encodeBatch(records, { compression: Codec.Gzip })
      yield* run(MemoryFileSystem.make(), Effect.gen(function*() {
        yield* produceAll([batchOf("plain"), zipped])
        const at = yield* listOffset(NOW + 150)
        assert.deepStrictEqual([at.errorCode, at.offset, at.timestamp], [0, 3, NOW + 200])
      }))
    }))

  it.effect("ListOffsets by timestamp answers the first record at or after it across segments; -3 the largest", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const SPIKE = NOW + 10_000_000
      // Increasing timestamps, 1-3 records per batch, with one record far in the future in the middle of the log.
      const batches = Array.from({ length: 36 }, (_, i) =>
        batchOf(i, {
          timestamps: Array.from({ length: 1 + (i % 3) }, (_, j) => i === 17 && j === 1 ? SPIKE : NOW + i * 1000 + j * 100)
        }))
      const check = (written: ReadonlyArray<Written>) =>
        Effect.gen(function*() {
          const records = written.flatMap((w) => decodeRecords(w.bytes))
          const expect = (target: number) => {
            const r = records.find((r) => r.timestamp >= target)
            return r === undefined ? [-1, -1] : [r.offset, r.timestamp]
          }
          const targets = [NOW - 5000, ...records.flatMap((r) => [r.timestamp, r.timestamp - 50, r.timestamp + 1]), SPIKE + 1]
          for (const target of targets) {
            const p = yield* listOffset(target)
            assert.strictEqual(p.errorCode, 0)
            assert.deepStrictEqual([p.offset, p.timestamp], expect(target), `timestamp ${target}`)
          }
          const spike = records.find((r) => r.timestamp === SPIKE)!
          const max = yield* listOffset(-3)
          assert.deepStrictEqual([max.errorCode, max.offset, max.timestamp], [0, spike.offset, SPIKE])
          assert.strictEqual((yield* listOffset(-2)).offset, 0)
          assert.strictEqual((yield* listOffset(-1)).offset, records.at(-1)!.offset + 1)
          // v0 answers in old_style_offsets.
          assert.deepStrictEqual((yield* listOffset(NOW + 5000, "events", 0)).oldStyleOffsets, [expect(NOW + 5000)[0]])
        })
      const written = yield* run(fs, Effect.tap(produceAll(batches), check))
      assert.isAbove(layout(written).length, 6)
      // After a restart the lookups go through the index files.
      yield* run(fs, check(written))
    }))
})

describe("retention", () => {
  it.effect("log.retention.bytes deletes the oldest whole segments in the background; the log start offset is reported everywhere", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        const written = yield* produceAll(singles(22))
        // 5 segments: 4 of 850 bytes and the active one of 340 (3740 bytes).
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [0, 5, 10, 15, 20].map((b) => file(b, "log")))
        yield* TestClock.adjust(59_999)
        assert.strictEqual((yield* filesWith(fs, "log")).length, 5)
        yield* TestClock.adjust(1)
        // Keeping 2000 bytes: 3740 - 850 - 850 = 2040 ≥ 2000, one more would leave 1190. The last roll moved the
        // recovery point to 20, with the producers' snapshot there (older snapshots went with the checkpoint).
        assert.deepStrictEqual(yield* listDir(fs), [...filesOf([10, 15], 20), file(20, "snapshot")].sort())
        const stale = yield* fetchAt(9)
        assert.deepStrictEqual([stale.errorCode, stale.logStartOffset, stale.highWatermark], [1, 10, 22])
        const first = yield* fetchAt(10)
        assert.deepStrictEqual([first.errorCode, first.logStartOffset], [0, 10])
        same(first.records, written[10]!.bytes, "fetch at the log start")
        assert.strictEqual((yield* listOffset(-2)).offset, 10)
        assert.strictEqual((yield* listOffset(-4, "events", 8)).offset, 10)
        const appended = yield* produce(batchOf(22))
        assert.deepStrictEqual([appended.errorCode, appended.baseOffset, appended.logStartOffset], [0, 22, 10])
        assert.strictEqual((yield* checkpointOf(fs, LOG_START_OFFSETS)).get("events-0"), 10)
        // The records by timestamp start at the log start too.
        assert.strictEqual((yield* listOffset(0)).offset, 10)
      }), { properties: { "log.retention.bytes": "2000", "log.retention.check.interval.ms": "60000" } }))
      assert.isTrue(lines.some((l) => l.message === "events-0: deleted 2 segments; log start offset 10"), "a log line")
      // After a restart the log still starts at 10.
      yield* run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* listOffset(-2)).offset, 10)
        assert.strictEqual((yield* fetchAt(9)).errorCode, 1)
      }))
    }))

  it.effect("a topic's retention.bytes beats log.retention.bytes, and the active segment is never deleted", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* quietly(run(fs, Effect.gen(function*() {
        yield* newTopic("keep", { "retention.bytes": "-1" })
        yield* newTopic("tight", { "retention.bytes": "1" })
        // Retention applies under the "delete" cleanup policy only: a compact-only topic keeps its segments.
        yield* newTopic("compacted", { "retention.bytes": "1", "cleanup.policy": "compact" })
        yield* newTopic("both", { "retention.bytes": "1", "cleanup.policy": "compact,delete" })
        for (const topic of ["events", "keep", "tight"]) yield* produceAll(singles(22), topic)
        // Compacted topics take keyed records only (a segment then holds 5 of these too).
        for (const topic of ["compacted", "both"]) yield* produceAll(singles(22, 0, () => ({ keyed: true })), topic)
        yield* (yield* store).enforceRetention
        const bases = (topic: string) => Effect.map(filesWith(fs, "log", `${LOG_DIR}/${topic}-0`), (n) => n.map((f) => Number(f.slice(0, 20))))
        assert.deepStrictEqual(yield* bases("events"), [10, 15, 20])
        assert.deepStrictEqual(yield* bases("keep"), [0, 5, 10, 15, 20])
        assert.deepStrictEqual(yield* bases("tight"), [20])
        assert.deepStrictEqual(yield* bases("compacted"), [0, 5, 10, 15, 20])
        assert.deepStrictEqual(yield* bases("both"), [20])
        assert.deepStrictEqual((yield* Effect.forEach(["events", "keep", "tight"], (t) => listOffset(-2, t))).map((p) => p.offset), [10, 0, 20])
        const starts = yield* checkpointOf(fs, LOG_START_OFFSETS)
        assert.deepStrictEqual([starts.get("events-0"), starts.get("keep-0"), starts.get("tight-0")], [10, 0, 20])
      }), { properties: { "log.retention.bytes": "2000" } }))
    }))

  it.effect("retention.ms deletes the segments whose largest timestamp is older than now - retention.ms, reading only indexes", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* TestClock.setTime(NOW)
      // Batch i at NOW - 440 s + 20 s·i: segment k's largest timestamp is NOW - 360 s + 100 s·(k/5).
      const spec = (i: number) => ({ timestamps: [NOW - 440_000 + i * 20_000] })
      const options = { properties: { "log.retention.ms": "150000" } }
      const bases = (topic = "events") => Effect.map(filesWith(fs, "log", `${LOG_DIR}/${topic}-0`), (n) => n.map((f) => Number(f.slice(0, 20))))
      yield* run(fs, Effect.gen(function*() {
        yield* newTopic("forever", { "retention.ms": "-1" })
        yield* produceAll(singles(22, 0, spec))
        yield* produceAll(singles(22, 0, spec), "forever")
      }), options)
      const probe = newProbe()
      yield* quietly(run(probed(fs, probe), Effect.gen(function*() {
        // Loading a partition opens its active segment; retention itself must open none.
        for (const topic of ["events", "forever"]) yield* (yield* store).offsets({ topic, partition: 0 })
        reset(probe)
        const retention = (yield* store).enforceRetention
        yield* retention
        // NOW - 150 s: the segments ending at -360 s, -260 s and -160 s go; the one ending at -60 s stays.
        assert.deepStrictEqual(yield* bases(), [15, 20])
        assert.deepStrictEqual(yield* bases("forever"), [0, 5, 10, 15, 20])
        assert.deepStrictEqual(seen(probe.opened), [], "retention opened no segment")
        assert.deepStrictEqual(seen(probe.readWhole), [0, 5, 10, 15].flatMap((b) => [file(b, "index"), file(b, "timeindex")]).sort())
        const p = yield* fetchAt(14)
        assert.deepStrictEqual([p.errorCode, p.logStartOffset], [1, 15])
        yield* TestClock.adjust(100_000)
        yield* retention
        assert.deepStrictEqual(yield* bases(), [20])
        // However old, the active segment stays.
        yield* TestClock.adjust(10 * 60_000)
        yield* retention
        assert.deepStrictEqual(yield* bases(), [20])
        assert.strictEqual((yield* listOffset(-2)).offset, 20)
        assert.strictEqual((yield* produce(batchOf(22))).logStartOffset, 20)
        assert.deepStrictEqual(yield* bases("forever"), [0, 5, 10, 15, 20])
      }), options))
    }))
})

describe("DeleteRecords", () => {
  it.effect("v0-v2 move the low watermark (-1: the log end) and delete the segments wholly below it", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* quietly(run(fs, Effect.gen(function*() {
        const written = yield* produceAll(singles(22))
        assert.deepStrictEqual(yield* deleteRecords(0, [{ name: "events", partitions: [[0, 7]] }]), [[["events", 0, 0, 7]]])
        // Segment 0 lies wholly below 7 and goes; segment 5 holds 7 and stays.
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [5, 10, 15, 20].map((b) => file(b, "log")))
        assert.notInclude(yield* listDir(fs), file(0, "index"))
        assert.strictEqual((yield* checkpointOf(fs, LOG_START_OFFSETS)).get("events-0"), 7)
        const below = yield* fetchAt(6)
        assert.deepStrictEqual([below.errorCode, below.logStartOffset, below.highWatermark], [1, 7, 22])
        const at = yield* fetchAt(7)
        assert.deepStrictEqual([at.errorCode, at.logStartOffset], [0, 7])
        same(at.records, written[7]!.bytes, "fetch at the new log start")
        assert.strictEqual((yield* listOffset(-2)).offset, 7)
        assert.strictEqual((yield* produce(batchOf(22))).logStartOffset, 7)

        // Below the current start: nothing moves.
        assert.deepStrictEqual(yield* deleteRecords(1, [{ name: "events", partitions: [[0, 3]] }]), [[["events", 0, 0, 7]]])
        // -1: the log end (23); only the active segment stays.
        assert.deepStrictEqual(yield* deleteRecords(2, [{ name: "events", partitions: [[0, -1]] }]), [[["events", 0, 0, 23]]])
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [file(20, "log")])
        assert.deepStrictEqual([(yield* fetchAt(22)).errorCode, (yield* fetchAt(23)).errorCode], [1, 0])
        assert.deepStrictEqual([(yield* listOffset(-2)).offset, (yield* listOffset(-1)).offset], [23, 23])
        const next = yield* produce(batchOf(23))
        assert.deepStrictEqual([next.baseOffset, next.logStartOffset], [23, 23])

        // Beyond the log end → 1, unknown partition or topic → 3; per partition.
        assert.deepStrictEqual(
          yield* deleteRecords(2, [{ name: "events", partitions: [[0, 25], [3, 0]] }, { name: "nope", partitions: [[0, 0]] }]),
          [[["events", 0, 1, -1], ["events", 3, 3, -1]], [["nope", 0, 3, -1]]]
        )
        assert.strictEqual((yield* listOffset(-2)).offset, 23)
        // A negative offset other than -1 is out of range too.
        assert.deepStrictEqual(yield* deleteRecords(2, [{ name: "events", partitions: [[0, -5]] }]), [[["events", 0, 1, -1]]])
      })))
    }))

  it.effect("the log start offset survives a crash and a clean restart (log-start-offset-checkpoint)", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const written = yield* quietly(runAndCrash(fs, Effect.gen(function*() {
        const written = yield* produceAll(singles(22))
        assert.deepStrictEqual(yield* deleteRecords(1, [{ name: "events", partitions: [[0, 12]] }]), [[["events", 0, 0, 12]]])
        return written
      })))
      assert.include(yield* Effect.orDie(fs.readFileString(`${LOG_DIR}/${LOG_START_OFFSETS}`)), "\nevents 0 12\n")
      yield* quietly(run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* listOffset(-2)).offset, 12)
        assert.strictEqual((yield* fetchAt(11)).errorCode, 1)
        same((yield* fetchAt(12)).records, written[12]!.bytes, "fetch at the log start after a crash")
        assert.deepStrictEqual(yield* deleteRecords(2, [{ name: "events", partitions: [[0, 17]] }]), [[["events", 0, 0, 17]]])
      })))
      assert.deepStrictEqual(yield* filesWith(fs, "log"), [15, 20].map((b) => file(b, "log")))
      yield* run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* listOffset(-2)).offset, 17)
        const below = yield* fetchAt(16)
        assert.deepStrictEqual([below.errorCode, below.logStartOffset], [1, 17])
        yield* checkEveryOffset(written, 17)
      }))
    }))
})

describe("clean restart", () => {
  it.effect("reads only the active segment's index, its tail and the producer snapshot; old segments open on first fetch", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* TestClock.setTime(NOW)
      // 23 batches: segments 0, 5, 10, 15 and the active 20 (20-22); the last four from an idempotent producer.
      const spec = (i: number): BatchSpec => (i >= 19 ? { sequence: i - 19 } : {})
      const written = yield* run(fs, produceAll(singles(23, 0, spec)))
      const names = yield* listDir(fs)
      for (const b of [0, 5, 10, 15, 20]) assert.includeMembers(names, [file(b, "log"), file(b, "index"), file(b, "timeindex")])
      assert.include(names, file(23, "snapshot"))
      assert.deepStrictEqual(names.filter((n) => n.endsWith(".snapshot")), [file(23, "snapshot")])
      assert.isTrue(yield* Effect.orDie(fs.exists(`${LOG_DIR}/${CLEAN_SHUTDOWN}`)))
      assert.strictEqual((yield* checkpointOf(fs, RECOVERY_POINTS)).get("events-0"), 23)
      assert.strictEqual((yield* checkpointOf(fs, LOG_START_OFFSETS)).get("events-0"), 0)
      const lastEntry = decodeOffsetIndex(yield* readFile(fs, `${DIR}/${file(20, "index")}`)).positions.at(-1)!

      const probe = newProbe()
      yield* TestClock.adjust(5_000)
      yield* run(probed(fs, probe), Effect.gen(function*() {
        // A clean start reads no partition; its first use loads it, reading only this.
        assert.deepStrictEqual(seen(probe.opened), [])
        assert.deepStrictEqual(seen(probe.readWhole), [])
        yield* (yield* store).offsets({ topic: "events", partition: 0 })
        assert.deepStrictEqual(seen(probe.opened), [file(20, "log")])
        assert.deepStrictEqual(seen(probe.readWhole), [file(20, "index"), file(20, "timeindex"), file(23, "snapshot")])
        assert.deepStrictEqual([...probe.bytesRead.keys()], [`${DIR}/${file(20, "log")}`])
        // Only the headers of the batches after the last index entry.
        assert.isAtMost(probe.bytesRead.get(`${DIR}/${file(20, "log")}`)!, HEADER_SIZE * Math.ceil((3 * BATCH - lastEntry) / BATCH))
        assert.isFalse(yield* Effect.orDie(fs.exists(`${LOG_DIR}/${CLEAN_SHUTDOWN}`)), "the marker goes while the broker runs")

        // The producer state came from the snapshot: a retry of the last batch is answered with its offset.
        const retry = yield* produce(batchOf(22, spec(22)))
        assert.deepStrictEqual([retry.errorCode, retry.baseOffset], [0, 22])
        assert.strictEqual((yield* produce(batchOf(99, { sequence: 9 }))).errorCode, 45)
        const more = yield* produceAll([batchOf(23, { sequence: 4 }), batchOf(24)])
        assert.deepStrictEqual(more.map((w) => w.baseOffset), [23, 24])
        // The young active segment took them.
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [0, 5, 10, 15, 20].map((b) => file(b, "log")))

        reset(probe)
        same((yield* fetchAt(0)).records, written[0]!.bytes, "fetch at 0")
        assert.deepStrictEqual(seen(probe.opened), [file(0, "log")], "the first fetch of segment 0 opens it")
        yield* checkEveryOffset([...written, ...more])
      }))
    }))
})

describe("unclean restart", () => {
  it.effect("recovers from the recovery point: a torn tail is cut with a log line, producers and offsets continue", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Clean: 0-11 (segments 0, 5, 10), recovery point 12.
      const first = yield* run(fs, produceAll(singles(12)))
      // Then a crash after 12-17 from an idempotent producer (segment 10 fills up, 15 holds 15-17).
      const second = yield* quietly(runAndCrash(fs, produceAll(singles(6, 12, (i) => ({ sequence: i - 12 })))))
      assert.deepStrictEqual(yield* filesWith(fs, "log"), [0, 5, 10, 15].map((b) => file(b, "log")))
      assert.strictEqual((yield* checkpointOf(fs, RECOVERY_POINTS)).get("events-0"), 12)
      // The last write was cut short.
      yield* Effect.orDie(fs.writeFile(`${DIR}/${file(15, "log")}`, batchOf(18).subarray(0, 100), { flag: "a" }))

      const probe = newProbe()
      const [, lines] = yield* withLogs(run(probed(fs, probe), Effect.gen(function*() {
        // Segments 0 and 5 lie below the recovery point: not opened.
        assert.deepStrictEqual(seen(probe.opened), [file(10, "log"), file(15, "log")])
        assert.includeMembers(seen(probe.readWhole), [file(12, "snapshot")])
        assert.strictEqual((yield* listOffset(-1)).offset, 18)
        // The producers: from the snapshot at 12, then the batches recovered after it.
        const retry = yield* produce(batchOf(17, { sequence: 5 }))
        assert.deepStrictEqual([retry.errorCode, retry.baseOffset], [0, 17])
        const more = yield* produceAll([batchOf(18, { sequence: 6 })])
        assert.strictEqual(more[0]!.baseOffset, 18)
        yield* checkEveryOffset([...first, ...second, ...more])
      })))
      const warnings = lines.filter((l) => l.level === "Warn").map((l) => l.message)
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, `${DIR}/${file(15, "log")}`)
      assert.include(warnings[0]!, "truncating 100 bytes")
      const segments = yield* segmentsOnDisk(fs)
      assert.deepStrictEqual(segments.at(-1)!.batches.map((b) => [b.header.baseOffset, b.position]), [[15, 0], [16, BATCH], [17, 2 * BATCH], [18, 3 * BATCH]])
      // Its index was rebuilt from the log and written at the clean shutdown.
      assert.deepStrictEqual(yield* indexesMatchLog(fs, segments.at(-1)!, 19), [[2, 2 * BATCH]])
    }))

  it.effect.each([
    { offset: 12, segment: 10, dropped: [15, 20] },
    { offset: 21, segment: 20, dropped: [] }
  ])("a corrupt batch at $offset cuts segment $segment there and deletes the segments after it", ({ offset, segment, dropped }) =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Never shut down cleanly: no recovery point, the whole log is checked.
      const written = yield* quietly(runAndCrash(fs, produceAll(singles(23))))
      const position = (offset - segment) * BATCH
      yield* corrupt(fs, segment, position)

      const [, lines] = yield* withLogs(run(fs, Effect.gen(function*() {
        assert.strictEqual((yield* listOffset(-1)).offset, offset)
        yield* checkEveryOffset(written.slice(0, offset))
        const next = yield* produce(batchOf("after"))
        assert.deepStrictEqual([next.errorCode, next.baseOffset], [0, offset])
      })))
      const warnings = lines.filter((l) => l.level === "Warn").map((l) => l.message)
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, `${DIR}/${file(segment, "log")}: a CRC mismatch in the batch at position ${position}`)
      assert.include(warnings[0]!, `truncating ${(segment === 20 ? 3 : 5) * BATCH - position} bytes`)
      if (dropped.length > 0) assert.include(warnings[0]!, `deleting ${dropped.length} later segments`)
      // The segments after it are gone with their indexes; this one ends where the bad batch was, then the new one.
      const names = yield* listDir(fs)
      for (const b of dropped) for (const ext of ["log", "index", "timeindex"] as const) assert.notInclude(names, file(b, ext))
      const segments = yield* segmentsOnDisk(fs)
      assert.strictEqual(segments.at(-1)!.base, segment)
      assert.deepStrictEqual(segments.at(-1)!.batches.map((b) => b.header.baseOffset), Array.from({ length: offset - segment + 1 }, (_, i) => segment + i))
      same(segments.at(-1)!.bytes.subarray(0, position), concat(written.slice(segment, offset).map((w) => w.bytes)), "what was before the bad batch")
      // Its indexes, written at its roll with entries past the cut, were rebuilt and rewritten at the shutdown.
      yield* indexesMatchLog(fs, segments.at(-1)!, offset + 1)
    }))

  it.effect.each([
    { offset: 2, segment: 0, read: false, end: 23, opened: [10, 15, 20] },
    // Recovery stops at the corrupt batch: the segments after it are deleted unopened.
    { offset: 10, segment: 10, read: true, end: 10, opened: [10] },
    { offset: 17, segment: 15, read: true, end: 17, opened: [10, 15] }
  ])("after a clean start, a crash rechecks from the segment holding the recovery point: corruption at $offset is read: $read", ({ offset, segment, read, end, opened }) =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      // Clean: 0-11, recovery point 12 (inside segment 10). Then a clean start, 12-22 produced, and a crash.
      const first = yield* run(fs, produceAll(singles(12)))
      const second = yield* quietly(runAndCrash(fs, produceAll(singles(11, 12))))
      const written = [...first, ...second]
      assert.strictEqual((yield* checkpointOf(fs, RECOVERY_POINTS)).get("events-0"), 12)
      const corrupted = yield* corrupt(fs, segment, (offset - segment) * BATCH)

      const probe = newProbe()
      const [, lines] = yield* withLogs(run(probed(fs, probe), Effect.gen(function*() {
        // The segments wholly below the recovery point are trusted, not read.
        assert.deepStrictEqual(seen(probe.opened), opened.map((b) => file(b, "log")))
        assert.strictEqual((yield* listOffset(-1)).offset, end)
        if (read) {
          yield* checkEveryOffset(written.slice(0, end))
        } else {
          // Served as stored: the broker did not look inside.
          const p = yield* fetchAt(offset)
          assert.strictEqual(p.errorCode, 0)
          same(p.records, corrupted.subarray((offset - segment) * BATCH, (offset - segment + 1) * BATCH), "the corrupt batch as stored")
          yield* checkEveryOffset(written.slice(offset + 1), offset + 1)
        }
      })))
      const warnings = lines.filter((l) => l.level === "Warn").map((l) => l.message)
      if (read) {
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!, `${file(segment, "log")}: a CRC mismatch in the batch at position ${(offset - segment) * BATCH}`)
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [0, 5, 10, 15, 20].filter((b) => b <= segment).map((b) => file(b, "log")))
      } else {
        assert.deepStrictEqual(warnings, [])
        same(yield* readFile(fs, `${DIR}/${file(0, "log")}`), corrupted, "segment 0 untouched")
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [0, 5, 10, 15, 20].map((b) => file(b, "log")))
      }
    }))
})

describe("retention under a concurrent read", () => {
  it.effect.each([
    { label: "opening it lazily", op: "open" as const },
    { label: "reading its open file", op: "read" as const }
  ])("a Fetch of a segment deleted while $label completes or answers 1, and the files stay gone", ({ op }) =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const options = { properties: { "log.retention.bytes": "2000" } }
      const probe = newProbe()
      // "open": after a clean restart the old segments are not open yet; "read": they are (written this run).
      const written = op === "open" ? yield* quietly(run(fs, produceAll(singles(22)), { properties: {} })) : []
      yield* quietly(run(probed(fs, probe), Effect.gen(function*() {
        const all = op === "open" ? written : yield* produceAll(singles(22))
        const gate: Gate = {
          op,
          matches: (path) => path === `${DIR}/${file(0, "log")}`,
          entered: yield* Deferred.make<void>(),
          release: yield* Deferred.make<void>()
        }
        probe.gate = gate
        const reading = yield* Effect.forkChild(fetchAt(0, 1024 * 1024))
        yield* Deferred.await(gate.entered)
        yield* (yield* store).enforceRetention
        assert.deepStrictEqual(yield* filesWith(fs, "log"), [10, 15, 20].map((b) => file(b, "log")))
        yield* Deferred.succeed(gate.release, undefined)
        const p = yield* Fiber.join(reading)
        if (p.errorCode === 0) {
          same(p.records, concat(all.slice(0, 5).map((w) => w.bytes)), "the records of the deleted segment")
        } else {
          assert.deepStrictEqual([p.errorCode, p.logStartOffset], [1, 10])
        }
        // Nothing came back, and the log works on.
        const segmentFiles = Effect.map(listDir(fs), (names) => names.filter((n) => !n.endsWith(".snapshot")))
        // After the clean restart ("open") the active segment has the index files its shutdown wrote.
        const activeIndexes = op === "open" ? [file(20, "index"), file(20, "timeindex")] : []
        assert.deepStrictEqual(yield* segmentFiles, [...filesOf([10, 15], 20), ...activeIndexes].sort())
        assert.strictEqual((yield* fetchAt(0)).errorCode, 1)
        assert.strictEqual((yield* produce(batchOf(22))).baseOffset, 22)
        same((yield* fetchAt(10)).records, all[10]!.bytes, "fetch at the new log start")
        yield* TestClock.adjust(120_000)
        same((yield* fetchAt(21)).records, all[21]!.bytes, "fetch after the old handles closed")
      }), options))
      assert.deepStrictEqual(yield* filesWith(fs, "log"), [10, 15, 20].map((b) => file(b, "log")))
    }))
})
