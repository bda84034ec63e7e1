// Committed offsets as Kafka keeps them in `__consumer_offsets`: keyed records whose key is
// OffsetCommitKey (version 1: group, topic, partition) and whose value is OffsetCommitValue (version 3: offset,
// leader epoch, metadata, commit time), or null (a tombstone: the offset was deleted). Each key and value
// starts with its int16 version. Keys of other versions (group metadata, version 2) are passed over.
import { ByteReader, ByteWriter } from "./Bytes.ts"
import { codec, field, int32, int64, string, struct, type TypeOf } from "./Message.ts"

const OffsetCommitKey = struct({
  group: field(string),
  topic: field(string),
  partition: field(int32)
})

const OffsetCommitValue = struct({
  offset: field(int64),
  leaderEpoch: field(int32, "3+", { default: -1 }),
  metadata: field(string),
  commitTimestamp: field(int64),
  expireTimestamp: field(int64, "1", { default: -1 })
})

export type OffsetKey = TypeOf<typeof OffsetCommitKey>
export type OffsetValue = TypeOf<typeof OffsetCommitValue>

const KEY_VERSION = 1
const VALUE_VERSION = 3

const versioned = <A>(version: number, write: (w: ByteWriter, value: A) => void, value: A): Uint8Array => {
  const w = new ByteWriter(64)
  w.int16(version)
  write(w, value)
  return w.toBytes()
}

export const encodeOffsetKey = (key: OffsetKey): Uint8Array =>
  versioned(KEY_VERSION, codec(OffsetCommitKey, KEY_VERSION, false).write, key)

export const encodeOffsetValue = (value: Omit<OffsetValue, "expireTimestamp">): Uint8Array =>
  versioned(VALUE_VERSION, codec(OffsetCommitValue, VALUE_VERSION, false).write, { ...value, expireTimestamp: -1 })

/** The offset key in a record key, or undefined for keys of other kinds (group metadata). */
export const decodeOffsetKey = (bytes: Uint8Array): OffsetKey | undefined => {
  const r = new ByteReader(bytes)
  const version = r.int16()
  return version === 0 || version === 1 ? codec(OffsetCommitKey, version, false).read(r) : undefined
}

/** Values of versions 0-3 are read; version 4 is flexible (tagged fields) and read as such. */
export const decodeOffsetValue = (bytes: Uint8Array): OffsetValue => {
  const r = new ByteReader(bytes)
  const version = r.int16()
  return codec(OffsetCommitValue, version, version >= 4).read(r)
}
