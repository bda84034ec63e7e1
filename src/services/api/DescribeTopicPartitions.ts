// DescribeTopicPartitions v0: topics sorted by name (all topics when the list is empty), paged by
// `response_partition_limit` (capped at 2000 as Kafka's default `max.request.partition.size.limit`) and a
// cursor naming the first topic and partition to describe. Unknown topics answer error 3 with the zero id. Each
// topic tells the operations the principal may do on it (Kafka fills the field without being asked).
import { Effect } from "effect"
import { ZERO_UUID } from "../../protocol/Bytes.ts"
import { ErrorCode } from "../../protocol/ErrorCode.ts"
import { DescribeTopicPartitions } from "../../protocol/messages/DescribeTopicPartitions.ts"
import type { ResponseOf } from "../../protocol/Message.ts"
import { Cluster } from "../cluster/Cluster.ts"
import { ClusterMetadata } from "../metadata/ClusterMetadata.ts"
import { sortedTopics } from "../metadata/MetadataImage.ts"
import { Authorization, authorizedOperations } from "../auth/Authorization.ts"
import { AclOperation, ResourceType } from "../auth/Authorizer.ts"
import { handler } from "./Handler.ts"
import { describePartition, OPERATIONS_NOT_REQUESTED } from "./lookup.ts"

type TopicResponse = ResponseOf<typeof DescribeTopicPartitions>["topics"][number]

const MAX_PARTITIONS = 2000

export const make = handler(DescribeTopicPartitions, "0-0", (request, context) =>
  Effect.gen(function*() {
    const cluster = yield* Cluster.current
    const image = yield* (yield* ClusterMetadata).image
    // DESCRIBE on each topic: without it a topic is left out of a list of all, answered 29 when named.
    const check = yield* Authorization.current
    const denied = (name: string) => check.denied(context.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name)
    const names = request.topics.length === 0
      ? sortedTopics(image).map((t) => t.name).filter((name) => !denied(name))
      : [...new Set(request.topics.map((t) => t.name))].sort()
    const cursor = request.cursor
    let budget = Math.max(1, Math.min(request.responsePartitionLimit, MAX_PARTITIONS))
    let nextCursor: { topicName: string; partitionIndex: number } | null = null
    const topics: Array<TopicResponse> = []

    for (const name of names) {
      if (cursor !== null && name < cursor.topicName) continue
      const topic = denied(name) ? undefined : image.topics.get(name)
      if (topic === undefined) {
        topics.push({
          errorCode: denied(name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED
        })
        continue
      }
      if (budget === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 }
        break
      }
      const first = cursor !== null && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0
      const partitions = topic.partitions.slice(first, first + budget)
      budget -= partitions.length
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.id,
        isInternal: false,
        partitions: partitions.map((p) => ({ ...describePartition(p, cluster), eligibleLeaderReplicas: null, lastKnownElr: null })),
        topicAuthorizedOperations: authorizedOperations(check, context.connection, true, ResourceType.TOPIC, name)
      })
      const next = first + partitions.length
      if (next < topic.partitions.length) {
        nextCursor = { topicName: name, partitionIndex: next }
        break
      }
    }
    return { throttleTimeMs: 0, topics, nextCursor }
  }))
