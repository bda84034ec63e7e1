// The files Kafka keeps beside its log segments, in Kafka's formats so its tools read ours:
// - `<base offset>.index`: the sparse offset index, 8-byte entries (offset relative to the segment's base as
//   int32, byte position in the segment as int32), one every `index.interval.bytes` of log, in offset order;
// - `<base offset>.timeindex`: 12-byte entries (timestamp int64, relative offset int32), timestamps increasing;
// - `<base offset>.txnindex`: the aborted transactions whose ABORT marker is in the segment, 34-byte entries
//   (version int16 = 0, producer id, first offset, last offset, last stable offset after it, all int64);
// - `<offset>.snapshot`: the idempotent producers at that offset (version int16 = 1, CRC-32C of the rest, then
//   the producer entries, with the coordinator epoch and the first offset of an open transaction);
// - `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` and `cleaner-offset-checkpoint` in the
//   log dir: text, "0", the entry count, then "topic partition offset" per line;
// - `.kafka_cleanshutdown`: present when the last shutdown flushed everything.
import { crc32c } from "@node-rs/crc32"
import { ByteReader, ByteWriter, MalformedInput } from "../Bytes.ts"

export const CLEAN_SHUTDOWN = ".kafka_cleanshutdown"
export const RECOVERY_POINTS = "recovery-point-offset-checkpoint"
export const LOG_START_OFFSETS = "log-start-offset-checkpoint"
/** Where each compacted partition's last clean ended (its first dirty offset). */
export const CLEANER_OFFSETS = "cleaner-offset-checkpoint"

/**
 * Suffixes of a segment's files during a clean (Kafka's names): the cleaner writes `.cleaned`, renames those to
 * `.swap` once complete, renames the replaced segments' files to `.deleted`, then the swap files into place.
 */
export const CLEANED = ".cleaned"
export const SWAP = ".swap"
export const DELETED = ".deleted"

const pad = (offset: number) => String(offset).padStart(20, "0")

export const segmentFile = (baseOffset: number) => `${pad(baseOffset)}.log`
export const indexFile = (baseOffset: number) => `${pad(baseOffset)}.index`
export const timeIndexFile = (baseOffset: number) => `${pad(baseOffset)}.timeindex`
export const snapshotFile = (offset: number) => `${pad(offset)}.snapshot`
export const txnIndexFile = (baseOffset: number) => `${pad(baseOffset)}.txnindex`

/** The names of a segment's files: log, offset index, time index, transaction index (the log last). */
export const segmentFiles = (baseOffset: number): ReadonlyArray<string> =>
  [indexFile(baseOffset), timeIndexFile(baseOffset), txnIndexFile(baseOffset), segmentFile(baseOffset)]

/** The offset a segment, index or snapshot file is named after, or undefined for other files. */
export const fileOffset = (name: string, extension: "log" | "index" | "timeindex" | "txnindex" | "snapshot"): number | undefined => {
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
// Transaction indexes

export interface AbortedTxn {
  readonly producerId: number
  readonly firstOffset: number
  /** The offset of the ABORT marker. */
  readonly lastOffset: number
  /** The partition's last stable offset once this transaction was aborted. */
  readonly lastStableOffset: number
}

export const TXN_ENTRY = 34

export const encodeAbortedTxns = (entries: ReadonlyArray<AbortedTxn>): Uint8Array => {
  const w = new ByteWriter(Math.max(1, entries.length * TXN_ENTRY))
  for (const e of entries) {
    w.int16(0)
    w.int64(e.producerId)
    w.int64(e.firstOffset)
    w.int64(e.lastOffset)
    w.int64(e.lastStableOffset)
  }
  return w.toBytes()
}

/** Decodes whole entries of version 0; a torn last entry (a crash mid-write) is ignored. */
export const decodeAbortedTxns = (bytes: Uint8Array): Array<AbortedTxn> => {
  const r = new ByteReader(bytes)
  const out: Array<AbortedTxn> = []
  for (let i = 0; i + TXN_ENTRY <= bytes.length; i += TXN_ENTRY) {
    if (r.int16() !== 0) throw new MalformedInput(`transaction index entry ${i / TXN_ENTRY} has an unknown version`)
    out.push({ producerId: r.int64(), firstOffset: r.int64(), lastOffset: r.int64(), lastStableOffset: r.int64() })
  }
  return out
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
  /** The epoch of the coordinator that wrote the producer's last marker (-1: none). */
  readonly coordinatorEpoch: number
  /** The first offset of the producer's open transaction (-1: none). */
  readonly currentTxnFirstOffset: number
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
    w.int32(e.coordinatorEpoch)
    w.int64(e.currentTxnFirstOffset)
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
    const coordinatorEpoch = r.int32()
    const currentTxnFirstOffset = r.int64()
    out.push({ producerId, epoch, lastSequence, lastOffset, offsetDelta, timestamp, coordinatorEpoch, currentTxnFirstOffset })
  }
  return out
}
