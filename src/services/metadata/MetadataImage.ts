// Topics and partitions as the broker knows them, the pure core of the metadata subsystem. Handlers read one
// immutable `MetadataImage` per request, so a request never sees a half-applied change. The image is built by
// replaying KRaft metadata records (`applyRecord`, `replay`), following Kafka's own replay rules; the live layer
// (layers/metadata/KRaftMetadata.ts) replays `__cluster_metadata-0` at start. Records that refer to a topic or
// partition the image does not hold are ignored rather than fatal: a log read partially (torn tail, skipped
// unknown records) must still give a usable image. `imageRecords` goes the other way: the records a snapshot
// holds to rebuild the image.
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import type { StoredAcl } from "../auth/Authorizer.ts"
import {
  DEFAULT_METADATA_VERSION,
  METADATA_VERSION_FEATURE,
  type MetadataRecord,
  type NewMetadataRecord,
  NO_LEADER_CHANGE,
  partitionRecordVersion
} from "../../protocol/MetadataRecords.ts"

export interface PartitionInfo {
  readonly index: number
  readonly leader: number
  readonly leaderEpoch: number
  readonly partitionEpoch: number
  readonly replicas: ReadonlyArray<number>
  readonly isr: ReadonlyArray<number>
}

export interface TopicInfo {
  readonly name: string
  readonly id: string
  /** Indexed by partition number. */
  readonly partitions: ReadonlyArray<PartitionInfo>
  /** Topic-level config overrides (`retention.ms`, `cleanup.policy`, ...), from ConfigRecords. */
  readonly configs: ReadonlyMap<string, string>
}

export interface MetadataImage {
  readonly topics: ReadonlyMap<string, TopicInfo>
  readonly topicsById: ReadonlyMap<string, TopicInfo>
  /** metadata.version and other finalized features, from FeatureLevelRecords. */
  readonly features: ReadonlyMap<string, number>
  /** Every producer id below this one has been handed out (ProducerIdsRecord). */
  readonly nextProducerId: number
  /** Dynamic broker configs by resource name: "" the cluster-wide default, else a node id (ConfigRecords). */
  readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>
  /** Client quotas by entity (`quotaEntityKey`), from ClientQuotaRecords. */
  readonly clientQuotas: ReadonlyMap<string, ClientQuota>
  /** SCRAM credentials by user, then mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512), from UserScramCredentialRecords. */
  readonly scramCredentials: ReadonlyMap<string, ReadonlyMap<number, StoredScramCredential>>
  /** ACLs by id, from AccessControlEntryRecords (a new map whenever one changes). */
  readonly acls: ReadonlyMap<string, StoredAcl>
}

export interface StoredScramCredential {
  readonly salt: Uint8Array
  readonly storedKey: Uint8Array
  readonly serverKey: Uint8Array
  readonly iterations: number
}

/** One part of a client quota entity: its type (`user`, `client-id`, `ip`) and name, null for the default entity. */
export interface QuotaEntityPart {
  readonly entityType: string
  readonly entityName: string | null
}

export interface ClientQuota {
  /** The entity's parts, sorted by type. */
  readonly entity: ReadonlyArray<QuotaEntityPart>
  /** Quota key (`producer_byte_rate`, ...) → value. */
  readonly values: ReadonlyMap<string, number>
}

/** The entity's parts sorted by type: the same entity whatever order a request or record lists them in. */
export const sortedEntity = (entity: ReadonlyArray<QuotaEntityPart>): Array<QuotaEntityPart> =>
  entity.map(({ entityType, entityName }) => ({ entityType, entityName }))
    .sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0))

/** The key of an entity in `MetadataImage.clientQuotas`. */
export const quotaEntityKey = (entity: ReadonlyArray<QuotaEntityPart>): string =>
  JSON.stringify(sortedEntity(entity).map((p) => [p.entityType, p.entityName]))

export const emptyImage: MetadataImage = {
  topics: new Map(),
  topicsById: new Map(),
  features: new Map(),
  nextProducerId: 0,
  brokerConfigs: new Map(),
  clientQuotas: new Map(),
  scramCredentials: new Map(),
  acls: new Map()
}

/** Resource types of ConfigRecords. */
export const ConfigResource = { Topic: 2, Broker: 4 } as const

// ---------------------------------------------------------------------------------------------------------
// Replay

/**
 * The maps of an image under construction. `replay` applies many records to one draft so a long log costs
 * one copy of the maps, not one per record; `applyRecord` copies for a single record.
 */
interface Draft {
  readonly topics: Map<string, TopicInfo>
  readonly topicsById: Map<string, TopicInfo>
  readonly features: Map<string, number>
  nextProducerId: number
  brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>
  readonly clientQuotas: Map<string, ClientQuota>
  readonly scramCredentials: Map<string, ReadonlyMap<number, StoredScramCredential>>
  acls: ReadonlyMap<string, StoredAcl>
  /** Partition arrays made by this draft: changed in place, so a topic's 20,000 PartitionRecords cost one copy. */
  readonly ownArrays: WeakSet<ReadonlyArray<PartitionInfo>>
}

const draftOf = (image: MetadataImage): Draft => ({
  topics: new Map(image.topics),
  topicsById: new Map(image.topicsById),
  features: new Map(image.features),
  nextProducerId: image.nextProducerId,
  brokerConfigs: image.brokerConfigs,
  clientQuotas: new Map(image.clientQuotas),
  scramCredentials: new Map(image.scramCredentials),
  acls: image.acls,
  ownArrays: new WeakSet()
})

const putTopic = (d: Draft, topic: TopicInfo): void => {
  // A name or id held by a different topic is stale (Kafka removes before it reuses a name): drop it.
  const byName = d.topics.get(topic.name)
  if (byName !== undefined && byName.id !== topic.id) d.topicsById.delete(byName.id)
  const byId = d.topicsById.get(topic.id)
  if (byId !== undefined && byId.name !== topic.name) d.topics.delete(byId.name)
  d.topics.set(topic.name, topic)
  d.topicsById.set(topic.id, topic)
}

/** The topic with one partition replaced. The controller writes a topic's partitions 0..n-1 in one atomic
 * batch, so the array is dense once that batch is applied. Images already handed out are never changed. */
const withPartition = (d: Draft, topic: TopicInfo, partition: PartitionInfo): TopicInfo => {
  let partitions = topic.partitions as Array<PartitionInfo>
  if (!d.ownArrays.has(partitions)) {
    partitions = partitions.slice()
    d.ownArrays.add(partitions)
  }
  partitions[partition.index] = partition
  return { ...topic, partitions }
}

/** Records read from the log, or records being committed (their version is not needed to apply them). */
type AnyRecord = MetadataRecord | NewMetadataRecord

const apply = (d: Draft, record: AnyRecord): void => {
  switch (record.type) {
    case "Topic": {
      const existing = d.topicsById.get(record.topicId)
      putTopic(d, {
        name: record.name,
        id: record.topicId,
        partitions: existing?.partitions ?? [],
        configs: existing?.configs ?? new Map()
      })
      return
    }
    case "Config": {
      if (record.resourceType === ConfigResource.Broker) {
        // A new map per change: images already handed out keep theirs (and caches keyed by it stay right).
        const all = new Map(d.brokerConfigs)
        const configs = new Map(all.get(record.resourceName))
        if (record.value === null) configs.delete(record.name)
        else configs.set(record.name, record.value)
        if (configs.size === 0) all.delete(record.resourceName)
        else all.set(record.resourceName, configs)
        d.brokerConfigs = all
        return
      }
      const topic = record.resourceType === ConfigResource.Topic ? d.topics.get(record.resourceName) : undefined
      if (topic === undefined) return
      const configs = new Map(topic.configs)
      if (record.value === null) configs.delete(record.name)
      else configs.set(record.name, record.value)
      putTopic(d, { ...topic, configs })
      return
    }
    case "ProducerIds":
      d.nextProducerId = Math.max(d.nextProducerId, record.nextProducerId)
      return
    case "Partition": {
      const topic = d.topicsById.get(record.topicId)
      if (topic === undefined) return
      putTopic(d, withPartition(d, topic, {
        index: record.partitionId,
        leader: record.leader,
        leaderEpoch: record.leaderEpoch,
        partitionEpoch: record.partitionEpoch,
        replicas: record.replicas,
        isr: record.isr
      }))
      return
    }
    case "PartitionChange": {
      const topic = d.topicsById.get(record.topicId)
      const current = topic?.partitions[record.partitionId]
      if (topic === undefined || current === undefined) return
      // As Kafka's PartitionRegistration.merge: any leader other than "no change" starts a new leader epoch
      // (even the same leader, which is how the controller forces a bump), and every change bumps the
      // partition epoch.
      const leader = record.leader ?? NO_LEADER_CHANGE
      const changed = leader !== NO_LEADER_CHANGE
      putTopic(d, withPartition(d, topic, {
        index: current.index,
        leader: changed ? leader : current.leader,
        leaderEpoch: changed ? current.leaderEpoch + 1 : current.leaderEpoch,
        partitionEpoch: current.partitionEpoch + 1,
        replicas: record.replicas ?? current.replicas,
        isr: record.isr ?? current.isr
      }))
      return
    }
    case "RemoveTopic": {
      const topic = d.topicsById.get(record.topicId)
      if (topic === undefined) return
      d.topicsById.delete(topic.id)
      if (d.topics.get(topic.name)?.id === topic.id) d.topics.delete(topic.name)
      return
    }
    case "FeatureLevel":
      // Level 0 means the feature is no longer finalized, as in Kafka's FeaturesDelta.
      if (record.featureLevel === 0) d.features.delete(record.name)
      else d.features.set(record.name, record.featureLevel)
      return
    case "ClientQuota": {
      // As Kafka's ClientQuotasDelta: a removal of the last value removes the entity.
      const key = quotaEntityKey(record.entity)
      const values = new Map(d.clientQuotas.get(key)?.values)
      if (record.remove) values.delete(record.key)
      else values.set(record.key, record.value)
      if (values.size === 0) d.clientQuotas.delete(key)
      else d.clientQuotas.set(key, { entity: sortedEntity(record.entity), values })
      return
    }
    case "UserScramCredential": {
      const m = new Map(d.scramCredentials.get(record.name))
      m.set(record.mechanism, { salt: record.salt, storedKey: record.storedKey, serverKey: record.serverKey, iterations: record.iterations })
      d.scramCredentials.set(record.name, m)
      return
    }
    case "RemoveUserScramCredential": {
      const m = new Map(d.scramCredentials.get(record.name))
      m.delete(record.mechanism)
      if (m.size === 0) d.scramCredentials.delete(record.name)
      else d.scramCredentials.set(record.name, m)
      return
    }
    case "AccessControlEntry": {
      const acls = new Map(d.acls)
      acls.set(record.id, {
        id: record.id,
        resourceType: record.resourceType,
        resourceName: record.resourceName,
        patternType: record.patternType,
        principal: record.principal,
        host: record.host,
        operation: record.operation,
        permissionType: record.permissionType
      })
      d.acls = acls
      return
    }
    case "RemoveAccessControlEntry": {
      if (!d.acls.has(record.id)) return
      const acls = new Map(d.acls)
      acls.delete(record.id)
      d.acls = acls
      return
    }
    case "Unknown":
      return
  }
}

/** The image after one record; `image` is left as it was. */
export const applyRecord = (image: MetadataImage, record: AnyRecord): MetadataImage => {
  if (record.type === "Unknown") return image
  const d = draftOf(image)
  apply(d, record)
  return d
}

/** The image after replaying `records` in order onto `from` (by default, an empty image). */
export const replay = (records: Iterable<AnyRecord>, from: MetadataImage = emptyImage): MetadataImage => {
  const d = draftOf(from)
  for (const record of records) apply(d, record)
  return d
}

/** Topics sorted by name, the order Kafka lists them in. */
export const sortedTopics = (image: MetadataImage): Array<TopicInfo> =>
  [...image.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

// ---------------------------------------------------------------------------------------------------------
// Snapshot

/**
 * The records that rebuild `image` when replayed onto an empty one, in the order of Kafka's image writer:
 * metadata.version first (it decides how later records are read), the other features, each topic followed by
 * its partitions, the topic configs, the client quotas, the ACLs, the next producer id. Partitions are written at the
 * record version of the image's metadata.version, with what the image keeps of them (no reassignment in flight,
 * directories unassigned, as `partitionRecords` writes them).
 */
export const imageRecords = (image: MetadataImage): Array<NewMetadataRecord> => {
  const out: Array<NewMetadataRecord> = []
  const metadataVersion = image.features.get(METADATA_VERSION_FEATURE)
  if (metadataVersion !== undefined) out.push({ type: "FeatureLevel", name: METADATA_VERSION_FEATURE, featureLevel: metadataVersion })
  for (const [name, featureLevel] of image.features) {
    if (name !== METADATA_VERSION_FEATURE) out.push({ type: "FeatureLevel", name, featureLevel })
  }
  const version = partitionRecordVersion(metadataVersion ?? DEFAULT_METADATA_VERSION)
  for (const topic of image.topicsById.values()) {
    out.push({ type: "Topic", name: topic.name, topicId: topic.id })
    for (const p of topic.partitions) {
      // A partially read log can leave holes in the array.
      if (p === undefined) continue
      out.push({
        type: "Partition",
        version,
        partitionId: p.index,
        topicId: topic.id,
        replicas: [...p.replicas],
        isr: [...p.isr],
        removingReplicas: [],
        addingReplicas: [],
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        directories: version >= 1 ? p.replicas.map(() => ZERO_UUID) : []
      })
    }
  }
  for (const topic of image.topicsById.values()) {
    for (const [name, value] of topic.configs) {
      out.push({ type: "Config", resourceType: ConfigResource.Topic, resourceName: topic.name, name, value })
    }
  }
  for (const [resourceName, configs] of image.brokerConfigs) {
    for (const [name, value] of configs) out.push({ type: "Config", resourceType: ConfigResource.Broker, resourceName, name, value })
  }
  for (const { entity, values } of image.clientQuotas.values()) {
    for (const [key, value] of values) out.push({ type: "ClientQuota", entity: [...entity], key, value, remove: false })
  }
  for (const [name, byMechanism] of image.scramCredentials) {
    for (const [mechanism, c] of byMechanism) out.push({ type: "UserScramCredential", name, mechanism, ...c })
  }
  for (const acl of image.acls.values()) out.push({ type: "AccessControlEntry", ...acl })
  if (image.nextProducerId > 0) out.push({ type: "ProducerIds", brokerId: -1, brokerEpoch: -1, nextProducerId: image.nextProducerId })
  return out
}
