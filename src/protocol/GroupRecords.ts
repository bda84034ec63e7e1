// Committed offsets as Kafka keeps them in `__consumer_offsets`: keyed records whose key is
// OffsetCommitKey (version 1: group, topic, partition) and whose value is OffsetCommitValue (version 3: offset,
// leader epoch, metadata, commit time), or null (a tombstone: the offset was deleted). Each key and value
// starts with its int16 version. Keys of other versions (group metadata, version 2) are passed over.
import { ByteReader, ByteWriter } from "./Bytes.ts"
import { array, codec, field, int32, int64, int8, string, struct, tagged, type Type, type TypeOf, uuid } from "./Message.ts"

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

// ---------------------------------------------------------------------------------------------------------
// Consumer groups (KIP-848), as Kafka's group coordinator writes them: the key's int16 version is the record
// type (3 group metadata, 5 member metadata, 6 target assignment metadata, 7 target assignment of a member,
// 8 current assignment of a member; 4, the partition metadata that 4.1 replaced by a hash in the group metadata,
// is passed over); the values are version 0, flexible.

const TopicPartitions = array(struct({ topicId: field(uuid), partitions: field(array(int32)) }))

const GroupKey = struct({ groupId: field(string) })
const MemberKey = struct({ groupId: field(string), memberId: field(string) })

const ConsumerGroupMetadataValue = struct({
  epoch: field(int32),
  metadataHash: tagged(0, int64, "0+", { default: 0 })
})
const ConsumerGroupMemberMetadataValue = struct({
  instanceId: field(string, "0+", { nullable: "0+" }),
  rackId: field(string, "0+", { nullable: "0+" }),
  clientId: field(string),
  clientHost: field(string),
  subscribedTopicNames: field(array(string)),
  subscribedTopicRegex: field(string, "0+", { nullable: "0+" }),
  rebalanceTimeoutMs: field(int32, "0+", { default: -1 }),
  serverAssignor: field(string, "0+", { nullable: "0+" })
})
const ConsumerGroupTargetAssignmentMetadataValue = struct({ assignmentEpoch: field(int32) })
const ConsumerGroupTargetAssignmentMemberValue = struct({ topicPartitions: field(TopicPartitions) })
const ConsumerGroupCurrentMemberAssignmentValue = struct({
  memberEpoch: field(int32),
  previousMemberEpoch: field(int32),
  state: field(int8),
  assignedPartitions: field(TopicPartitions),
  partitionsPendingRevocation: field(TopicPartitions)
})

export type TopicPartitionsRecord = TypeOf<typeof TopicPartitions>

export type ConsumerGroupRecord =
  | { readonly type: 3; readonly groupId: string; readonly value: TypeOf<typeof ConsumerGroupMetadataValue> | null }
  | { readonly type: 5; readonly groupId: string; readonly memberId: string; readonly value: TypeOf<typeof ConsumerGroupMemberMetadataValue> | null }
  | { readonly type: 6; readonly groupId: string; readonly value: TypeOf<typeof ConsumerGroupTargetAssignmentMetadataValue> | null }
  | { readonly type: 7; readonly groupId: string; readonly memberId: string; readonly value: TypeOf<typeof ConsumerGroupTargetAssignmentMemberValue> | null }
  | { readonly type: 8; readonly groupId: string; readonly memberId: string; readonly value: TypeOf<typeof ConsumerGroupCurrentMemberAssignmentValue> | null }

const VALUES = {
  3: ConsumerGroupMetadataValue,
  5: ConsumerGroupMemberMetadataValue,
  6: ConsumerGroupTargetAssignmentMetadataValue,
  7: ConsumerGroupTargetAssignmentMemberValue,
  8: ConsumerGroupCurrentMemberAssignmentValue
} as const

const isMemberKeyed = (type: number) => type === 5 || type === 7 || type === 8

/** A consumer group record as key and value bytes (a null value: a tombstone). */
export const encodeConsumerGroupRecord = (record: ConsumerGroupRecord): { key: Uint8Array; value: Uint8Array | null } => {
  const key = isMemberKeyed(record.type)
    ? versioned(record.type, codec(MemberKey, record.type, false).write, { groupId: record.groupId, memberId: (record as { memberId: string }).memberId })
    : versioned(record.type, codec(GroupKey, record.type, false).write, { groupId: record.groupId })
  const value = record.value === null
    ? null
    : versioned(0, codec(VALUES[record.type] as Type<unknown>, 0, true).write, record.value)
  return { key, value }
}

/** The consumer group record in a key and value of `__consumer_offsets`, or undefined for other kinds. */
export const decodeConsumerGroupRecord = (key: Uint8Array, value: Uint8Array | null): ConsumerGroupRecord | undefined => {
  const r = new ByteReader(key)
  const type = r.int16()
  if (type !== 3 && type !== 5 && type !== 6 && type !== 7 && type !== 8) return undefined
  const k = isMemberKeyed(type) ? codec(MemberKey, type, false).read(r) : { ...codec(GroupKey, type, false).read(r), memberId: "" }
  let v: unknown = null
  if (value !== null) {
    const vr = new ByteReader(value)
    const version = vr.int16()
    v = codec(VALUES[type] as Type<unknown>, version, true).read(vr)
  }
  return { type, groupId: k.groupId, memberId: k.memberId, value: v } as ConsumerGroupRecord
}
