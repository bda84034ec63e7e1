// The files Kafka keeps beside its log segments, in Kafka's formats so its tools read ours:
// - `<base offset>.index`: the sparse offset index, 8-byte entries (offset relative to the segment's base as
//   int32, byte position in the segment as int32), one every `index.interval.bytes` of log, in offset order;
// - `<base offset>.timeindex`: 12-byte entries (timestamp int64, relative offset int32), timestamps increasing;
// - `<offset>.snapshot`: the idempotent producers at that offset (version int16 = 1, CRC-32C of the rest, then
//   the producer entries);
// - `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` in the log dir: text, "0", the entry
//   count, then "topic partition offset" per line;
// - `.kafka_cleanshutdown`: present when the last shutdown flushed everything.
import { crc32c } from "@node-rs/crc32"
import { ByteReader, ByteWriter, MalformedInput } from "../Bytes.ts"

export const CLEAN_SHUTDOWN = ".kafka_cleanshutdown"
export const RECOVERY_POINTS = "recovery-point-offset-checkpoint"
export const LOG_START_OFFSETS = "log-start-offset-checkpoint"

const pad = (offset: number) => String(offset).padStart(20, "0")

export const segmentFile = (baseOffset: number) => `${pad(baseOffset)}.log`
export const indexFile = (baseOffset: number) => `${pad(baseOffset)}.index`
export const timeIndexFile = (baseOffset: number) => `${pad(baseOffset)}.timeindex`
export const snapshotFile = (offset: number) => `${pad(offset)}.snapshot`

/** The offset a segment, index or snapshot file is named after, or undefined for other files. */
export const fileOffset = (name: string, extension: "log" | "index" | "timeindex" | "snapshot"): number | undefined => {
  const m = /^(\d{20})\.([a-z]+)$/.exec(name)
  return m !== null && m[2] === extension ? Number(m[1]) : undefined
}

// ---------------------------------------------------------------------------------------------------------
// Indexes

export const OFFSET_ENTRY = 8
export const TIME_ENTRY = 12

/** Decodes whole entries; a torn last entry (a crash mid-write) is ignored. */
export const decodeOffsetIndex = (bytes: Uint8Array): { relativeOffsets: Int32Array; positions: Int32Array } => {
  const n = Math.floor(bytes.length / OFFSET_ENTRY)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const relativeOffsets = new Int32Array(n)
  const positions = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    relativeOffsets[i] = view.getInt32(i * OFFSET_ENTRY)
    positions[i] = view.getInt32(i * OFFSET_ENTRY + 4)
  }
  return { relativeOffsets, positions }
}

export const encodeOffsetIndex = (relativeOffsets: Int32Array, positions: Int32Array, count: number): Uint8Array => {
  const out = new Uint8Array(count * OFFSET_ENTRY)
  const view = new DataView(out.buffer)
  for (let i = 0; i < count; i++) {
    view.setInt32(i * OFFSET_ENTRY, relativeOffsets[i]!)
    view.setInt32(i * OFFSET_ENTRY + 4, positions[i]!)
  }
  return out
}

export const decodeTimeIndex = (bytes: Uint8Array): { timestamps: Float64Array; relativeOffsets: Int32Array } => {
  const n = Math.floor(bytes.length / TIME_ENTRY)
  const r = new ByteReader(bytes)
  const timestamps = new Float64Array(n)
  const relativeOffsets = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = r.int64()
    relativeOffsets[i] = r.int32()
  }
  return { timestamps, relativeOffsets }
}

export const encodeTimeIndex = (timestamps: Float64Array, relativeOffsets: Int32Array, count: number): Uint8Array => {
  const w = new ByteWriter(Math.max(count * TIME_ENTRY, 1))
  for (let i = 0; i < count; i++) {
    w.int64(timestamps[i]!)
    w.int32(relativeOffsets[i]!)
  }
  return w.toBytes()
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoints

export interface CheckpointEntry {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

export const formatCheckpoint = (entries: ReadonlyArray<CheckpointEntry>): string =>
  ["0", String(entries.length), ...entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`)].join("\n") + "\n"

/** Parses a checkpoint file; anything unexpected means there is no usable checkpoint. */
export const parseCheckpoint = (text: string): Array<CheckpointEntry> | undefined => {
  const lines = text.split("\n").filter((l) => l.length > 0)
  if (lines[0] !== "0" || Number(lines[1]) !== lines.length - 2) return undefined
  const out: Array<CheckpointEntry> = []
  for (const line of lines.slice(2)) {
    const m = /^(\S+) (\d+) (-?\d+)$/.exec(line)
    if (m === null) return undefined
    out.push({ topic: m[1]!, partition: Number(m[2]), offset: Number(m[3]) })
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Producer snapshots

export interface SnapshotEntry {
  readonly producerId: number
  readonly epoch: number
  readonly lastSequence: number
  readonly lastOffset: number
  /** lastOffset - the first offset of the producer's last batch. */
  readonly offsetDelta: number
  readonly timestamp: number
}

const SNAPSHOT_VERSION = 1
const ENTRIES_START = 6

export const encodeProducerSnapshot = (entries: ReadonlyArray<SnapshotEntry>): Uint8Array => {
  const w = new ByteWriter(ENTRIES_START + 4 + entries.length * 46)
  w.int16(SNAPSHOT_VERSION)
  w.uint32(0)
  w.int32(entries.length)
  for (const e of entries) {
    w.int64(e.producerId)
    w.int16(e.epoch)
    w.int32(e.lastSequence)
    w.int64(e.lastOffset)
    w.int32(e.offsetDelta)
    w.int64(e.timestamp)
    w.int32(-1) // coordinator epoch: no transactions
    w.int64(-1) // first offset of the open transaction: none
  }
  const bytes = w.toBytes()
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(2, crc32c(bytes.subarray(ENTRIES_START)) >>> 0)
  return bytes
}

export const decodeProducerSnapshot = (bytes: Uint8Array): Array<SnapshotEntry> => {
  const r = new ByteReader(bytes)
  const version = r.int16()
  if (version !== SNAPSHOT_VERSION) throw new MalformedInput(`producer snapshot version ${version}`)
  const crc = r.uint32()
  if ((crc32c(bytes.subarray(ENTRIES_START)) >>> 0) !== crc) throw new MalformedInput("producer snapshot CRC mismatch")
  const n = r.int32()
  const out: Array<SnapshotEntry> = []
  for (let i = 0; i < n; i++) {
    const producerId = r.int64()
    const epoch = r.int16()
    const lastSequence = r.int32()
    const lastOffset = r.int64()
    const offsetDelta = r.int32()
    const timestamp = r.int64()
    r.int32()
    r.int64()
    out.push({ producerId, epoch, lastSequence, lastOffset, offsetDelta, timestamp })
  }
  return out
}
