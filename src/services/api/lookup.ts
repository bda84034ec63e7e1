// Resolving the topics and partitions a request names against one metadata image.
import { Effect } from "effect"
import type { MetadataImage, PartitionInfo, TopicInfo } from "../ClusterMetadata.ts"
import { UnknownTopicOrPartition } from "../Errors.ts"

export const lookupPartition = (
  image: MetadataImage,
  topic: string,
  partition: number
): Effect.Effect<{ readonly topic: TopicInfo; readonly partition: PartitionInfo }, UnknownTopicOrPartition> => {
  const t = image.topics.get(topic)
  const p = t?.partitions[partition]
  return t === undefined || p === undefined
    ? Effect.fail(new UnknownTopicOrPartition({ topic, partition }))
    : Effect.succeed({ topic: t, partition: p })
}

/** Kafka's topic name rule: 1 to 249 characters of `[a-zA-Z0-9._-]`, and neither `.` nor `..`. */
export const isValidTopicName = (name: string): boolean =>
  name.length > 0 && name.length <= 249 && name !== "." && name !== ".." && /^[a-zA-Z0-9._-]+$/.test(name)
