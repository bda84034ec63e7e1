// KRaft metadata: record codecs against golden bytes derived by hand from Kafka's record specs, the pure
// replay, and the live layer reading `__cluster_metadata-0` and `meta.properties` from an in-memory log dir,
// rolling its segments and writing snapshots in Kafka's format.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Logger } from "effect"
import { ZERO_UUID } from "../../src/protocol/Bytes.ts"
import {
  bootstrapRecords,
  decodeMetadataRecord,
  DEFAULT_METADATA_VERSION,
  encodeMetadataBatch,
  encodeMetadataRecord,
  encodeMetadataSnapshot,
  type MetadataRecord,
  METADATA_VERSION_FEATURE,
  type NewMetadataRecord,
  topicRecords
} from "../../src/protocol/MetadataRecords.ts"
import { CONTROL, decodeRecords, encodeBatch, readHeader, scanBatches } from "../../src/protocol/RecordBatch.ts"
import {
  appendMetadataRecords,
  generateClusterId,
  layer as KRaftMetadataLayer,
  METADATA_DIR,
  readMetadataLog,
  segmentFileName,
  snapshotFileName,
  writeMetadataLog
} from "../../src/layers/metadata/KRaftMetadata.ts"
import * as MemoryFileSystem from "../../src/layers/fs/MemoryFileSystem.ts"
import { BrokerConfig } from "../../src/services/config/BrokerConfig.ts"
import { ClusterMetadata } from "../../src/services/metadata/ClusterMetadata.ts"
import { applyRecord, emptyImage, imageRecords, type MetadataImage, replay } from "../../src/services/metadata/MetadataImage.ts"

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

const TOPIC_ID = "00010203-0405-0607-0809-0a0b0c0d0e0f"
const TOPIC_ID_HEX = "000102030405060708090a0b0c0d0e0f"
const DIR_ID = "ffeeddcc-bbaa-9988-7766-554433221100"
const DIR_ID_HEX = "ffeeddccbbaa99887766554433221100"

const LOG_DIR = "/data"
const SEGMENT_PATH = `${LOG_DIR}/${METADATA_DIR}/${segmentFileName(0)}`

/** Runs `f` with the live layer built over `fs`, as a broker between its start and its shutdown. */
const withMetadata = <A, E>(
  fs: FileSystem.FileSystem,
  properties: Readonly<Record<string, string>>,
  f: (metadata: ClusterMetadata["Service"]) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    return yield* f(yield* ClusterMetadata)
  }).pipe(
    Effect.provide(
      KRaftMetadataLayer.pipe(
        Layer.provide(Layer.mergeAll(
          MemoryFileSystem.layerWith(fs),
          BrokerConfig.layerFrom({ "log.dirs": LOG_DIR, "node.id": "1", ...properties })
        ))
      )
    )
  )

/** Builds the live layer over `fs` and returns the service, as a broker start would. */
const load = (fs: FileSystem.FileSystem, nodeId = 1) => withMetadata(fs, { "node.id": String(nodeId) }, Effect.succeed)

/** Runs `self` collecting the text of each warning logged. */
const withWarnings = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const capture = Logger.make((options) => {
      if (options.logLevel === "Warn") {
        const message = options.message
        warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
      }
    })
    const result = yield* self.pipe(Effect.provide(Logger.layer([capture])))
    return [result, warnings] as const
  })

const partitionSummary = (image: typeof emptyImage, name: string) =>
  image.topics.get(name)?.partitions.map((p) => [p.index, p.leader, p.leaderEpoch, p.partitionEpoch, [...p.replicas], [...p.isr]])

describe("MetadataRecords codec", () => {
  it("decodes and re-encodes a TopicRecord", () => {
    // frame 1, type 2, version 0 | compact string "foo" | uuid | no tagged fields
    const golden = hex(`01 02 00  04 666f6f  ${TOPIC_ID_HEX}  00`)
    const record = decodeMetadataRecord(golden)
    assert.deepStrictEqual(record, { type: "Topic", version: 0, name: "foo", topicId: TOPIC_ID })
    assert.strictEqual(toHex(encodeMetadataRecord({ type: "Topic", name: "foo", topicId: TOPIC_ID })), toHex(golden))
  })

  it("decodes a PartitionRecord v0 with its tagged LeaderRecoveryState", () => {
    const golden = hex(`
      01 03 00
      00000001 ${TOPIC_ID_HEX}
      02 00000001
      02 00000001
      01 01
      00000001
      00000005 00000007
      01 00 01 01`)
    const record = decodeMetadataRecord(golden)
    assert.deepStrictEqual(record, {
      type: "Partition",
      version: 0,
      partitionId: 1,
      topicId: TOPIC_ID,
      replicas: [1],
      isr: [1],
      removingReplicas: [],
      addingReplicas: [],
      leader: 1,
      leaderRecoveryState: 1,
      leaderEpoch: 5,
      partitionEpoch: 7,
      directories: [],
      eligibleLeaderReplicas: null,
      lastKnownElr: null
    })
    assert.strictEqual(toHex(encodeMetadataRecord(record as Exclude<MetadataRecord, { type: "Unknown" }>)), toHex(golden))
  })

  it("decodes a PartitionRecord v1 with directories", () => {
    const golden = hex(`
      01 03 01
      00000000 ${TOPIC_ID_HEX}
      03 00000001 00000002
      02 00000001
      01 01
      00000001
      00000000 00000000
      03 ${DIR_ID_HEX} ${"00".repeat(16)}
      00`)
    const record = decodeMetadataRecord(golden)
    assert.strictEqual(record.type, "Partition")
    if (record.type !== "Partition") return
    assert.strictEqual(record.version, 1)
    assert.deepStrictEqual(record.replicas, [1, 2])
    assert.deepStrictEqual(record.isr, [1])
    assert.deepStrictEqual(record.directories, [DIR_ID, ZERO_UUID])
    assert.strictEqual(record.leaderRecoveryState, 0)
    // The version is inferred from the directories when not given.
    const { version: _, ...withoutVersion } = record
    assert.strictEqual(toHex(encodeMetadataRecord(withoutVersion)), toHex(golden))
  })

  it("decodes a PartitionRecord v2 with EligibleLeaderReplicas (tag 1)", () => {
    const golden = hex(`
      01 03 02
      00000000 ${TOPIC_ID_HEX}
      02 00000001  02 00000001  01 01
      00000001 00000000 00000000
      02 ${DIR_ID_HEX}
      01  01 05 02 00000002`)
    const record = decodeMetadataRecord(golden)
    assert.strictEqual(record.type, "Partition")
    if (record.type !== "Partition") return
    assert.deepStrictEqual(record.eligibleLeaderReplicas, [2])
    assert.strictEqual(record.lastKnownElr, null)
    assert.strictEqual(toHex(encodeMetadataRecord(record)), toHex(golden))
  })

  it("decodes a PartitionChangeRecord whose fields are all tagged", () => {
    // isr [2] (tag 0, 5 bytes) and leader 2 (tag 1, 4 bytes), in tag order
    const golden = hex(`01 05 00  00000000 ${TOPIC_ID_HEX}  02  00 05 02 00000002  01 04 00000002`)
    const record = decodeMetadataRecord(golden)
    assert.deepStrictEqual(record, {
      type: "PartitionChange",
      version: 0,
      partitionId: 0,
      topicId: TOPIC_ID,
      isr: [2],
      leader: 2,
      replicas: null,
      removingReplicas: null,
      addingReplicas: null,
      leaderRecoveryState: -1,
      directories: null,
      eligibleLeaderReplicas: null,
      lastKnownElr: null
    })
    assert.strictEqual(toHex(encodeMetadataRecord(record as Exclude<MetadataRecord, { type: "Unknown" }>)), toHex(golden))
  })

  it("decodes RemoveTopicRecord and FeatureLevelRecord", () => {
    assert.deepStrictEqual(decodeMetadataRecord(hex(`01 09 00 ${TOPIC_ID_HEX} 00`)), {
      type: "RemoveTopic",
      version: 0,
      topicId: TOPIC_ID
    })
    // "metadata.version" (16 bytes, compact length 17) at level 21
    const feature = hex(`01 0c 00 11 ${toHex(new TextEncoder().encode("metadata.version"))} 0015 00`)
    assert.deepStrictEqual(decodeMetadataRecord(feature), {
      type: "FeatureLevel",
      version: 0,
      name: "metadata.version",
      featureLevel: 21
    })
    assert.strictEqual(toHex(encodeMetadataRecord(bootstrapRecords(21)[0]!)), toHex(feature))
  })

  it("turns unknown types and versions into Unknown, and accepts frame version 0", () => {
    // RegisterBrokerRecord (type 0) is not one we read
    assert.deepStrictEqual(decodeMetadataRecord(hex("01 00 03 ffff")), { type: "Unknown", recordType: 0, version: 3 })
    assert.deepStrictEqual(decodeMetadataRecord(hex("01 63 00")), { type: "Unknown", recordType: 99, version: 0 })
    // A PartitionRecord version newer than we know is skipped, not guessed at.
    assert.deepStrictEqual(decodeMetadataRecord(hex("01 03 07 00")), { type: "Unknown", recordType: 3, version: 7 })
    assert.deepStrictEqual(decodeMetadataRecord(hex(`00 09 00 ${TOPIC_ID_HEX} 00`)), {
      type: "RemoveTopic",
      version: 0,
      topicId: TOPIC_ID
    })
  })

  it("rejects a known record with trailing or missing bytes", () => {
    assert.throws(() => decodeMetadataRecord(hex(`01 09 00 ${TOPIC_ID_HEX} 00 00`)))
    assert.throws(() => decodeMetadataRecord(hex(`01 09 00 0001`)))
  })

  it("builds the records of a new topic", () => {
    const [topic, ...partitions] = topicRecords("t", TOPIC_ID, 2, 3)
    assert.deepStrictEqual(topic, { type: "Topic", name: "t", topicId: TOPIC_ID })
    assert.strictEqual(partitions.length, 2)
    const p = partitions[1]!
    assert.strictEqual(p.type, "Partition")
    if (p.type !== "Partition") return
    assert.deepStrictEqual([p.partitionId, p.leader, p.leaderEpoch, p.partitionEpoch], [1, 3, 0, 0])
    assert.deepStrictEqual([p.replicas, p.isr, p.directories], [[3], [3], [ZERO_UUID]])
    // Before metadata.version 17 (3.7-IV2) partitions carry no directories: PartitionRecord v0.
    const old = topicRecords("t", TOPIC_ID, 1, 3, { metadataVersion: 14 })[1]!
    assert.strictEqual(encodeMetadataRecord(old)[2], 0)
    // From 4.0-IV1 (23) Kafka writes PartitionRecord v2 even with no eligible leader replicas.
    const v2 = encodeMetadataRecord(topicRecords("t", TOPIC_ID, 1, 3, { metadataVersion: 23 })[1]!)
    assert.strictEqual(v2[2], 2)
    const decoded = decodeMetadataRecord(v2)
    assert.isTrue(decoded.type === "Partition" && decoded.eligibleLeaderReplicas === null)
  })
})

describe("replay", () => {
  const created = replay([
    ...bootstrapRecords(),
    ...topicRecords("orders", TOPIC_ID, 2, 1)
  ].map((r) => decodeMetadataRecord(encodeMetadataRecord(r))))

  it("builds topics, partitions and features", () => {
    assert.deepStrictEqual(created.features.get(METADATA_VERSION_FEATURE), DEFAULT_METADATA_VERSION)
    assert.strictEqual(created.topicsById.get(TOPIC_ID), created.topics.get("orders"))
    assert.deepStrictEqual(partitionSummary(created, "orders"), [[0, 1, 0, 0, [1], [1]], [1, 1, 0, 0, [1], [1]]])
  })

  it("applies a PartitionChangeRecord as Kafka does and leaves the old image alone", () => {
    const change = (leader: number | undefined, isr: Array<number> | null): MetadataRecord => ({
      type: "PartitionChange",
      version: 0,
      partitionId: 1,
      topicId: TOPIC_ID,
      isr,
      ...(leader === undefined ? {} : { leader })
    })
    // Leader changes: new leader epoch; every change: new partition epoch.
    const moved = applyRecord(created, change(2, [2]))
    assert.deepStrictEqual(partitionSummary(moved, "orders")![1], [1, 2, 1, 1, [1], [2]])
    // -2 (and an absent tag) mean "unchanged": no leader epoch bump.
    const shrunk = applyRecord(moved, change(-2, [2, 1]))
    assert.deepStrictEqual(partitionSummary(shrunk, "orders")![1], [1, 2, 1, 2, [1], [2, 1]])
    assert.deepStrictEqual(partitionSummary(applyRecord(shrunk, change(undefined, null)), "orders")![1], [1, 2, 1, 3, [1], [2, 1]])
    // The images before are untouched.
    assert.deepStrictEqual(partitionSummary(created, "orders")![1], [1, 1, 0, 0, [1], [1]])
    assert.deepStrictEqual(partitionSummary(moved, "orders")![1], [1, 2, 1, 1, [1], [2]])
    // Partition 0 is unchanged and shared.
    assert.strictEqual(shrunk.topics.get("orders")!.partitions[0], created.topics.get("orders")!.partitions[0])
  })

  it("removes a topic and unsets a feature at level 0", () => {
    const removed = applyRecord(created, { type: "RemoveTopic", version: 0, topicId: TOPIC_ID })
    assert.strictEqual(removed.topics.size, 0)
    assert.strictEqual(removed.topicsById.size, 0)
    assert.strictEqual(created.topics.size, 1)
    const unset = applyRecord(removed, { type: "FeatureLevel", version: 0, name: METADATA_VERSION_FEATURE, featureLevel: 0 })
    assert.strictEqual(unset.features.size, 0)
  })

  it("ignores records about topics it does not hold, and Unknown records", () => {
    const other = "99999999-0000-0000-0000-000000000001"
    const image = replay([
      { type: "Unknown", recordType: 17, version: 0 },
      { type: "PartitionChange", version: 0, partitionId: 0, topicId: other, leader: 4 },
      { type: "RemoveTopic", version: 0, topicId: other }
    ], created)
    assert.deepStrictEqual(partitionSummary(image, "orders"), partitionSummary(created, "orders"))
  })
})

describe("KRaftMetadata layer", () => {
  it.effect("replays a log with a topic of 3 partitions", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const next = yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords(), topicRecords("events", TOPIC_ID, 3, 1)])
      assert.strictEqual(next, 5)
      const metadata = yield* load(fs)
      const image = yield* metadata.image
      assert.deepStrictEqual([...image.topics.keys()], ["events"])
      assert.strictEqual(image.topics.get("events")!.id, TOPIC_ID)
      assert.deepStrictEqual(partitionSummary(image, "events"), [
        [0, 1, 0, 0, [1], [1]],
        [1, 1, 0, 0, [1], [1]],
        [2, 1, 0, 0, [1], [1]]
      ])
      assert.strictEqual(image.features.get(METADATA_VERSION_FEATURE), DEFAULT_METADATA_VERSION)
    }))

  it.effect("writes batches as Kafka's log holds them", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords()], { timestamp: 1000 })
      const bytes = yield* fs.readFile(SEGMENT_PATH)
      // The same records through the protocol encoder, byte for byte: one v2 batch, epoch 1, null keys.
      const expected = encodeMetadataBatch(bootstrapRecords(), { baseOffset: 0, epoch: 1, timestamp: 1000 })
      assert.strictEqual(toHex(bytes), toHex(expected))
      assert.strictEqual(bytes[16], 2) // magic
      assert.strictEqual(new DataView(bytes.buffer, bytes.byteOffset).getInt32(12), 1) // partitionLeaderEpoch
    }))

  it.effect("drops a topic after its RemoveTopicRecord", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const other = "10000000-0000-4000-8000-000000000002"
      yield* writeMetadataLog(fs, LOG_DIR, [
        bootstrapRecords(),
        topicRecords("gone", TOPIC_ID, 2, 1),
        topicRecords("kept", other, 1, 1)
      ])
      yield* appendMetadataRecords(fs, LOG_DIR, [{ type: "RemoveTopic", topicId: TOPIC_ID }])
      const image = yield* (yield* load(fs)).image
      assert.deepStrictEqual([...image.topics.keys()], ["kept"])
      assert.deepStrictEqual([...image.topicsById.keys()], [other])
    }))

  it.effect("skips unknown record types and control batches", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const dir = `${LOG_DIR}/${METADATA_DIR}`
      yield* fs.makeDirectory(dir, { recursive: true })
      // A control batch (a LeaderChangeMessage in Kafka's log; its content does not matter here), then a
      // batch mixing a RegisterBrokerRecord-like unknown type, a type we have never heard of, and a topic.
      const control = encodeBatch([{ key: hex("00000002"), value: hex("0000 00000001 00") }], {
        baseOffset: 0,
        attributes: CONTROL,
        partitionLeaderEpoch: 1
      })
      const mixed = encodeBatch([
        { key: null, value: hex("01 00 03 00000001 ffff") },
        { key: null, value: hex("01 7f 00 010203") },
        ...topicRecords("t", TOPIC_ID, 1, 1).map((r) => ({ key: null, value: encodeMetadataRecord(r) }))
      ], { baseOffset: 1, partitionLeaderEpoch: 1 })
      const bytes = new Uint8Array(control.length + mixed.length)
      bytes.set(control)
      bytes.set(mixed, control.length)
      yield* fs.writeFile(SEGMENT_PATH, bytes)
      const state = yield* readMetadataLog(fs, LOG_DIR)
      assert.deepStrictEqual([...state.image.topics.keys()], ["t"])
      assert.strictEqual(state.image.topics.get("t")!.partitions.length, 1)
      assert.strictEqual(state.nextOffset, 5)
    }))

  it.effect("means no topics when __cluster_metadata-0 is missing", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const metadata = yield* load(fs)
      const image = yield* metadata.image
      assert.strictEqual(image.topics.size, 0)
      assert.strictEqual(image.features.size, 0)
    }))

  it.effect("keeps the records before a torn tail and warns", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [
        bootstrapRecords(),
        topicRecords("first", TOPIC_ID, 1, 1),
        topicRecords("second", "10000000-0000-4000-8000-000000000002", 1, 1)
      ])
      const bytes = yield* fs.readFile(SEGMENT_PATH)
      yield* fs.writeFile(SEGMENT_PATH, bytes.slice(0, bytes.length - 7))
      const [image, warnings] = yield* withWarnings(Effect.flatMap(load(fs), (m) => m.image))
      assert.deepStrictEqual([...image.topics.keys()], ["first"])
      assert.strictEqual(warnings.length, 1)
      assert.match(warnings[0]!, /00000000000000000000\.log/)
    }))

  it.effect("stops at a batch whose CRC does not match", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords(), topicRecords("first", TOPIC_ID, 1, 1)])
      const bytes = yield* fs.readFile(SEGMENT_PATH)
      const corrupt = bytes.slice()
      corrupt[corrupt.length - 3]! ^= 0xff
      yield* fs.writeFile(SEGMENT_PATH, corrupt)
      const [state, warnings] = yield* withWarnings(readMetadataLog(fs, LOG_DIR))
      assert.strictEqual(state.image.topics.size, 0)
      assert.strictEqual(state.image.features.get(METADATA_VERSION_FEATURE), DEFAULT_METADATA_VERSION)
      assert.strictEqual(state.nextOffset, 1)
      assert.match(warnings.join("\n"), /CRC/)
    }))

  it.effect("appending after a torn tail cuts it off first", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords(), topicRecords("first", TOPIC_ID, 1, 1)])
      const bytes = yield* fs.readFile(SEGMENT_PATH)
      yield* fs.writeFile(SEGMENT_PATH, bytes.slice(0, bytes.length - 1))
      const [next] = yield* withWarnings(
        writeMetadataLog(fs, LOG_DIR, [topicRecords("again", TOPIC_ID, 1, 1)])
      )
      assert.strictEqual(next, 3)
      const [state, warnings] = yield* withWarnings(readMetadataLog(fs, LOG_DIR))
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual([...state.image.topics.keys()], ["again"])
      assert.strictEqual(state.nextOffset, 3)
    }))

  it.effect("starts from the newest snapshot, then reads the log from its offset", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const dir = `${LOG_DIR}/${METADATA_DIR}`
      const other = "10000000-0000-4000-8000-000000000002"
      // Log offsets 0..3: metadata.version, topic "old" (2 records), a feature "x". The snapshot at offset 4
      // covers them and says otherwise ("snap" only): replaying the log from 0 on top would show "old" and "x".
      yield* writeMetadataLog(fs, LOG_DIR, [
        bootstrapRecords(),
        topicRecords("old", TOPIC_ID, 1, 1),
        [{ type: "FeatureLevel", name: "x", featureLevel: 1 }]
      ])
      // Offsets 4..5 come after the snapshot.
      yield* appendMetadataRecords(fs, LOG_DIR, topicRecords("new", other, 1, 1))
      // Snapshot batches are numbered from 0 inside the file, whatever log offset the snapshot reaches.
      const snapshot = encodeMetadataSnapshot(
        [...bootstrapRecords(), ...topicRecords("snap", "20000000-0000-4000-8000-000000000003", 1, 1)],
        { epoch: 1, lastContainedLogTimestamp: 0, timestamp: 0 }
      )
      yield* fs.writeFile(`${dir}/${snapshotFileName(4, 1)}`, snapshot)
      // An older snapshot and a partial one are ignored.
      yield* fs.writeFile(`${dir}/${snapshotFileName(2, 1)}`, new Uint8Array(0))
      yield* fs.writeFile(`${dir}/${snapshotFileName(9, 1)}.part`, new Uint8Array(3))
      const state = yield* readMetadataLog(fs, LOG_DIR)
      assert.deepStrictEqual([...state.image.topics.keys()].sort(), ["new", "snap"])
      assert.deepStrictEqual([...state.image.features.keys()], [METADATA_VERSION_FEATURE])
      assert.strictEqual(state.nextOffset, 6)
    }))

  it.effect("reads the cluster id from meta.properties", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* fs.makeDirectory(LOG_DIR, { recursive: true })
      const text = "#\n#Tue Jan 02 10:00:00 UTC 2024\nnode.id=1\ndirectory.id=abc\nversion=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\n"
      yield* fs.writeFileString(`${LOG_DIR}/meta.properties`, text)
      const metadata = yield* load(fs)
      assert.strictEqual(metadata.clusterId, "MkU3OEVBNTcwNTJENDM2Qk")
      assert.strictEqual(yield* fs.readFileString(`${LOG_DIR}/meta.properties`), text)
    }))

  it.effect("creates meta.properties once and keeps the id across restarts", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      const first = yield* load(fs, 7)
      assert.match(first.clusterId, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
      const text = yield* fs.readFileString(`${LOG_DIR}/meta.properties`)
      const lines = text.split("\n")
      assert.isTrue(lines.some((l) => l.startsWith("#")))
      assert.include(lines, "version=1")
      assert.include(lines, "node.id=7")
      assert.include(lines, `cluster.id=${first.clusterId}`)
      const second = yield* load(fs, 7)
      assert.strictEqual(second.clusterId, first.clusterId)
      assert.strictEqual(yield* fs.readFileString(`${LOG_DIR}/meta.properties`), text)
    }))

  it.effect("refuses a meta.properties without cluster.id rather than replace it", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* fs.makeDirectory(LOG_DIR, { recursive: true })
      yield* fs.writeFileString(`${LOG_DIR}/meta.properties`, "version=1\nnode.id=1\n")
      const error = yield* Effect.flip(load(fs))
      assert.strictEqual(error._tag, "MetaPropertiesError")
      assert.strictEqual(yield* fs.readFileString(`${LOG_DIR}/meta.properties`), "version=1\nnode.id=1\n")
    }))

  it("generates cluster ids as Kafka does: 16 random bytes, URL-safe base64", () => {
    const ids = new Set(Array.from({ length: 200 }, generateClusterId))
    assert.strictEqual(ids.size, 200)
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
      const bytes = Buffer.from(id, "base64url")
      assert.strictEqual(bytes.length, 16)
      assert.strictEqual(bytes[6]! >> 4, 4) // version 4
    }
  })
})

// ---------------------------------------------------------------------------------------------------------
// Snapshots

const SNAPSHOTTING = { "metadata.log.max.record.bytes.between.snapshots": "4096", "metadata.log.segment.bytes": "2048" }
const DIR = `${LOG_DIR}/${METADATA_DIR}`
const topicId = (i: number) => `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`

/** What a user sees of an image: topics with ids, partitions and configs, the features, the next producer id. */
const summary = (image: MetadataImage) => ({
  topics: [...image.topics.values()].map((t) => ({
    name: t.name,
    id: t.id,
    partitions: partitionSummary(image, t.name),
    configs: [...t.configs].sort()
  })).sort((a, b) => a.name.localeCompare(b.name)),
  features: [...image.features].sort(),
  nextProducerId: image.nextProducerId
})

/**
 * 40 topics of 3 partitions created one update at a time, every third deleted again, configs on some, a leader
 * change, producer ids reserved: about 18 KiB of metadata batches. Returns every update's records in order.
 */
const churn = (metadata: ClusterMetadata["Service"]) =>
  Effect.gen(function*() {
    const updates: Array<ReadonlyArray<NewMetadataRecord>> = []
    const commit = (records: ReadonlyArray<NewMetadataRecord>) => {
      updates.push(records)
      return metadata.update(() => Effect.succeed({ records, result: undefined }))
    }
    for (let i = 0; i < 40; i++) {
      yield* commit(topicRecords(`topic-${i}`, topicId(i), 3, 1))
      if (i % 5 === 0) {
        yield* commit([{ type: "Config", resourceType: 2, resourceName: `topic-${i}`, name: "retention.ms", value: String(i * 1000) }])
      }
      if (i % 3 === 2) yield* commit([{ type: "RemoveTopic", topicId: topicId(i - 1) }])
    }
    yield* commit([{ type: "PartitionChange", partitionId: 2, topicId: topicId(39), leader: 1, isr: [1] }])
    yield* commit([{ type: "ProducerIds", brokerId: 1, brokerEpoch: -1, nextProducerId: 5000 }])
    return updates
  })

const listDir = (fs: FileSystem.FileSystem) =>
  Effect.map(fs.readDirectory(DIR), (names) => {
    const segments = names.filter((n) => /^\d{20}\.log$/.test(n)).sort().map((n) => Number(n.slice(0, 20)))
    const snapshots = names.filter((n) => n.endsWith(".checkpoint")).sort()
    return { names, segments, snapshots }
  })

/** The batches of a file, each as its header and records, with Kafka's batch checks passed. */
const batchesOf = (bytes: Uint8Array) => {
  const batches: Array<{ header: ReturnType<typeof readHeader>; records: ReturnType<typeof decodeRecords> }> = []
  const { problem } = scanBatches(bytes, (header, at) => {
    batches.push({ header, records: decodeRecords(bytes.subarray(at, at + header.size)) })
  })
  assert.isUndefined(problem)
  return batches
}

describe("KRaftMetadata snapshots", () => {
  it.effect("writes a snapshot in Kafka's format, deletes the log it covers, and restarts from it", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords()])
      const [updates, before] = yield* withMetadata(fs, SNAPSHOTTING, (metadata) =>
        Effect.all([churn(metadata), metadata.image]))
      const everything = [...bootstrapRecords(), ...updates.flat()]
      // The image is the one the whole log gives.
      assert.deepStrictEqual(summary(before), summary(replay(everything)))

      const { names, segments, snapshots } = yield* listDir(fs)
      // Only the newest snapshot is kept, no part file is left, and it does not reach the end of the log.
      assert.strictEqual(snapshots.length, 1)
      assert.isFalse(names.some((n) => n.endsWith(".part")))
      const [, offsetText, epochText] = /^(\d{20})-(\d{10})\.checkpoint$/.exec(snapshots[0]!)!
      const snapshotOffset = Number(offsetText)
      assert.strictEqual(Number(epochText), 1)
      assert.isAbove(snapshotOffset, 0)
      assert.isBelow(snapshotOffset, everything.length)
      // The log rolled, and every segment wholly below the snapshot is gone: the first one left holds offsets
      // the snapshot does not cover, or is the one being appended to.
      assert.isAbove(segments.length, 1)
      assert.isAbove(segments[0]!, 0)
      assert.isAbove(segments[1]!, snapshotOffset)

      // Kafka's layout: a control batch at offset 0 with the SnapshotHeader (key: version 0, type 3; value:
      // version 0, last contained log timestamp, no tagged fields), the records from offset 1, then a control
      // batch with the SnapshotFooter (type 4). Every batch carries the snapshot's epoch.
      const batches = batchesOf(yield* fs.readFile(`${DIR}/${snapshots[0]}`))
      const header = batches[0]!
      const footer = batches.at(-1)!
      const body = batches.slice(1, -1)
      assert.isTrue((header.header.attributes & CONTROL) !== 0)
      assert.strictEqual(header.header.baseOffset, 0)
      assert.strictEqual(header.records.length, 1)
      assert.strictEqual(toHex(header.records[0]!.key!), "00000003")
      assert.strictEqual(toHex(header.records[0]!.value!), "0000" + "0000000000000000" + "00")
      assert.isTrue((footer.header.attributes & CONTROL) !== 0)
      assert.strictEqual(toHex(footer.records[0]!.key!), "00000004")
      assert.strictEqual(toHex(footer.records[0]!.value!), "000000")
      assert.isTrue(batches.every((b) => b.header.partitionLeaderEpoch === 1))
      assert.isTrue(body.every((b) => (b.header.attributes & CONTROL) === 0))
      const records = body.flatMap((b) => b.records)
      assert.deepStrictEqual(records.map((r) => r.offset), records.map((_, i) => i + 1))
      assert.strictEqual(footer.header.baseOffset, records.length + 1)
      // The records rebuild the image at the snapshot's offset: the log's first `snapshotOffset` records.
      const decoded = records.map((r) => decodeMetadataRecord(r.value!))
      assert.deepStrictEqual(decoded[0], { type: "FeatureLevel", version: 0, name: METADATA_VERSION_FEATURE, featureLevel: DEFAULT_METADATA_VERSION })
      assert.deepStrictEqual(summary(replay(decoded)), summary(replay(everything.slice(0, snapshotOffset))))

      // A restart reads the snapshot and the log after it: the same topics, partitions and configs.
      const [after, warnings] = yield* withWarnings(Effect.flatMap(load(fs), (m) => m.image))
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(summary(after), summary(before))
      assert.strictEqual(after.topics.get("topic-0")!.configs.get("retention.ms"), "0")
      assert.isFalse(after.topics.has("topic-1"))
      assert.deepStrictEqual(partitionSummary(after, "topic-39")![2], [2, 1, 1, 1, [1], [1]])
      assert.strictEqual((yield* readMetadataLog(fs, LOG_DIR)).nextOffset, everything.length)

      // Appending after the restart continues the log where it ended.
      yield* withMetadata(fs, SNAPSHOTTING, (m) => m.update(() => Effect.succeed({ records: topicRecords("later", topicId(99), 1, 1), result: undefined })))
      const again = yield* (yield* load(fs)).image
      assert.deepStrictEqual([...again.topics.keys()].filter((n) => n === "later"), ["later"])
      assert.strictEqual(again.topics.size, before.topics.size + 1)
    }))

  it.effect("rolls no segment and writes no snapshot below the thresholds", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords()])
      yield* withMetadata(fs, {}, churn)
      const { segments, snapshots } = yield* listDir(fs)
      assert.deepStrictEqual(segments, [0])
      assert.deepStrictEqual(snapshots, [])
    }))

  it.effect("ignores a leftover .checkpoint.part and deletes it at start", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords(), topicRecords("kept", TOPIC_ID, 2, 1)])
      // A crash while writing a snapshot leaves its part file: beyond the log, and holding other topics.
      const part = `${DIR}/${snapshotFileName(50, 1)}.part`
      const full = encodeMetadataSnapshot([...bootstrapRecords(), ...topicRecords("ghost", topicId(7), 1, 1)], {
        epoch: 1,
        lastContainedLogTimestamp: 0,
        timestamp: 0
      })
      yield* fs.writeFile(part, full.subarray(0, full.length - 10))
      const [image, warnings] = yield* withWarnings(Effect.flatMap(load(fs), (m) => m.image))
      assert.deepStrictEqual([...image.topics.keys()], ["kept"])
      assert.isFalse(yield* fs.exists(part))
      assert.match(warnings.join("\n"), /unfinished snapshot/)
    }))

  it.effect("falls back to the whole log when the newest snapshot is damaged or cut short", () =>
    Effect.gen(function*() {
      // One segment (never rolled, so never deleted) and a snapshot after the churn.
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords()])
      const props = { "metadata.log.max.record.bytes.between.snapshots": "4096" }
      const before = yield* withMetadata(fs, props, (m) => Effect.andThen(churn(m), m.image))
      const { segments, snapshots } = yield* listDir(fs)
      assert.deepStrictEqual(segments, [0])
      assert.strictEqual(snapshots.length, 1)
      const path = `${DIR}/${snapshots[0]}`
      const good = yield* fs.readFile(path)

      const damaged = good.slice()
      damaged[Math.floor(good.length / 2)]! ^= 0xff
      const footer = batchesOf(good).at(-1)!.header.size
      for (const bytes of [damaged, good.subarray(0, good.length - footer)]) {
        yield* fs.writeFile(path, bytes)
        const [image, warnings] = yield* withWarnings(Effect.flatMap(load(fs), (m) => m.image))
        assert.deepStrictEqual(summary(image), summary(before))
        assert.match(warnings.join("\n"), /replaying the whole log instead/)
      }
    }))

  it.effect("keeps what a damaged snapshot holds when the log below it is gone", () =>
    Effect.gen(function*() {
      const fs = MemoryFileSystem.make()
      yield* writeMetadataLog(fs, LOG_DIR, [bootstrapRecords()])
      const before = yield* withMetadata(fs, SNAPSHOTTING, (m) => Effect.andThen(churn(m), m.image))
      const { snapshots } = yield* listDir(fs)
      const path = `${DIR}/${snapshots[0]}`
      const good = yield* fs.readFile(path)
      const footer = batchesOf(good).at(-1)!.header.size
      yield* fs.writeFile(path, good.subarray(0, good.length - footer))
      // The records are all there, only the footer is missing: the broker warns and starts from them.
      const [image, warnings] = yield* withWarnings(Effect.flatMap(load(fs), (m) => m.image))
      assert.match(warnings.join("\n"), /no SnapshotFooter control batch at its end; keeping its first \d+ records/)
      assert.deepStrictEqual(summary(image), summary(before))
    }))

  it("imageRecords rebuild the image they come from", () => {
    const image = replay([
      ...bootstrapRecords(23),
      { type: "FeatureLevel", name: "transaction.version", featureLevel: 2 },
      ...topicRecords("a", TOPIC_ID, 2, 1, { metadataVersion: 23 }),
      { type: "Config", resourceType: 2, resourceName: "a", name: "cleanup.policy", value: "compact" },
      { type: "ProducerIds", brokerId: 1, brokerEpoch: 3, nextProducerId: 2000 }
    ])
    const records = imageRecords(image)
    assert.deepStrictEqual(records.map((r) => r.type), ["FeatureLevel", "FeatureLevel", "Topic", "Partition", "Partition", "Config", "ProducerIds"])
    // PartitionRecords at the version metadata.version 23 calls for, as Kafka's image writer does.
    assert.strictEqual(encodeMetadataRecord(records[3]!)[2], 2)
    assert.deepStrictEqual(summary(replay(records.map((r) => decodeMetadataRecord(encodeMetadataRecord(r))))), summary(image))
  })
})
