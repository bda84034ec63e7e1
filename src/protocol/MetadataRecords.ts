// KRaft metadata records: the values stored in `__cluster_metadata-0`. Each record value is framed as
// frame version (uvarint, 1 today; 0 accepted) + record type (uvarint) + record version (uvarint) + the body
// in flexible encoding (metadata records are flexible in every version). Only the records that shape topics,
// features and client quotas are defined here; any other type, or a version newer than we know, decodes to
// `Unknown` so a log written by a newer Kafka is still readable. `encodeMetadataBatch` wraps records the way
// Kafka's log holds them: an uncompressed RecordBatch v2 whose records have a null key and the framed record as
// value; `encodeMetadataSnapshot` frames them as a `<offset>-<epoch>.checkpoint` snapshot file.
import { ByteReader, ByteWriter, concat, MalformedInput, ZERO_UUID } from "./Bytes.ts"
import { controlType, SNAPSHOT_FOOTER, SNAPSHOT_HEADER, snapshotFooterBatch, snapshotHeaderBatch } from "./ControlRecords.ts"
import { array, bool, bytes, codec, field, float64, int16, int32, int64, int8, string, struct, tagged, type Type, type TypeOf, uuid } from "./Message.ts"
import { type BatchProblem, CONTROL, decodeRecords, encodeBatch, scanBatches } from "./RecordBatch.ts"

/** PartitionChangeRecord.leader when the leader stays as it was. */
export const NO_LEADER_CHANGE = -2
export const NO_LEADER = -1

// ---------------------------------------------------------------------------------------------------------
// Definitions (field order is wire order; tagged fields go to the tagged section wherever they are listed)

export const TopicRecord = struct({
  name: field(string),
  topicId: field(uuid)
})

export const PartitionRecord = struct({
  partitionId: field(int32),
  topicId: field(uuid),
  replicas: field(array(int32)),
  isr: field(array(int32)),
  removingReplicas: field(array(int32)),
  addingReplicas: field(array(int32)),
  leader: field(int32),
  /** 1 while recovering from an unclean election. */
  leaderRecoveryState: tagged(0, int8, "0+"),
  leaderEpoch: field(int32),
  partitionEpoch: field(int32),
  /** The log directory of each replica, in replica order (KIP-858). */
  directories: field(array(uuid), "1+"),
  eligibleLeaderReplicas: tagged(1, array(int32), "2+", { nullable: "2+", default: null }),
  lastKnownElr: tagged(2, array(int32), "2+", { nullable: "2+", default: null })
})

/** A change to one partition: every field but the ids is tagged, and absent (null / -2 / -1) means unchanged. */
export const PartitionChangeRecord = struct({
  partitionId: field(int32),
  topicId: field(uuid),
  isr: tagged(0, array(int32), "0+", { nullable: "0+", default: null }),
  /** -1: no leader now; -2: the leader did not change. */
  leader: tagged(1, int32, "0+", { default: NO_LEADER_CHANGE }),
  replicas: tagged(2, array(int32), "0+", { nullable: "0+", default: null }),
  removingReplicas: tagged(3, array(int32), "0+", { nullable: "0+", default: null }),
  addingReplicas: tagged(4, array(int32), "0+", { nullable: "0+", default: null }),
  leaderRecoveryState: tagged(5, int8, "0+", { default: -1 }),
  directories: tagged(8, array(uuid), "1+", { nullable: "1+", default: null }),
  eligibleLeaderReplicas: tagged(6, array(int32), "2+", { nullable: "2+", default: null }),
  lastKnownElr: tagged(7, array(int32), "2+", { nullable: "2+", default: null })
})

export const RemoveTopicRecord = struct({
  topicId: field(uuid)
})

/** A config of a resource (resource type 2: topic, 4: broker); a null value deletes it. */
export const ConfigRecord = struct({
  resourceType: field(int8),
  resourceName: field(string),
  name: field(string),
  value: field(string, "0+", { nullable: "0+" })
})

/** The next producer id the cluster hands out: everything below it is taken (allocated in blocks). */
export const ProducerIdsRecord = struct({
  brokerId: field(int32),
  brokerEpoch: field(int64, "0+", { default: -1 }),
  nextProducerId: field(int64)
})

/** One quota of a client entity (user, client-id, ip; a null name is the default entity); `remove` deletes it. */
export const ClientQuotaRecord = struct({
  entity: field(array(struct({
    entityType: field(string),
    entityName: field(string, "0+", { nullable: "0+" })
  }))),
  key: field(string),
  value: field(float64),
  remove: field(bool)
})

/** A user's SCRAM credential for one mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512): never the password. */
export const UserScramCredentialRecord = struct({
  name: field(string),
  mechanism: field(int8),
  salt: field(bytes),
  storedKey: field(bytes),
  serverKey: field(bytes),
  iterations: field(int32)
})

export const RemoveUserScramCredentialRecord = struct({
  name: field(string),
  mechanism: field(int8)
})

/** One ACL (Kafka's AccessControlEntryRecord): resource pattern, principal, host, operation, ALLOW/DENY. */
export const AccessControlEntryRecord = struct({
  id: field(uuid),
  resourceType: field(int8),
  resourceName: field(string),
  patternType: field(int8),
  principal: field(string),
  host: field(string),
  operation: field(int8),
  permissionType: field(int8)
})

/** Removes the ACL with this id. */
export const RemoveAccessControlEntryRecord = struct({
  id: field(uuid)
})

export const FeatureLevelRecord = struct({
  name: field(string),
  /** 0 removes the feature. */
  featureLevel: field(int16)
})

/** Record types (Kafka's metadata "apiKey"). */
export const RecordType = {
  Topic: 2,
  Partition: 3,
  Config: 4,
  PartitionChange: 5,
  RemoveTopic: 9,
  FeatureLevel: 12,
  UserScramCredential: 11,
  ClientQuota: 14,
  ProducerIds: 15,
  RemoveUserScramCredential: 22,
  AccessControlEntry: 18,
  RemoveAccessControlEntry: 19
} as const

/** The newest version of each record type that we can read. */
const MAX_VERSION = {
  Topic: 0,
  Partition: 2,
  Config: 0,
  PartitionChange: 2,
  RemoveTopic: 0,
  FeatureLevel: 0,
  ClientQuota: 0,
  ProducerIds: 0,
  UserScramCredential: 0,
  RemoveUserScramCredential: 0,
  AccessControlEntry: 0,
  RemoveAccessControlEntry: 0
} as const

export const FRAME_VERSION = 1

export const METADATA_VERSION_FEATURE = "metadata.version"
/** metadata.version 21 is Kafka 3.9-IV0. */
export const DEFAULT_METADATA_VERSION = 21

/** The PartitionRecord version Kafka writes at a metadata.version: v1 (directories) from 3.7-IV2 (17), v2
 * (eligible leader replicas) from 4.0-IV1 (23). */
export const partitionRecordVersion = (metadataVersion: number): number =>
  metadataVersion >= 23 ? 2 : metadataVersion >= 17 ? 1 : 0

// ---------------------------------------------------------------------------------------------------------
// The decoded union

export type TopicRecord = TypeOf<typeof TopicRecord>
export type PartitionRecord = TypeOf<typeof PartitionRecord>
export type PartitionChangeRecord = TypeOf<typeof PartitionChangeRecord>
export type RemoveTopicRecord = TypeOf<typeof RemoveTopicRecord>
export type FeatureLevelRecord = TypeOf<typeof FeatureLevelRecord>
export type ConfigRecord = TypeOf<typeof ConfigRecord>
export type ProducerIdsRecord = TypeOf<typeof ProducerIdsRecord>
export type ClientQuotaRecord = TypeOf<typeof ClientQuotaRecord>
export type UserScramCredentialRecord = TypeOf<typeof UserScramCredentialRecord>
export type RemoveUserScramCredentialRecord = TypeOf<typeof RemoveUserScramCredentialRecord>
export type AccessControlEntryRecord = TypeOf<typeof AccessControlEntryRecord>
export type RemoveAccessControlEntryRecord = TypeOf<typeof RemoveAccessControlEntryRecord>

type Decoded<T extends string, B> = { readonly type: T; readonly version: number } & Readonly<B>
type Encodable<T extends string, B> = { readonly type: T; readonly version?: number } & Readonly<B>

export type MetadataRecord =
  | Decoded<"Topic", TopicRecord>
  | Decoded<"Partition", PartitionRecord>
  | Decoded<"PartitionChange", PartitionChangeRecord>
  | Decoded<"RemoveTopic", RemoveTopicRecord>
  | Decoded<"FeatureLevel", FeatureLevelRecord>
  | Decoded<"Config", ConfigRecord>
  | Decoded<"ProducerIds", ProducerIdsRecord>
  | Decoded<"ClientQuota", ClientQuotaRecord>
  | Decoded<"UserScramCredential", UserScramCredentialRecord>
  | Decoded<"RemoveUserScramCredential", RemoveUserScramCredentialRecord>
  | Decoded<"AccessControlEntry", AccessControlEntryRecord>
  | Decoded<"RemoveAccessControlEntry", RemoveAccessControlEntryRecord>
  | { readonly type: "Unknown"; readonly recordType: number; readonly version: number }

/** A record to encode; `version` defaults to the lowest version that holds every field given. */
export type NewMetadataRecord =
  | Encodable<"Topic", TopicRecord>
  | Encodable<"Partition", PartitionRecord>
  | Encodable<"PartitionChange", PartitionChangeRecord>
  | Encodable<"RemoveTopic", RemoveTopicRecord>
  | Encodable<"FeatureLevel", FeatureLevelRecord>
  | Encodable<"Config", ConfigRecord>
  | Encodable<"ProducerIds", ProducerIdsRecord>
  | Encodable<"ClientQuota", ClientQuotaRecord>
  | Encodable<"UserScramCredential", UserScramCredentialRecord>
  | Encodable<"RemoveUserScramCredential", RemoveUserScramCredentialRecord>
  | Encodable<"AccessControlEntry", AccessControlEntryRecord>
  | Encodable<"RemoveAccessControlEntry", RemoveAccessControlEntryRecord>

/**
 * Decodes one framed record value. Unknown types and versions come back as `Unknown`; a known record whose
 * bytes do not parse throws `MalformedInput` (the batch's CRC held, so the caller decides whether to skip).
 */
export const decodeMetadataRecord = (value: Uint8Array): MetadataRecord => {
  const r = new ByteReader(value)
  const frame = r.uvarint()
  if (frame > FRAME_VERSION) throw new MalformedInput(`metadata record frame version ${frame}`)
  const recordType = r.uvarint()
  const version = r.uvarint()
  const body = <A>(type: Type<A>): A => {
    const out = codec(type, version, true).read(r)
    if (r.remaining !== 0) throw new MalformedInput(`${r.remaining} bytes left after metadata record ${recordType}`)
    return out
  }
  switch (recordType) {
    case RecordType.Topic:
      if (version > MAX_VERSION.Topic) break
      return { type: "Topic", version, ...body(TopicRecord) }
    case RecordType.Partition:
      if (version > MAX_VERSION.Partition) break
      return { type: "Partition", version, ...body(PartitionRecord) }
    case RecordType.PartitionChange:
      if (version > MAX_VERSION.PartitionChange) break
      return { type: "PartitionChange", version, ...body(PartitionChangeRecord) }
    case RecordType.RemoveTopic:
      if (version > MAX_VERSION.RemoveTopic) break
      return { type: "RemoveTopic", version, ...body(RemoveTopicRecord) }
    case RecordType.FeatureLevel:
      if (version > MAX_VERSION.FeatureLevel) break
      return { type: "FeatureLevel", version, ...body(FeatureLevelRecord) }
    case RecordType.Config:
      if (version > MAX_VERSION.Config) break
      return { type: "Config", version, ...body(ConfigRecord) }
    case RecordType.ProducerIds:
      if (version > MAX_VERSION.ProducerIds) break
      return { type: "ProducerIds", version, ...body(ProducerIdsRecord) }
    case RecordType.ClientQuota:
      if (version > MAX_VERSION.ClientQuota) break
      return { type: "ClientQuota", version, ...body(ClientQuotaRecord) }
    case RecordType.UserScramCredential:
      if (version > MAX_VERSION.UserScramCredential) break
      return { type: "UserScramCredential", version, ...body(UserScramCredentialRecord) }
    case RecordType.RemoveUserScramCredential:
      if (version > MAX_VERSION.RemoveUserScramCredential) break
      return { type: "RemoveUserScramCredential", version, ...body(RemoveUserScramCredentialRecord) }
    case RecordType.AccessControlEntry:
      if (version > MAX_VERSION.AccessControlEntry) break
      return { type: "AccessControlEntry", version, ...body(AccessControlEntryRecord) }
    case RecordType.RemoveAccessControlEntry:
      if (version > MAX_VERSION.RemoveAccessControlEntry) break
      return { type: "RemoveAccessControlEntry", version, ...body(RemoveAccessControlEntryRecord) }
  }
  return { type: "Unknown", recordType, version }
}

const isSet = (v: ReadonlyArray<unknown> | null | undefined): boolean => v !== null && v !== undefined

/** The lowest version that can carry what the record holds, so nothing given is silently dropped. */
const defaultVersion = (record: NewMetadataRecord): number => {
  switch (record.type) {
    case "Partition":
      if (isSet(record.eligibleLeaderReplicas) || isSet(record.lastKnownElr)) return 2
      return record.directories.length > 0 ? 1 : 0
    case "PartitionChange":
      if (isSet(record.eligibleLeaderReplicas) || isSet(record.lastKnownElr)) return 2
      return isSet(record.directories) ? 1 : 0
    default:
      return 0
  }
}

/** Encodes one record as a framed record value (the `value` of a record in the metadata log). */
export const encodeMetadataRecord = (record: NewMetadataRecord): Uint8Array => {
  const version = record.version ?? defaultVersion(record)
  if (version > MAX_VERSION[record.type]) {
    throw new Error(`${record.type}Record version ${version} is newer than this broker writes`)
  }
  const w = new ByteWriter(64)
  w.uvarint(FRAME_VERSION)
  w.uvarint(RecordType[record.type])
  w.uvarint(version)
  switch (record.type) {
    case "Topic":
      codec(TopicRecord, version, true).write(w, record)
      break
    case "Partition":
      codec(PartitionRecord, version, true).write(w, record)
      break
    case "PartitionChange":
      codec(PartitionChangeRecord, version, true).write(w, record)
      break
    case "RemoveTopic":
      codec(RemoveTopicRecord, version, true).write(w, record)
      break
    case "FeatureLevel":
      codec(FeatureLevelRecord, version, true).write(w, record)
      break
    case "Config":
      codec(ConfigRecord, version, true).write(w, record)
      break
    case "ProducerIds":
      codec(ProducerIdsRecord, version, true).write(w, record)
      break
    case "ClientQuota":
      codec(ClientQuotaRecord, version, true).write(w, record)
      break
    case "UserScramCredential":
      codec(UserScramCredentialRecord, version, true).write(w, record)
      break
    case "RemoveUserScramCredential":
      codec(RemoveUserScramCredentialRecord, version, true).write(w, record)
      break
    case "AccessControlEntry":
      codec(AccessControlEntryRecord, version, true).write(w, record)
      break
    case "RemoveAccessControlEntry":
      codec(RemoveAccessControlEntryRecord, version, true).write(w, record)
      break
  }
  return w.toBytes()
}

// ---------------------------------------------------------------------------------------------------------
// Reading a log file's bytes

export interface MetadataLogRead {
  /** Decoded records in log order, `Unknown` ones included (replay ignores them). */
  readonly records: Array<MetadataRecord>
  /** Records or batches that could not be decoded although their batch was intact, with why. */
  readonly skipped: Array<string>
  /** Bytes of whole, valid batches from the start; the rest is a torn or corrupt tail. */
  readonly validBytes: number
  readonly problem: BatchProblem | undefined
  /** The offset after the last valid batch (control batches count), undefined when there is none. */
  readonly nextOffset: number | undefined
  /** The partitionLeaderEpoch (Raft epoch) of the last valid batch. */
  readonly lastEpoch: number | undefined
  /** Where the last valid batch starts. */
  readonly lastBatchAt: number | undefined
  /** Bytes of the data batches holding records at or after `fromOffset`: what a next snapshot would fold in. */
  readonly recordBytes: number
}

/**
 * Walks the batches of a metadata log segment or snapshot, validating each (length, CRC) and decoding the
 * records at or after `fromOffset`. Control batches (leader changes, snapshot headers and footers, voter sets)
 * carry no metadata records and are passed over. Reading stops at the first invalid batch.
 */
export const readMetadataBatches = (bytes: Uint8Array, fromOffset = 0): MetadataLogRead => {
  const records: Array<MetadataRecord> = []
  const skipped: Array<string> = []
  let nextOffset: number | undefined
  let lastEpoch: number | undefined
  let lastBatchAt: number | undefined
  let recordBytes = 0
  const { problem, validBytes } = scanBatches(bytes, (header, position) => {
    const lastOffset = header.baseOffset + header.lastOffsetDelta
    nextOffset = lastOffset + 1
    lastEpoch = header.partitionLeaderEpoch
    lastBatchAt = position
    if ((header.attributes & CONTROL) !== 0 || lastOffset < fromOffset) return
    recordBytes += header.size
    let batch
    try {
      batch = decodeRecords(bytes.subarray(position, position + header.size))
    } catch (e) {
      skipped.push(`batch at offset ${header.baseOffset}: ${(e as Error).message}`)
      return
    }
    for (const record of batch) {
      if (record.offset < fromOffset || record.value === null) continue
      try {
        records.push(decodeMetadataRecord(record.value))
      } catch (e) {
        skipped.push(`record at offset ${record.offset}: ${(e as Error).message}`)
      }
    }
  })
  return { records, skipped, validBytes, problem, nextOffset, lastEpoch, lastBatchAt, recordBytes }
}

const controlTypeAt = (bytes: Uint8Array, at: number): number | undefined => {
  try {
    return controlType(bytes.subarray(at))
  } catch {
    return undefined
  }
}

/**
 * Reads a snapshot file: a SnapshotHeader control batch, batches of records numbered on from offset 1, a
 * SnapshotFooter control batch. Kafka refuses a snapshot that does not open with its header; one without its
 * footer was cut short. Either is reported as the file's problem, like a torn batch.
 */
export const readMetadataSnapshot = (bytes: Uint8Array): MetadataLogRead => {
  const read = readMetadataBatches(bytes)
  if (read.problem !== undefined) return read
  if (read.lastBatchAt === undefined || controlTypeAt(bytes, 0) !== SNAPSHOT_HEADER) {
    return { ...read, problem: { kind: "invalid", detail: "no SnapshotHeader control batch at its start" } }
  }
  if (controlTypeAt(bytes, read.lastBatchAt) !== SNAPSHOT_FOOTER) {
    return { ...read, problem: { kind: "truncated", detail: "no SnapshotFooter control batch at its end" } }
  }
  return read
}

// ---------------------------------------------------------------------------------------------------------
// Batches and the records a new log or a new topic needs

export interface MetadataBatchOptions {
  readonly baseOffset: number
  /** The Raft leader epoch the batch was written in; Kafka stores it as the batch's partitionLeaderEpoch. */
  readonly epoch?: number
  readonly timestamp?: number
}

/** One uncompressed RecordBatch v2 holding `records` in order: null keys, framed records as values. */
export const encodeMetadataBatch = (
  records: ReadonlyArray<NewMetadataRecord>,
  options: MetadataBatchOptions
): Uint8Array =>
  encodeBatch(
    records.map((record) => ({ key: null, value: encodeMetadataRecord(record) })),
    { baseOffset: options.baseOffset, partitionLeaderEpoch: options.epoch ?? 1, timestamp: options.timestamp }
  )

export interface SnapshotOptions {
  /** The epoch of the snapshot's id: the Raft epoch of the last record it contains. */
  readonly epoch: number
  /** The append time of that record, kept in the SnapshotHeader. */
  readonly lastContainedLogTimestamp: number
  readonly timestamp: number
}

/** Kafka's snapshot emitter hands its writer the image's records this many at a time. */
const SNAPSHOT_BATCH_RECORDS = 1024

/**
 * A snapshot file as Kafka's RecordsSnapshotWriter lays it out: a control batch with the SnapshotHeader at
 * offset 0, `records` in batches from offset 1, a control batch with the SnapshotFooter after them. All batches
 * carry the snapshot's epoch; offsets here count within the file, the log offset is in the file's name.
 */
export const encodeMetadataSnapshot = (records: ReadonlyArray<NewMetadataRecord>, options: SnapshotOptions): Uint8Array => {
  const { epoch, timestamp } = options
  const parts = [snapshotHeaderBatch(options.lastContainedLogTimestamp, { baseOffset: 0, epoch, timestamp })]
  let offset = 1
  for (let i = 0; i < records.length; i += SNAPSHOT_BATCH_RECORDS) {
    const batch = records.slice(i, i + SNAPSHOT_BATCH_RECORDS)
    parts.push(encodeMetadataBatch(batch, { baseOffset: offset, epoch, timestamp }))
    offset += batch.length
  }
  parts.push(snapshotFooterBatch({ baseOffset: offset, epoch, timestamp }))
  return concat(parts)
}

/** What a new metadata log starts with: the FeatureLevelRecord for metadata.version. */
export const bootstrapRecords = (metadataVersion: number = DEFAULT_METADATA_VERSION): Array<NewMetadataRecord> => [
  { type: "FeatureLevel", name: METADATA_VERSION_FEATURE, featureLevel: metadataVersion }
]

export interface TopicRecordsOptions {
  /** Decides the PartitionRecord version (see `partitionRecordVersion`); the default is DEFAULT_METADATA_VERSION. */
  readonly metadataVersion?: number
}

/**
 * The records Kafka's controller writes for a new topic on a single node: the TopicRecord, then one
 * PartitionRecord per partition led by `nodeId` (replicas = isr = [nodeId], leader epoch 0, partition epoch
 * 0). From metadata.version 17 the partitions carry their replica's directory, left unassigned (the zero UUID):
 * we keep no `directory.id`, and Kafka itself leaves it unassigned until the broker names its directory.
 */
export const topicRecords = (
  name: string,
  topicId: string,
  partitionCount: number,
  nodes: Placement,
  options: TopicRecordsOptions = {}
): Array<NewMetadataRecord> => [{ type: "Topic", name, topicId }, ...partitionRecords(topicId, 0, partitionCount, nodes, options)]

/**
 * Where partitions go: one node for all (its only replica and leader), or each partition's replicas with their
 * leader (a replica, in sync).
 */
export type Placement = number | ((partitionId: number) => { readonly replicas: ReadonlyArray<number>; readonly leader: number })

/** PartitionRecords for partitions `from` up to (not including) `to` of a topic, placed by `nodes`. */
export const partitionRecords = (
  topicId: string,
  from: number,
  to: number,
  nodes: Placement,
  options: TopicRecordsOptions = {}
): Array<NewMetadataRecord> => {
  const version = partitionRecordVersion(options.metadataVersion ?? DEFAULT_METADATA_VERSION)
  const out: Array<NewMetadataRecord> = []
  for (let partitionId = from; partitionId < to; partitionId++) {
    const { replicas, leader } = typeof nodes === "number" ? { replicas: [nodes], leader: nodes } : nodes(partitionId)
    out.push({
      type: "Partition",
      version,
      partitionId,
      topicId,
      replicas: [...replicas],
      isr: [...replicas],
      removingReplicas: [],
      addingReplicas: [],
      leader,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: version >= 1 ? replicas.map(() => ZERO_UUID) : []
    })
  }
  return out
}
