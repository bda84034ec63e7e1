// Resolving the topics and partitions a request names against one metadata image, and describing them the way
// every API that lists partitions does.
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import type { MetadataImage, PartitionInfo, TopicInfo } from "../metadata/MetadataImage.ts"
import { NotLeaderOrFollower, UnknownTopicOrPartition } from "../Errors.ts"
import type { ClusterShape } from "../cluster/Cluster.ts"

/**
 * Whether a request for this partition reached a node that does not lead it (NOT_LEADER_OR_FOLLOWER): only in
 * a cluster of several nodes; a broker on its own leads everything it holds.
 */
export const notLeader = (cluster: ClusterShape, node: number, p: PartitionInfo | undefined): boolean =>
  cluster.nodeIds.length > 1 && p !== undefined && p.leader !== node

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

/** A partition the request's node must lead: else NotLeaderOrFollower (in a cluster of several nodes). */
export const lookupLedPartition = (image: MetadataImage, topic: string, partition: number, cluster: ClusterShape, node: number) =>
  Effect.flatMap(lookupPartition(image, topic, partition), (found) =>
    notLeader(cluster, node, found.partition) ? Effect.fail(new NotLeaderOrFollower({ topic, partition, node })) : Effect.succeed(found))

/** Authorized operations a client did not ask for, as Kafka encodes them. */
export const OPERATIONS_NOT_REQUESTED = -2147483648

/**
 * A partition as clients see it. A broker on its own leads everything it holds (whatever node id the log was
 * written under); in a cluster, a leader that is down answers LEADER_NOT_AVAILABLE.
 */
export const describePartition = (p: PartitionInfo, cluster: ClusterShape) => {
  if (cluster.nodeIds.length === 1) {
    const nodeId = cluster.nodeIds[0]!
    return { errorCode: ErrorCode.NONE, partitionIndex: p.index, leaderId: nodeId, leaderEpoch: p.leaderEpoch, replicaNodes: [nodeId], isrNodes: [nodeId], offlineReplicas: [] }
  }
  const live = cluster.live()
  const up = live.includes(p.leader)
  return {
    errorCode: up ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE,
    partitionIndex: p.index,
    leaderId: up ? p.leader : -1,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: [...p.replicas],
    isrNodes: p.isr.filter((n) => live.includes(n)),
    offlineReplicas: p.replicas.filter((n) => !live.includes(n))
  }
}
