// Topics and partitions as the broker knows them. Handlers read one immutable `MetadataImage` per request,
// so a request never sees a half-applied change. The image is built by replaying KRaft metadata records
// (`applyRecord`); the live layer replays `__cluster_metadata-0` at start.
import { Context, type Effect } from "effect"
import type { MetadataRecord } from "../protocol/MetadataRecords.ts"

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
}

export interface MetadataImage {
  readonly topics: ReadonlyMap<string, TopicInfo>
  readonly topicsById: ReadonlyMap<string, TopicInfo>
  /** metadata.version and other finalized features, from FeatureLevelRecords. */
  readonly features: ReadonlyMap<string, number>
}

export const emptyImage: MetadataImage = { topics: new Map(), topicsById: new Map(), features: new Map() }

export class ClusterMetadata extends Context.Service<ClusterMetadata, {
  readonly clusterId: string
  /** The current image; cheap, and stable for as long as the caller holds it. */
  readonly image: Effect.Effect<MetadataImage>
}>()("kafka/ClusterMetadata") {}

/** Topics sorted by name, the order Kafka lists them in. */
export const sortedTopics = (image: MetadataImage): Array<TopicInfo> =>
  [...image.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
