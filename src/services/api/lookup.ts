// Resolving the topics and partitions a request names against one metadata image, and describing them the way
// every API that lists partitions does.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import type { MetadataImage, PartitionInfo, TopicInfo } from "../metadata/MetadataImage.ts"
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

/** Authorized operations a client did not ask for, as Kafka encodes them. */
export const OPERATIONS_NOT_REQUESTED = -2147483648

/** A partition as clients see it: this node is its leader and its only replica, in sync. */
export const describePartition = (p: PartitionInfo, nodeId: number) => ({
  errorCode: ErrorCode.NONE,
  partitionIndex: p.index,
  leaderId: nodeId,
  leaderEpoch: p.leaderEpoch,
  replicaNodes: [nodeId],
  isrNodes: [nodeId],
  offlineReplicas: []
})
